"""Webhooks sent with `Transfer-Encoding: chunked` (issue 13): no Content-Length, the body de-chunked
by the WSGI server and ended by its stream. They were answered, stored empty and marked rejected:
the customer's message was lost. Now read to the stream's end, up to the same size limit.

Through Django's test client and the site's WSGI entry with such an environ, and through the real
server (granian, as `make demo` runs it) with a chunked request from http.client."""

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent, Message
from okno.inbox.tests.factories import make_channel
from okno.inbox.tests.wsgi_calls import Answer

ROOT = Path(__file__).resolve().parents[3]
OFFLINE = {"event_name": "offline_message", "widget_id": "1", "chat_id": 7, "offline_message_id": 99,
           "message": "Перезвоните мне, пожалуйста", "visitor": {"name": "Ольга", "phone": "+79161234567"}}
BODY = json.dumps(OFFLINE, ensure_ascii=False).encode()


def _chunked_environ(body: bytes) -> dict:
    """What granian hands over for a chunked request: no CONTENT_LENGTH, the body de-chunked, its
    stream ending with it (wsgi.input_terminated says so)."""
    return {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked",
            "CONTENT_TYPE": "application/json"}


@pytest.mark.django_db
def test_a_chunked_jivo_message_is_stored_whole_and_recorded(client):
    # given a Jivo channel
    channel = make_channel(kind="jivo", name="Jivo")
    # when Jivo posts a message chunked, with no Content-Length
    r = client.generic("POST", channel.webhook_path, b"", **_chunked_environ(BODY))
    # then it is acknowledged and stored whole
    assert r.status_code == 200, r.content
    event = InboundEvent.objects.get(channel=channel)
    assert bytes(event.body) == BODY and event.event_type == "offline_message"
    # and the worker records the customer's message
    inbound_drain()
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.DONE, event.error
    assert Message.objects.get().text == "Перезвоните мне, пожалуйста"


@pytest.mark.django_db
def test_a_chunked_body_over_the_limit_is_413_and_not_stored(client, settings):
    # given hook bodies limited to 100 bytes
    settings.OKNO_HOOK_MAX_BYTES = 100
    channel = make_channel(kind="form")
    # then a chunked body of 101 bytes is refused as the same body with a length would be
    r = client.generic("POST", channel.webhook_path, b"", **_chunked_environ(b"x" * 101))
    assert r.status_code == 413 and r.json() == {"detail": "Body over 100 bytes"}
    # while one of exactly 100 is taken
    assert client.generic("POST", channel.webhook_path, b"", **_chunked_environ(b"{}" + b" " * 98)).status_code == 200
    assert InboundEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_request_without_length_nor_chunks_reads_as_empty(client):
    # given a server that does not say its stream ends with the body (Django's runserver)
    channel = make_channel(kind="form")
    environ = _chunked_environ(b"name=x")
    del environ["wsgi.input_terminated"], environ["HTTP_TRANSFER_ENCODING"]
    # then nothing is read past the (absent) length, as before: an empty form, kept and rejected later
    assert client.generic("POST", channel.webhook_path, b"", **environ).status_code == 200
    assert bytes(InboundEvent.objects.get().body) == b""


@pytest.mark.django_db(transaction=True)
def test_a_chunked_form_through_the_sites_wsgi_entry():
    from okno.wsgi import application

    # given a form channel, and the site's WSGI callable (the /hooks/ fast path below Django)
    channel = make_channel()
    body = "name=Ольга&phone=%2B79161234567".encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": channel.webhook_path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        **_chunked_environ(body), "CONTENT_TYPE": "application/x-www-form-urlencoded",
    }
    answer = Answer(status=0)

    def start_response(status, headers, exc_info=None):
        answer.status = int(status[:3])

    # when a chunked form arrives
    answer.body = b"".join(application(environ, start_response))
    # then it is stored whole
    assert answer.status == 200, answer.body
    assert bytes(InboundEvent.objects.get(channel=channel).body) == body


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def granian_url():
    """The site served by granian as scripts/demo.sh starts it, on the test database."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "CONN_MAX_AGE": "0"}
    granian = Path(sys.executable).parent / "granian"
    server = subprocess.Popen([str(granian), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "1", "--no-ws", "okno.wsgi:application"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, "granian exited"
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_webhook_over_real_http(granian_url, settings):
    # given a Jivo channel and the real server
    channel = make_channel(kind="jivo", name="Jivo")
    # when Jivo's message arrives in three chunks, with no Content-Length
    conn = http.client.HTTPConnection("127.0.0.1", granian_url, timeout=30)
    chunks = [BODY[:10], BODY[10:50], BODY[50:]]
    conn.request("POST", channel.webhook_path, body=iter(chunks), encode_chunked=True,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    # then it is acknowledged and stored whole, not empty
    assert r.status == 200, r.read()
    assert json.loads(r.read()) == {"result": "ok"}
    event = InboundEvent.objects.get(channel=channel)
    assert bytes(event.body) == BODY and event.event_type == "offline_message"
    # and a chunked body over the limit is 413, stored nowhere
    too_big = b"x" * (settings.OKNO_HOOK_MAX_BYTES + 1)
    conn.request("POST", channel.webhook_path, body=iter([too_big[:1000], too_big[1000:]]), encode_chunked=True,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 413 and r.read() == b'{"detail": "Body over %d bytes"}' % settings.OKNO_HOOK_MAX_BYTES
    assert InboundEvent.objects.count() == 1
    conn.close()
