"""Replayed Zadarma events (issue 13): Zadarma signs `caller_id`, `called_did` (or `destination`,
`internal`) and `call_start`, never `pbx_call_id`, so a captured event re-sent with another
`pbx_call_id` made a second call. Now a signed event is refused outside a freshness window of its
`call_start`, and its signature is bound to the first call it came with. Refused events are kept
(rejected, with the reason): a wrong time zone setting loses nothing."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.telephony.adapters import zadarma as zadarma_adapter
from okno.telephony.adapters.zadarma import zadarma_signature
from okno.telephony.models import Call

SECRET = "zadarma-api-secret"
START = "2026-12-03 16:00:00"  # Moscow time: 13:00 UTC
T0 = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
CALLER = {"caller_id": "+79001234567", "called_did": "+74951234567"}


@pytest.fixture
def clock(monkeypatch):
    """The freshness window's clock, set by the test."""
    now = {"at": T0}
    monkeypatch.setattr(zadarma_adapter, "current_time", lambda: now["at"])
    return now


@pytest.fixture
def zadarma(db):
    return make_channel(kind="zadarma", name="Zadarma", settings={"api_secret": SECRET})


def notify(client, channel, event: str, *, call_id: str = "in_1", **fields):
    data = {"event": event, "call_start": START, "pbx_call_id": call_id, **fields}
    return client.post(channel.webhook_path, data=urlencode(data), content_type="application/x-www-form-urlencoded",
                       headers={"Signature": zadarma_signature(SECRET, data, event)})


def test_a_signed_start_replayed_with_another_call_id_is_refused_and_kept(zadarma, client, clock):
    # given a call that started a minute ago, reported by Zadarma
    clock["at"] = T0 + timedelta(minutes=1)
    assert notify(client, zadarma, "NOTIFY_START", call_id="in_1", **CALLER).status_code == 200
    # when someone re-sends the same signed fields with another pbx_call_id, inside the window
    r = notify(client, zadarma, "NOTIFY_START", call_id="in_forged", **CALLER)
    # then it is refused, and kept rejected with the reason
    assert r.status_code == 403
    assert r.json()["detail"] == "Signature already used by call 'in_1', not 'in_forged': a replay"
    forged = InboundEvent.objects.get(status=InboundEvent.Status.REJECTED)
    assert "in_forged" in bytes(forged.body).decode() and "a replay" in forged.error
    # and the worker makes one call, not two
    inbound_drain()
    assert list(Call.objects.values_list("pbx_call_id", flat=True)) == ["in_1"]


def test_the_calls_own_later_events_share_its_signature_and_pass(zadarma, client, clock):
    # given a call's start, then its ring, answer and end, the end 30 minutes later
    clock["at"] = T0 + timedelta(seconds=5)
    assert notify(client, zadarma, "NOTIFY_START", **CALLER).status_code == 200
    assert notify(client, zadarma, "NOTIFY_INTERNAL", internal="101", **CALLER).status_code == 200
    assert notify(client, zadarma, "NOTIFY_ANSWER", internal="101", caller_id=CALLER["caller_id"],
                  destination="101").status_code == 200
    clock["at"] = T0 + timedelta(minutes=30)
    assert notify(client, zadarma, "NOTIFY_END", internal="101", duration="1800", disposition="answered",
                  **CALLER).status_code == 200
    # then all are taken, and make one call
    inbound_drain()
    assert InboundEvent.objects.filter(status=InboundEvent.Status.DONE).count() == 4
    assert Call.objects.get().talk_seconds is not None


@pytest.mark.parametrize(("event", "late", "taken"), [
    ("NOTIFY_START", timedelta(minutes=10), True),
    ("NOTIFY_START", timedelta(minutes=10, seconds=1), False),
    ("NOTIFY_OUT_START", timedelta(minutes=11), False),
    ("NOTIFY_END", timedelta(hours=4, minutes=10), True),
    ("NOTIFY_END", timedelta(hours=4, minutes=10, seconds=1), False),
    ("NOTIFY_START", timedelta(minutes=-2), True),  # our clock 2 minutes behind Zadarma's
    ("NOTIFY_END", timedelta(minutes=-2, seconds=-1), False),
], ids=["start at 10 min", "start after 10 min", "outbound start after 11 min", "end at 4 h 10 min",
        "end after 4 h 10 min", "start 2 min ahead", "end over 2 min ahead"])
def test_the_freshness_window_of_call_start(zadarma, client, clock, event, late, taken):
    # given our clock `late` after the call's start
    clock["at"] = T0 + late
    fields = {"internal": "101", "destination": "+79161234567"} if "OUT" in event else CALLER
    # when a signed event of that call arrives
    r = notify(client, zadarma, event, duration="60", **fields)
    # then it is taken inside the window; outside it is refused, kept rejected with the reason
    event_row = InboundEvent.objects.get()
    if taken:
        assert r.status_code == 200 and event_row.status == InboundEvent.Status.RECEIVED
    else:
        assert r.status_code == 403 and event_row.status == InboundEvent.Status.REJECTED
        assert "outside the window" in r.json()["detail"] and "timezone" in event_row.error


def test_a_wrong_timezone_setting_is_named_in_the_refusal(db, client, clock):
    # given a channel set to Kaliningrad while the account's calls are dated in Moscow time
    channel = make_channel(kind="zadarma", settings={"api_secret": SECRET, "timezone": "Europe/Kaliningrad"})
    clock["at"] = T0 + timedelta(seconds=10)
    r = notify(client, channel, "NOTIFY_START", **CALLER)
    # then the call reads an hour ahead, and the refusal says what to check
    assert r.status_code == 403
    assert r.json()["detail"] == ("NOTIFY_START's call_start 2026-12-03 16:00:00 (Europe/Kaliningrad) is 60 min ahead "
                                  "of our clock, outside the window of 10 min: a stale or replayed event, or the "
                                  "channel's timezone is wrong")


def test_a_recording_event_signs_its_call_and_carries_no_time(zadarma, client, clock):
    # given NOTIFY_RECORD a day after the call (it signs pbx_call_id and the recording's id)
    clock["at"] = T0 + timedelta(days=1)
    r = notify(client, zadarma, "NOTIFY_RECORD", call_id="in_1", call_id_with_rec="1.2")
    # then it is taken: its call cannot be changed without breaking the signature
    assert r.status_code == 200
    assert notify(client, zadarma, "NOTIFY_RECORD", call_id="in_2", call_id_with_rec="1.2",
                  ).status_code == 200  # signed for in_2: another event, not a forgery


def test_refused_replays_count_as_refusals_of_the_address(zadarma, client, clock, settings):
    # given two refusals a minute allowed per address
    settings.OKNO_HOOK_REFUSALS_PER_MINUTE = 2
    clock["at"] = T0 + timedelta(hours=5)
    # when an address replays an old signed event with four call ids
    answers = [notify(client, zadarma, "NOTIFY_END", call_id=f"in_{i}", duration="60", **CALLER).status_code
               for i in range(4)]
    # then two are refused and kept, the rest are 429 and not kept
    assert answers == [403, 403, 429, 429]
    assert InboundEvent.objects.filter(status=InboundEvent.Status.REJECTED).count() == 2
