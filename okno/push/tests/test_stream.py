"""The push stream: Server-Sent Events to the signed-in user's tabs, under ASGI and WSGI."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.test import Client

from okno.people.tests.factories import UserFactory
from okno.push.asgi import application
from okno.push.models import Push
from okno.push.services import Delivery, push_send, pushes_forget_old

pytestmark = pytest.mark.django_db(transaction=True)


def test_push_is_sent_once_per_user_kind_and_key(db):
    ann, bob = UserFactory(), UserFactory()
    assert push_send(user_ids=[ann.pk, bob.pk, ann.pk], kind="screen_pop", key="7", payload={"a": 1}) == 2
    push_send(user_ids=[ann.pk], kind="screen_pop", key="7", payload={"a": 2})
    assert Push.objects.count() == 2


def test_frame_is_server_sent_events_with_an_id():
    frame = Delivery(id=5, user_id=1, kind="screen_pop", payload={"number": "+7 916 123-45-67"}).as_sse()
    assert frame == b'id: 5\nevent: screen_pop\ndata: {"number":"+7 916 123-45-67"}\n\n'


def test_anonymous_stream_is_refused():
    assert Client().get("/push/stream").status_code == 401


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _open_stream(cookie: str, *, then=None, origin: str = "") -> list[dict]:
    """Runs the push process's ASGI app for one stream: `then(messages)` acts while it is open,
    after which the page goes away; returns what the app sent."""
    sent: list[dict] = []
    gone = asyncio.Event()

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():  # as a server does: the (empty) body first, the disconnect when it comes
        if requests:
            return requests.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def scenario():
        headers = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
        if origin:
            headers.append((b"origin", origin.encode()))
        app = asyncio.ensure_future(application({"type": "http", "path": "/push/stream", "headers": headers},
                                                receive, send))
        if then is not None:
            await then(sent)
        gone.set()
        await asyncio.wait_for(app, timeout=5)

    async_to_sync(scenario)()
    return sent


def _bodies(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def _until(sent: list[dict], needle: bytes, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while needle not in _bodies(sent):
        assert asyncio.get_running_loop().time() < deadline, f"{needle!r} never came: {_bodies(sent)!r}"
        await asyncio.sleep(0.01)


def test_push_process_streams_only_the_users_own_pushes_as_they_come(settings):
    settings.OKNO_PUSH_POLL_SECONDS = 0.02
    ann, bob = UserFactory(), UserFactory()

    async def while_open(sent):
        await _until(sent, b"retry: 1000")
        # after the stream is open, a pop for bob and one for ann
        await sync_to_async(push_send)(user_ids=[bob.pk], kind="screen_pop", key="1", payload={"who": "bob"})
        await sync_to_async(push_send)(user_ids=[ann.pk], kind="screen_pop", key="2", payload={"who": "ann"})
        await _until(sent, b'"who":"ann"')

    sent = _open_stream(_session_cookie(ann), then=while_open, origin="http://127.0.0.1:8000")
    start = sent[0]
    assert start["status"] == 200 and (b"content-type", b"text/event-stream") in start["headers"]
    assert b"event: screen_pop" in _bodies(sent) and b"bob" not in _bodies(sent)


def test_push_process_refuses_a_page_without_a_valid_session():
    assert _open_stream("no-such-session")[0]["status"] == 401
    # a session whose user changed their password since is over too
    ann = UserFactory()
    cookie = _session_cookie(ann)
    ann.set_password("a new one, 2026")
    ann.save()
    assert _open_stream(cookie)[0]["status"] == 401


def test_reconnect_with_last_event_id_replays_what_was_missed():
    ann = UserFactory()
    push_send(user_ids=[ann.pk], kind="screen_pop", key="1", payload={"n": 1})
    seen = Push.objects.get().pk
    push_send(user_ids=[ann.pk], kind="screen_pop", key="2", payload={"n": 2})
    client = Client()
    client.force_login(ann)
    response = client.get("/push/stream", headers={"Last-Event-ID": str(seen)})
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"retry: 1000\n\n"
    assert b'"n":2' in next(chunks)
    response.close()


def test_wsgi_stream_polls_for_new_pushes(settings):
    settings.OKNO_PUSH_POLL_SECONDS = 0.02
    ann = UserFactory()
    client = Client()
    client.force_login(ann)
    response = client.get("/push/stream")
    chunks = iter(response.streaming_content)
    next(chunks)
    push_send(user_ids=[ann.pk], kind="screen_pop", key="9", payload={"n": 9})
    assert b'"n":9' in next(chunks)
    response.close()


def test_the_site_origin_may_read_the_stream_from_another_port(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/push/stream", headers={"Origin": "http://127.0.0.1:8000", "Last-Event-ID": "0"})
    assert response["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    assert response["Access-Control-Allow-Credentials"] == "true"
    response.close()
    other = client.get("/push/stream", headers={"Origin": "http://evil.example", "Last-Event-ID": "0"})
    assert not other.has_header("Access-Control-Allow-Origin")
    other.close()


def test_asgi_application_answers_the_lifespan_protocol():
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    async_to_sync(application)({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_old_pushes_are_forgotten(db):
    ann = UserFactory()
    push_send(user_ids=[ann.pk], kind="screen_pop", key="1", payload={})
    Push.objects.update(created_at="2020-01-01T00:00:00Z")
    push_send(user_ids=[ann.pk], kind="screen_pop", key="2", payload={})
    assert pushes_forget_old() == 1 and Push.objects.count() == 1
