"""The AMI listener under trouble: a connection dropped mid-event, a wrong secret, a PBX that stops
answering, a second listener on the same PBX, a database that fails for a moment, and SIGTERM."""

import logging
import os
import signal
import threading
import time

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from okno.core.bulk import insert_rows
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import UserFactory
from okno.telephony import ami_listener
from okno.telephony.ami_listener import AmiListener
from okno.telephony.models import Call, PbxExtension
from okno.telephony.tests.ami_server import AmiReplayServer, transcript
from okno.telephony.tests.test_asterisk import FAST, drain, listen, pbx, sales, server  # noqa: F401

KEPT = 10  # events of the answered transcript the listener keeps


def stored(channel) -> list[str]:
    return list(InboundEvent.objects.filter(channel=channel).order_by("pk").values_list("dedup_key", flat=True))


def test_a_connection_dropped_mid_event_is_resumed_and_nothing_is_lost_or_doubled(pbx, sales):  # noqa: F811
    # given a PBX that drops the connection halfway through the 8th event, and on the next
    # session sends the last 3 events it had sent again
    PbxExtension.objects.create(channel=pbx, code="101", user=UserFactory(department=sales))
    with AmiReplayServer(transcript("answered"), drop_after=7, overlap=3) as server:  # noqa: F811
        pbx.settings = server.settings()
        # when the listener reads it
        listener = listen(pbx, server)
    # then it logged in again after the first wait, and every kept event is stored exactly once
    assert (server.sessions, listener.sessions, list(listener.delays)) == (2, 2, [FAST.first])
    keys = stored(pbx)
    assert len(keys) == KEPT and len(set(keys)) == KEPT
    drain()
    call = Call.objects.get()
    assert (call.outcome, call.wait_seconds, call.talk_seconds, call.legs.count()) == ("answered", 5, 60, 1)


def test_a_wrong_secret_stores_nothing_says_so_and_retries_with_back_off(pbx, caplog):  # noqa: F811
    # given a PBX that knows another secret (it stops the test after the 4th try)
    with AmiReplayServer(transcript("answered"), secret="other", login_limit=4) as server:  # noqa: F811
        pbx.settings = server.settings(secret="wrong")
        waits = []
        # when the listener tries (its waits recorded instead of slept)
        with caplog.at_level(logging.WARNING, logger="okno.telephony.ami_listener"):
            listener = AmiListener(pbx, stop=server.done, backoff=FAST, sleep=waits.append)
            listener.run()
    # then nothing is stored, the log says why, and the waits doubled up to the ceiling
    assert not InboundEvent.objects.exists() and listener.sessions == 0
    assert server.logins == [("okno", False)] * 4
    assert waits == [0.01, 0.02, 0.04]
    refused = [r for r in caplog.records if "login refused" in r.getMessage()]
    assert len(refused) == 4 and refused[0].levelname == "ERROR"
    assert "Authentication failed" in refused[0].getMessage() and f"127.0.0.1:{server.port}" in refused[0].getMessage()


def test_an_unreachable_pbx_is_retried_with_back_off(pbx, caplog):  # noqa: F811
    # given nothing listens on the channel's port
    with AmiReplayServer() as server:  # noqa: F811
        port = server.port
    pbx.settings = {**pbx.settings, "port": port}
    stop = threading.Event()
    waits = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 6:
            stop.set()

    AmiListener(pbx, stop=stop, backoff=FAST, sleep=wait).run()
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.04, 0.04]
    assert "cannot reach" in caplog.text


def test_a_pbx_that_stops_answering_is_pinged_then_dropped_and_reconnected(pbx, caplog):  # noqa: F811
    # given a PBX that sends nothing and never answers a Ping (it stops the test at the 2nd login)
    with AmiReplayServer([], answer_pings=False, login_limit=2) as server:  # noqa: F811
        pbx.settings = server.settings()
        listener = AmiListener(pbx, stop=server.done, backoff=FAST, ping_seconds=0.1)
        thread = threading.Thread(target=listener.run, daemon=True)
        thread.start()
        thread.join(timeout=10)
    # then the silent session was pinged, given up, and a new one logged in
    assert [a["Action"] for a in server.actions][:2] == ["Login", "Ping"]
    assert len(server.logins) == 2 and "no answer to Ping" in caplog.text


def test_a_second_listener_on_the_same_pbx_stores_nothing_twice(pbx):  # noqa: F811
    # given two listeners (two machines) reading the same PBX, one after the other here
    for _ in range(2):
        with AmiReplayServer(transcript("answered")) as server:  # noqa: F811
            pbx.settings = server.settings()
            listen(pbx, server)
    # then each event is stored once
    assert len(stored(pbx)) == KEPT


def test_events_wait_for_a_database_that_failed_for_a_moment(pbx, server, monkeypatch, caplog):  # noqa: F811
    # given the database refuses the first write
    server.packets = transcript("answered")
    failures = []

    def flaky(model, rows, **kwargs):
        if not failures:
            failures.append(len(rows))
            raise OperationalError("database is locked")
        return insert_rows(model, rows, **kwargs)

    monkeypatch.setattr(ami_listener, "insert_rows", flaky)
    listen(pbx, server)
    # then the events were kept and stored once it worked again
    assert failures and len(stored(pbx)) == KEPT
    assert "storing" in caplog.text and "kept, retrying" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_run_ami_listens_to_each_active_asterisk_channel_and_stops_on_sigterm(settings):
    # given an active Asterisk channel and one switched off
    with AmiReplayServer(transcript("answered")) as server:  # noqa: F811
        live = make_channel(kind="asterisk", name="Asterisk", settings=server.settings())
        make_channel(kind="asterisk", name="Old", settings=server.settings(port=1), is_active=False)

        def terminate_once_stored():
            deadline = time.monotonic() + 15
            try:
                while InboundEvent.objects.filter(channel=live).count() < KEPT and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                connection.close()  # this thread's own
            os.kill(os.getpid(), signal.SIGTERM)

        killer = threading.Thread(target=terminate_once_stored, daemon=True)
        previous = signal.getsignal(signal.SIGTERM)
        killer.start()
        # when run_ami runs until SIGTERM
        started = time.monotonic()
        call_command("run_ami", "--reload-seconds", "0.2", verbosity=0)
        killer.join(timeout=5)
    # then it stored the live channel's events, logged off, and gave the signal back
    assert InboundEvent.objects.filter(channel=live).count() == KEPT
    assert [a["Action"] for a in server.actions] == ["Login", "Logoff"]
    assert time.monotonic() - started < 10 and signal.getsignal(signal.SIGTERM) == previous
