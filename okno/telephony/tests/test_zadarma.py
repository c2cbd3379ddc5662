"""Zadarma webhooks end to end (PROTOCOLS.md section 4b): the zd_echo check, signed NOTIFY_*
posts stored before acknowledgement and folded into one Call per pbx_call_id."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.adapters import zadarma as zadarma_adapter
from okno.telephony.adapters.zadarma import zadarma_signature
from okno.telephony.calls import callbacks_drain
from okno.telephony.models import Call, PbxExtension
from okno.work.models import WorkItem


def drain() -> None:
    """The worker's inbound drain, then its callbacks drain (these calls ended long ago)."""
    inbound_drain()
    callbacks_drain()

SECRET = "zadarma-api-secret"
START = "2024-01-01 10:00:00"  # Moscow time: 07:00 UTC
T0 = datetime(2024, 1, 1, 7, 0, tzinfo=UTC)


@pytest.fixture
def zadarma(db, monkeypatch):
    # The freshness window's clock a minute into these calls (they start at START).
    monkeypatch.setattr(zadarma_adapter, "current_time", lambda: T0 + timedelta(minutes=1))
    return make_channel(kind="zadarma", name="Zadarma", department=DepartmentFactory(name="Продажи"),
                        settings={"api_secret": SECRET})


def notify(client, channel, event: str, *, secret: str = SECRET, received: int | None = None, **fields):
    data = {"event": event, "call_start": START, "pbx_call_id": "in_abc123", **fields}
    r = client.post(channel.webhook_path, data=urlencode(data), content_type="application/x-www-form-urlencoded",
                    headers={"Signature": zadarma_signature(secret, data, event)})
    if received is not None:  # Zadarma's events are dated when they reach us
        InboundEvent.objects.filter(pk=InboundEvent.objects.latest("pk").pk).update(
            received_at=T0 + timedelta(seconds=received))
    return r


def test_signature_matches_the_vendors_formula():
    data = {"caller_id": "+79001234567", "called_did": "+74951234567", "call_start": "2024-01-01 10:00:00"}
    # the sanity vector PROTOCOLS.md computed from the vendor's PHP
    expected = "MWYyODJiNTcwYTQ4ZDQxZWUyZDk0N2I4YjgwYjBjNzY5ODI4ZWFlOQ=="
    assert zadarma_signature("secret", data, "NOTIFY_START") == expected


def test_the_url_check_echoes_zd_echo(zadarma, client):
    r = client.get(zadarma.webhook_path, {"zd_echo": "a1b2c3"})
    assert r.status_code == 200 and r.content == b"a1b2c3"
    assert not InboundEvent.objects.exists()


def test_an_answered_inbound_call(zadarma, client):
    manager = UserFactory(department=zadarma.department)
    PbxExtension.objects.create(channel=zadarma, code="101", user=manager)
    caller = {"caller_id": "+79001234567", "called_did": "+74951234567"}
    assert notify(client, zadarma, "NOTIFY_START", received=1, **caller).status_code == 200
    notify(client, zadarma, "NOTIFY_INTERNAL", received=5, internal="101", **caller)
    notify(client, zadarma, "NOTIFY_ANSWER", received=12, internal="101", caller_id="+79001234567", destination="101")
    notify(client, zadarma, "NOTIFY_END", received=66, internal="101", duration="65", disposition="answered",
           status_code="16", is_recorded="1", call_id_with_rec="1704092400.123", **caller)
    notify(client, zadarma, "NOTIFY_RECORD", call_id_with_rec="1704092400.123")
    drain()
    call = Call.objects.get()
    assert (call.direction, call.customer_number, call.line, call.employee) == ("in", "+79001234567", "+74951234567",
                                                                                manager)
    assert (call.started_at, call.answered_at, call.ended_at) == (T0, T0 + timedelta(seconds=12),
                                                                 T0 + timedelta(seconds=65))
    assert (call.wait_seconds, call.talk_seconds, call.outcome, call.recording_id) == (12, 53, "answered",
                                                                                       "1704092400.123")


def test_busy_inbound_and_unanswered_outbound(zadarma, client):
    caller = {"caller_id": "+79001234567", "called_did": "+74951234567"}
    notify(client, zadarma, "NOTIFY_END", internal="101", duration="3", disposition="busy", **caller)
    out = {"pbx_call_id": "out_1", "internal": "101", "destination": "+79161234567"}
    notify(client, zadarma, "NOTIFY_OUT_START", **out)
    notify(client, zadarma, "NOTIFY_OUT_END", duration="30", disposition="no answer", caller_id="101", **out)
    drain()
    busy, unanswered = Call.objects.get(pbx_call_id="in_abc123"), Call.objects.get(pbx_call_id="out_1")
    assert (busy.outcome, busy.unmatched_extension) == ("busy", "101")
    assert WorkItem.objects.get().number == "+79001234567"  # a busy line still owes a callback
    assert (unanswered.direction, unanswered.outcome, unanswered.customer_number) == ("out", "missed",
                                                                                      "+79161234567")


def test_wrong_signature_is_refused_and_nothing_stored(zadarma, client):
    r = notify(client, zadarma, "NOTIFY_START", secret="wrong", caller_id="+79001234567", called_did="1")
    assert r.status_code == 403 and not InboundEvent.objects.exists()
    notify(client, zadarma, "NOTIFY_SOMETHING_NEW")
    drain()
    assert InboundEvent.objects.get().status == "unknown"
