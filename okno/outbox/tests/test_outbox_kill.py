"""kill -9 of a real worker process, twice, while it sends: e-mails counted at a sink and webhooks at a
receiver: none lost, and every repeat carries the key it was first sent with (none doubled for a
receiver that keeps the keys it has seen, as Standard Webhooks asks)."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from okno.core import events
from okno.outbox.drain import message_id_header
from okno.outbox.models import OutboxMessage
from okno.outbox.services import outbox_email
from okno.outbox.tests.factories import make_endpoint
from okno.outbox.tests.servers import LocalServer, Recorder

ROOT = Path(__file__).resolve().parents[3]
WEBHOOKS, EMAILS = 150, 50


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(sink: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "okno.outbox.tests.worker_settings",
           "OKNO_TEST_MAIL_SINK": str(sink), "CONN_MAX_AGE": "0"}
    return subprocess.Popen([sys.executable, "manage.py", "run_worker", "--only", "outbox"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_kill_9_twice_loses_nothing_and_repeats_only_under_the_same_key(tmp_path):
    # given a receiver that takes 10 ms a request, and 150 webhooks and 50 e-mails waiting
    recorder = Recorder(lambda r: (time.sleep(0.01), (200, "ok", {}))[1])
    sink = tmp_path / "mail.txt"
    sink.touch()
    with LocalServer(recorder) as server:
        make_endpoint(server.url + "/h", events=["deal.created"])
        for i in range(WEBHOOKS):
            events.publish("deal.created", subject=None, data={"deal_id": i})
        for i in range(EMAILS):
            outbox_email(to=f"c{i}@example.ru", subject=f"Заказ {i}", body="Принят", key=f"kill-test-{i}")

        def received() -> int:
            return len(recorder.requests) + len(sink.read_text().splitlines())

        # when a worker is killed with SIGKILL mid-send, twice
        for share in (1, 2):
            worker = _worker(sink)
            try:
                assert _wait(lambda s=share: received() >= s * (WEBHOOKS + EMAILS) // 3, 60), "the worker sent nothing"
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
        # and a last worker finishes what is left once the killed ones' leases ran out
        worker = _worker(sink)
        try:
            done = _wait(lambda: not OutboxMessage.objects.exclude(status="sent").exists(), 90)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
    assert done, list(OutboxMessage.objects.exclude(status="sent").values_list("status", "last_error")[:5])
    # then nothing was lost: every webhook and e-mail arrived
    hooks = Counter(r["headers"]["webhook-id"] for r in recorder.requests)
    mails = Counter(sink.read_text().splitlines())
    assert set(hooks) == set(OutboxMessage.objects.filter(kind="webhook").values_list("key", flat=True))
    assert set(mails) == {message_id_header(f"kill-test-{i}") for i in range(EMAILS)}
    # and a repeat, if any, came under the same key, with the same body (a receiver drops it)
    bodies = {}
    for r in recorder.requests:
        assert bodies.setdefault(r["headers"]["webhook-id"], r["body"]) == r["body"]
    repeats = sum(n - 1 for n in hooks.values()) + sum(n - 1 for n in mails.values())
    print(f"kill -9 twice: {len(hooks)} webhooks, {len(mails)} e-mails, {repeats} repeats under the same key")
