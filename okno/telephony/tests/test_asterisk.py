"""Asterisk over AMI end to end: the real listener reads a replayed AMI session (transcripts in
ami_transcripts/, PROTOCOLS.md 3b), stores the call-flow events, and the inbox drain makes one
Call per Linkedid with a leg per employee channel."""

import random
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from okno.contacts.models import Contact
from okno.deals.models import Lead
from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.ami_listener import AmiListener, Backoff
from okno.telephony.models import Call, PbxExtension
from okno.telephony.tests.ami_server import AmiReplayServer, transcript

FAST = Backoff(first=0.01, most=0.04, stable_seconds=60)


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def server():
    with AmiReplayServer() as s:
        yield s


@pytest.fixture
def pbx(sales, server):
    return make_channel(kind="asterisk", name="Asterisk", department=sales, settings=server.settings())


def listen(channel, server: AmiReplayServer, **options) -> AmiListener:
    """Runs the real listener in this thread (its rows go into the test's transaction) until the
    server has sent everything and the listener has read and stored it."""
    guard = threading.Timer(15, server.done.set)  # a hung test fails instead of hanging
    guard.start()
    try:
        listener = AmiListener(channel, stop=server.done, backoff=FAST, **options)
        listener.run()
    finally:
        guard.cancel()
    return listener


def drain() -> None:
    while inbound_drain():
        pass


def replay(channel, *names: str) -> None:
    """The transcripts through the listener from a server of their own, then the drain."""
    with AmiReplayServer([p for name in names for p in transcript(name)]) as server:
        channel.settings = server.settings()
        listen(channel, server)
    drain()


def employee(channel, code: str, department):
    user = UserFactory(department=department)
    PbxExtension.objects.create(channel=channel, code=code, user=user)
    return user


def legs(call: Call) -> list[tuple]:
    return [(leg.leg_id, leg.extension, leg.answered_at, leg.ended_at, leg.outcome)
            for leg in call.legs.order_by("leg_id")]


def test_an_answered_call_is_stored_first_then_made_into_one_call(pbx, sales, server):
    # given extension 101 is a manager of the line's department
    manager = employee(pbx, "101", sales)
    server.packets = transcript("answered")
    # when the listener reads the PBX
    listener = listen(pbx, server)
    # then the call-flow events are stored before anything else, the chatty rest is not
    kept = list(InboundEvent.objects.filter(channel=pbx).order_by("pk").values_list("event_type", flat=True))
    assert kept == ["Newchannel", "Newchannel", "DialBegin", "DialEnd", "Newstate", "BridgeEnter", "BridgeEnter",
                    "Hangup", "Hangup", "Cdr"]
    assert listener.sessions == 1 and server.logins == [("okno", True)]
    assert server.actions[-1]["Action"] == "Logoff"
    assert not Call.objects.exists()
    drain()
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"done"}
    # and one call: 5 s of ringing, 60 s of talk, with the manager who answered
    call = Call.objects.get()
    t0 = 1705314600
    assert (call.pbx_call_id, call.direction, call.customer_number, call.line) == (
        "1705314600.1", "in", "+79161234567", "74951234567")
    assert (call.started_at, call.answered_at, call.ended_at) == (at(t0), at(t0 + 5.01), at(t0 + 65.03))
    assert (call.wait_seconds, call.talk_seconds, call.outcome) == (5, 60, "answered")
    assert call.employee == manager and call.department == sales and call.unmatched_extension == ""
    assert legs(call) == [("1705314600.2", "101", at(t0 + 5.01), at(t0 + 65.03), "answered")]
    # on a new card found by the number, with a lead and no callback
    contact = Contact.objects.get(phones__e164="+79161234567")
    assert call.contact == contact and Lead.objects.get(contact=contact).channel == pbx
    assert call.callback_due is False


def test_a_missed_call_of_an_unknown_extension_is_kept_without_an_employee_and_owes_a_callback(pbx):
    # given nobody has extension 101 on this PBX
    replay(pbx, "missed")
    call = Call.objects.get()
    t0 = 1705315200
    assert (call.direction, call.outcome, call.employee, call.unmatched_extension) == ("in", "missed", None, "101")
    assert (call.started_at, call.answered_at, call.ended_at) == (at(t0), None, at(t0 + 21))
    assert (call.wait_seconds, call.talk_seconds) == (21, 0)
    assert legs(call) == [("1705315200.12", "101", None, at(t0 + 20.01), "missed")]
    assert call.callback_due is True and call.contact.phones.get().e164 == "+79161234567"


def test_ivr_then_answered_waits_until_a_person_answers(pbx, sales):
    # given extension 102
    manager = employee(pbx, "102", sales)
    replay(pbx, "ivr_answered")
    call = Call.objects.get()
    t0 = 1705315800
    # then the PBX answering (the menu) is not the answer: the wait runs until 102 picked up
    assert (call.answered_at, call.wait_seconds, call.talk_seconds) == (at(t0 + 18.01), 18, 120)
    assert (call.outcome, call.employee, call.line) == ("answered", manager, "74951234567")
    assert legs(call) == [("1705315800.22", "102", at(t0 + 18.01), at(t0 + 138.005), "answered")]
    assert any(f["kind"] == "ivr" and f["at"] == at(t0 + 0.5).isoformat() for f in call.facts)


def test_a_transferred_call_keeps_both_legs_and_the_first_to_answer(pbx, sales):
    # given extensions 101 and 102
    first, second = employee(pbx, "101", sales), employee(pbx, "102", sales)
    replay(pbx, "transferred")
    call = Call.objects.get()
    t0 = 1705316400
    # then one call: the customer talked from 101's answer to their own hangup
    assert (call.answered_at, call.ended_at, call.wait_seconds, call.talk_seconds) == (
        at(t0 + 4), at(t0 + 100.01), 4, 96)
    assert call.outcome == "answered" and call.employee == first
    assert legs(call) == [("1705316400.32", "101", at(t0 + 4), at(t0 + 34.1), "answered"),
                          ("1705316400.33", "102", at(t0 + 40), at(t0 + 100.01), "answered")]
    assert call.legs.get(leg_id="1705316400.33").employee == second


def test_a_busy_extension_makes_a_busy_call(pbx, sales):
    manager = employee(pbx, "101", sales)
    replay(pbx, "busy")
    call = Call.objects.get()
    assert (call.outcome, call.employee, call.wait_seconds, call.talk_seconds) == ("busy", manager, 3, 0)
    assert legs(call)[0][1:] == ("101", None, at(1705317000.51), "busy")
    assert call.callback_due is True  # the customer reached nobody


def test_an_outbound_call_from_an_extension(pbx, sales):
    manager = employee(pbx, "101", sales)
    replay(pbx, "outbound")
    call = Call.objects.get()
    assert (call.direction, call.customer_number, call.employee, call.outcome) == (
        "out", "+79161234567", manager, "answered")
    assert (call.wait_seconds, call.talk_seconds) == (9, 60)
    assert [leg[:2] for leg in legs(call)] == [("1705317600.51", "101")]
    assert not Lead.objects.exists()  # we called them: no inbound lead


def test_an_old_asterisk_event_without_linkedid_is_its_own_call_dated_when_it_was_read(pbx, sales, server):
    # given a listener whose clock reads 12:00:00 (the event has no Timestamp)
    noon = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
    server.packets = transcript("old_hangup")
    listen(pbx, server, now=lambda: noon)
    assert InboundEvent.objects.get().received_at == noon
    drain()
    # then the channel's Uniqueid stands for the call, dated by its receipt
    call = Call.objects.get()
    assert (call.pbx_call_id, call.ended_at, call.direction, call.customer_number) == (
        "1487595974.304", noon, "out", "+79020074630")
    assert (call.unmatched_extension, call.outcome) == ("1004", "missed")


def test_without_timestamps_events_are_dated_as_they_were_read(pbx, sales, server):
    # given events without `Timestamp:` (timestampevents off), read one second apart
    employee(pbx, "101", sales)
    server.packets = [re.sub(rb"Timestamp: [0-9.]+\r\n", b"", p) for p in transcript("answered")]
    noon = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
    clock = iter(noon + timedelta(seconds=i) for i in range(100))
    listen(pbx, server, now=lambda: next(clock))
    drain()
    # then times are the listener's: the 10 kept events got seconds 0..9 as they arrived (the
    # answer is the 4th, the last hangup the 9th)
    call = Call.objects.get()
    assert (call.started_at, call.answered_at, call.ended_at) == (
        noon, noon + timedelta(seconds=3), noon + timedelta(seconds=8))
    assert (call.wait_seconds, call.talk_seconds, call.outcome) == (3, 5, "answered")


CALLS = ("answered", "missed", "ivr_answered", "transferred", "busy", "outbound")


def call_fields(call: Call) -> tuple:
    return (call.pbx_call_id, call.direction, call.customer_number, call.line, call.employee_id,
            call.unmatched_extension, call.started_at, call.answered_at, call.ended_at, call.wait_seconds,
            call.talk_seconds, call.outcome, call.contact_id, call.callback_due,
            sorted((leg.leg_id, leg.extension, leg.employee_id, leg.started_at, leg.answered_at, leg.ended_at,
                    leg.outcome) for leg in call.legs.all()))


def test_shuffled_and_repeated_events_make_the_same_calls_as_in_order(sales):
    # given the same PBX twice (two channels), the same managers on 101 and 102 of each
    in_order = make_channel(kind="asterisk", name="In order", department=sales,
                            settings={"host": "127.0.0.1", "username": "okno", "secret": "s3cret"})
    mixed = make_channel(kind="asterisk", name="Mixed", department=sales, settings=dict(in_order.settings))
    for code in ("101", "102"):
        user = UserFactory(department=sales)
        for channel in (in_order, mixed):
            PbxExtension.objects.create(channel=channel, code=code, user=user)
    packets = [p for name in CALLS for p in transcript(name)]
    # when one reads every call in order, the other shuffled, with a tenth of them sent twice
    rng = random.Random(5)
    shuffled = packets + rng.sample(packets, len(packets) // 10)
    rng.shuffle(shuffled)
    for channel, stream in ((in_order, packets), (mixed, shuffled)):
        with AmiReplayServer(stream) as server:
            channel.settings = server.settings()
            listen(channel, server)
    # then each repeat was stored once, and every call came out the same
    assert InboundEvent.objects.filter(channel=mixed).count() == InboundEvent.objects.filter(channel=in_order).count()
    drain()
    ordered = {c.pbx_call_id: call_fields(c) for c in Call.objects.filter(channel=in_order)}
    shuffled_calls = {c.pbx_call_id: call_fields(c) for c in Call.objects.filter(channel=mixed)}
    assert len(ordered) == len(CALLS) and shuffled_calls == ordered


def test_nothing_posted_to_an_asterisk_channels_url_is_stored(pbx, client):
    r = client.post(pbx.webhook_path, data=b"Event: Hangup", content_type="text/plain")
    assert r.status_code == 404 and not InboundEvent.objects.exists()
