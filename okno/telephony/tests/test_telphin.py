"""Telphin webhooks end to end (PROTOCOLS.md section 4c): extension events as form fields, by POST
or in a GET's query string, stored before they are acknowledged and folded into one Call per CallID.

The payloads are in the documented form: the field names and value shapes of Telphin's extension
events (`13596*106@sipproxy.telphin.ru` extensions, EventTime in microseconds since 1970), with
our own ids and numbers."""

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from okno.contacts.models import Contact
from okno.deals.models import Lead
from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.adapters.telphin import telphin_extension, telphin_facts, telphin_time
from okno.telephony.calls import callbacks_drain
from okno.telephony.models import Call, PbxExtension
from okno.work.models import WorkItem


def drain() -> None:
    """The worker's inbound drain, then its callbacks drain (these calls ended long ago)."""
    inbound_drain()
    callbacks_drain()

CALL_ID = "a4we334iu23a05634df42b98c817bcc4a97hbc66"
T0 = datetime(2025, 12, 26, 8, 11, 51, 480097, tzinfo=UTC)  # EventTime 1766736711480097
CUSTOMER, LINE = "+79214567892", "79300369446"
MOSCOW = ZoneInfo("Europe/Moscow")


def ext(code: str) -> str:
    return f"13596*{code}@sipproxy.telphin.ru"


def event_time(seconds: float) -> str:
    moment = T0 + timedelta(seconds=seconds)
    return str((moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1))


def inbound(event_type: str, at: float, *, to: str, sub: str, call_id: str = CALL_ID, **extra) -> dict:
    """An event on extension `to` of an inbound call the IVR (099) passed on."""
    return {"EventType": event_type, "CallID": call_id, "CallerIDNum": CUSTOMER, "CallerIDName": CUSTOMER,
            "CalledDID": LINE, "CallerExtension": ext("099"), "CalledExtension": ext(to),
            "CalledNumber": f"13596*{to}", "CallFlow": "IN", "SubCallID": f"1138241-{sub}",
            "CallAPIID": f"api-{sub}", "EventTime": event_time(at), **extra}


def ivr_hangup(at: float, *, bridged: str, call_id: str = CALL_ID) -> dict:
    """The IVR's hangup (IVR and queue extensions are subscribed to hangup only): Bridged speaks
    for the whole call, and CallStatus is the IVR's own (it always answers)."""
    return {"EventType": "hangup", "CallID": call_id, "CallerIDNum": CUSTOMER, "CalledDID": LINE,
            "CalledExtension": ext("099"), "CalledNumber": "13596*099", "CallFlow": "IN",
            "SubCallID": "1113800-ivr", "CallStatus": "ANSWER", "Bridged": bridged, "Duration": str(int(at)),
            "EventTime": event_time(at)}


def answered_with_transfer() -> list[dict]:
    """101 answers, then transfers the customer to 102 (a second SubCallID), who talks to the end."""
    return [
        inbound("dial-in", 0, to="101", sub="s1", CallStatus="CALLING"),
        inbound("answer", 8, to="101", sub="s1", CallStatus="ANSWER"),
        # the transfer's leg: the caller is 101 now; RemoteNumber names the customer
        inbound("dial-in", 40, to="102", sub="s2", CallStatus="CALLING", CallerIDNum="13596*101",
                CallerIDName="101", RemoteNumber=CUSTOMER),
        inbound("hangup", 45, to="101", sub="s1", CallStatus="ANSWER", Duration="45"),
        inbound("answer", 47, to="102", sub="s2", CallStatus="ANSWER", RemoteNumber=CUSTOMER),
        inbound("hangup", 120, to="102", sub="s2", CallStatus="ANSWER", Duration="80", RecID="rec-777-1",
                RemoteNumber=CUSTOMER),
        ivr_hangup(120, bridged="yes"),
    ]


def post(client, channel, data: dict, *, query: str = ""):
    return client.post(channel.webhook_path + query, data=urlencode(data),
                       content_type="application/x-www-form-urlencoded")


def get(client, channel, data: dict):
    return client.get(channel.webhook_path + "?" + urlencode(data))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fields(call: Call) -> tuple:
    return (call.direction, call.customer_number, call.line, call.employee_id, call.unmatched_extension,
            call.started_at, call.answered_at, call.ended_at, call.wait_seconds, call.talk_seconds, call.outcome,
            call.recording_id, call.contact_id,
            sorted((leg.leg_id, leg.extension, leg.started_at, leg.answered_at, leg.ended_at, leg.outcome)
                   for leg in call.legs.all()))


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def telphin(sales):
    return make_channel(kind="telphin", name="Telphin", department=sales)


@pytest.fixture
def managers(telphin, sales):
    first, second = UserFactory(department=sales), UserFactory(department=sales)
    PbxExtension.objects.create(channel=telphin, code="101", user=first)
    PbxExtension.objects.create(channel=telphin, code="102", user=second)
    return first, second


def test_an_answered_inbound_call_with_a_transfer_is_one_call_with_two_legs(telphin, sales, managers, client):
    first, second = managers
    # when Telphin posts the call's events
    for data in answered_with_transfer():
        r = post(client, telphin, data)
        assert r.status_code == 200 and r.content == b""
    # then they are stored before anything is processed
    assert list(InboundEvent.objects.order_by("pk").values_list("event_type", flat=True)) == [
        "dial-in", "answer", "dial-in", "hangup", "answer", "hangup", "hangup"]
    assert not Call.objects.exists()
    drain()
    # and make one call: whoever answered first is its employee, the transfer is a second leg
    call = Call.objects.get()
    assert (call.direction, call.customer_number, call.line, call.pbx_call_id) == ("in", CUSTOMER, LINE, CALL_ID)
    assert (call.employee, call.department, call.unmatched_extension) == (first, sales, "")
    assert (call.started_at, call.answered_at, call.ended_at) == (at(0), at(8), at(120))
    assert (call.wait_seconds, call.talk_seconds, call.outcome, call.recording_id) == (8, 112, "answered",
                                                                                       "rec-777-1")
    legs = [(leg.leg_id, leg.extension, leg.employee, leg.answered_at, leg.ended_at, leg.outcome)
            for leg in call.legs.order_by("leg_id")]
    assert legs == [("1138241-s1", "101", first, at(8), at(45), "answered"),
                    ("1138241-s2", "102", second, at(47), at(120), "answered")]
    # on a new card with a lead, and nobody owes a callback
    assert call.contact == Contact.objects.get(phones__e164=CUSTOMER)
    assert Lead.objects.get(contact=call.contact).channel == telphin
    assert not WorkItem.objects.exists()
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"done"}


def test_a_missed_inbound_call_opens_a_callback(telphin, sales, managers, client):
    first, _second = managers
    # given 101 rings 25 s without an answer and the caller leaves the IVR (Bridged=no)
    for data in (inbound("dial-in", 0, to="101", sub="s1", CallStatus="CALLING"),
                 inbound("hangup", 25, to="101", sub="s1", CallStatus="NOANSWER", Duration="25"),
                 ivr_hangup(30, bridged="no")):
        post(client, telphin, data)
    drain()
    # then the IVR's own ANSWER does not make it answered: the call is missed, 101's
    call = Call.objects.get()
    assert (call.outcome, call.employee, call.answered_at, call.wait_seconds, call.talk_seconds) == (
        "missed", first, None, 30, 0)
    # and, once the call stayed missed past the grace, a callback is owed to the number, due the
    # line's deadline after the call's end (the IVR's hangup, not 101's)
    callback = WorkItem.objects.get()
    assert (callback.kind, callback.status, callback.number, callback.contact) == ("callback", "open", CUSTOMER,
                                                                                   call.contact)
    assert callback.due_at == at(30) + timedelta(minutes=settings.OKNO_CALLBACK_MINUTES)
    assert call.callback == callback


def test_a_busy_extension_makes_a_busy_call_that_still_owes_a_callback(telphin, managers, client):
    for data in (inbound("dial-in", 0, to="102", sub="s1", CallStatus="CALLING"),
                 inbound("hangup", 1, to="102", sub="s1", CallStatus="BUSY"),
                 ivr_hangup(2, bridged="no")):
        post(client, telphin, data)
    drain()
    call = Call.objects.get()
    assert (call.outcome, call.employee) == ("busy", managers[1])
    assert WorkItem.objects.get().number == CUSTOMER


def test_an_outbound_call(telphin, managers, client):
    first, _second = managers
    out = {"CallID": "out-1", "CallerIDNum": "13596*101", "CallerIDName": "Анна", "CallerExtension": ext("101"),
           "CalledNumber": "79161234567", "CallFlow": "OUT", "SubCallID": "1138241-o1"}
    post(client, telphin, {"EventType": "dial-out", "EventTime": event_time(0), "CallStatus": "CALLING", **out})
    post(client, telphin, {"EventType": "answer", "EventTime": event_time(10), "CallStatus": "ANSWER", **out})
    post(client, telphin, {"EventType": "hangup", "EventTime": event_time(70), "CallStatus": "ANSWER",
                           "Duration": "70", **out})
    drain()
    call = Call.objects.get()
    assert (call.direction, call.customer_number, call.employee, call.outcome) == ("out", "+79161234567", first,
                                                                                   "answered")
    assert (call.started_at, call.wait_seconds, call.talk_seconds) == (at(0), 10, 60)
    assert not Lead.objects.filter(contact=call.contact).exists()  # we called them: no inbound lead


def test_a_get_delivery_is_stored_before_it_is_acknowledged_and_makes_the_same_call_as_a_post(sales, managers,
                                                                                              telphin, client):
    # given a second channel of the same PBX whose subscriptions use GET
    by_get = make_channel(kind="telphin", name="Telphin GET", department=sales)
    for code, user in zip(("101", "102"), managers, strict=True):
        PbxExtension.objects.create(channel=by_get, code=code, user=user)
    # when each event comes by POST to one and by GET to the other
    for data in answered_with_transfer():
        post(client, telphin, data)
        r = get(client, by_get, data)
        assert r.status_code == 200
    # then the GETs are stored, as the form data they carry, before any call exists
    stored = InboundEvent.objects.filter(channel=by_get).order_by("pk").first()
    assert (stored.status, stored.event_type, stored.content_type) == ("received", "dial-in",
                                                                       "application/x-www-form-urlencoded")
    assert bytes(stored.body) == urlencode(answered_with_transfer()[0]).encode()
    assert not Call.objects.exists()
    drain()
    # and both channels make the same call
    posted, got = Call.objects.get(channel=telphin), Call.objects.get(channel=by_get)
    assert fields(got) == fields(posted) and got.outcome == "answered"


def test_a_get_without_event_data_is_refused_and_other_kinds_still_take_only_posts(telphin, client):
    assert client.get(telphin.webhook_path).status_code == 405
    form = make_channel(kind="form")
    assert client.get(form.webhook_path + "?" + urlencode({"name": "Ольга"})).status_code == 405
    assert not InboundEvent.objects.exists()


def test_replayed_and_out_of_order_deliveries_make_the_same_call(telphin, sales, managers, client):
    # given the same PBX twice (two channels), the same managers on each
    in_order = make_channel(kind="telphin", name="Telphin 2", department=sales)
    for code, user in zip(("101", "102"), managers, strict=True):
        PbxExtension.objects.create(channel=in_order, code=code, user=user)
    events = answered_with_transfer()
    for data in events:
        post(client, in_order, data)
    # when the other gets them shuffled, some replayed byte for byte and some with a field we do not read
    shuffled = events + events[:2] + [{**e, "CallAPIID": "retry"} for e in events[3:6]]
    random.Random(5).shuffle(shuffled)
    for data in shuffled:
        post(client, telphin, data)
    # then a byte-identical replay is stored once at the door
    assert InboundEvent.objects.filter(channel=telphin).count() == len(events) + 3
    drain()
    # and both make the same call (on the same card: the second found the first's)
    ordered, mixed = Call.objects.get(channel=in_order), Call.objects.get(channel=telphin)
    assert fields(mixed) == fields(ordered)
    assert (mixed.outcome, mixed.talk_seconds) == ("answered", 112)


def test_a_secret_param_is_checked_and_kept_out_of_the_stored_body(sales, client):
    # given a channel whose subscription URLs carry its secret as ?key=
    channel = make_channel(kind="telphin", name="Telphin", department=sales, settings={"secret_param": "key"})
    data = inbound("dial-in", 0, to="101", sub="s1")
    # then a request without it or with a wrong one is refused, and nothing is stored
    assert get(client, channel, data).status_code == 403
    assert get(client, channel, {**data, "key": "wrong"}).status_code == 403
    assert post(client, channel, data).status_code == 403
    assert not InboundEvent.objects.exists()
    # while the right one, in the query string of a GET or a POST or in a header, is let in
    assert client.get(channel.webhook_path + "?" + urlencode({"key": channel.secret, **data})).status_code == 200
    assert post(client, channel, {**data, "SubCallID": "p"}, query="?" + urlencode({"key": channel.secret})
                ).status_code == 200
    assert client.post(channel.webhook_path, data=urlencode({**data, "SubCallID": "h"}),
                       content_type="application/x-www-form-urlencoded",
                       headers={"key": channel.secret}).status_code == 200
    bodies = [bytes(b) for b in InboundEvent.objects.order_by("pk").values_list("body", flat=True)]
    assert bodies[0] == urlencode(data).encode()
    assert all(channel.secret.encode() not in body for body in bodies)


def test_sms_unknown_and_malformed_events_are_stored_and_flagged(telphin, client):
    post(client, telphin, {"EventType": "message-in", "CallerIDNum": CUSTOMER, "Message": "Перезвоните"})
    post(client, telphin, {"EventType": "message-out", "CalledNumber": CUSTOMER})
    post(client, telphin, {"EventType": "voicemail", "CallID": "v1"})
    post(client, telphin, {"EventType": "hangup", "CallStatus": "ANSWER"})  # no CallID
    client.post(telphin.webhook_path, data=b'{"EventType": "dial-in"}', content_type="application/json")
    client.post(telphin.webhook_path, data=b"EventType=dial-in&CallID=\xff\xfe",
                content_type="application/x-www-form-urlencoded")
    drain()
    statuses = list(InboundEvent.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["ignored", "ignored", "unknown", "rejected", "rejected", "rejected"]
    assert not Call.objects.exists()


def test_an_event_without_a_readable_time_is_dated_when_it_reached_us(telphin, managers, client):
    post(client, telphin, {**inbound("dial-in", 0, to="101", sub="s1"), "EventTime": "soon"})
    received = InboundEvent.objects.get().received_at
    drain()
    assert Call.objects.get().started_at == received


@pytest.mark.parametrize(("value", "expected"), [
    ("1766736711480097", T0),  # microseconds, as Telphin's docs describe it
    ("1766736711480", T0.replace(microsecond=480000)),
    ("1766736711", T0.replace(microsecond=0)),
    ("2025-12-26 11:11:51", T0.replace(microsecond=0)),  # the channel's zone: Moscow is UTC+3
    ("2025-12-26 11:11:51.480097", T0),
    ("", None), ("0", None), ("26.12.2025 11:11", None),
])
def test_event_time_forms(value, expected):
    assert telphin_time(value, MOSCOW) == expected


def test_event_time_in_another_zone_and_extension_forms():
    assert telphin_time("2025-12-26 08:11:51", ZoneInfo("UTC")) == T0.replace(microsecond=0)
    assert [telphin_extension(v) for v in (ext("106"), "13596*100", "106", " 13596*099@x ")] == [
        "106", "100", "106", "099"]


def test_a_transfer_names_the_customer_by_remote_number_and_a_transferred_dial_out_adds_nothing():
    # given the transfer's dial-in, whose caller is extension 101
    transfer = inbound("dial-in", 40, to="102", sub="s2", CallerIDNum="13596*101", RemoteNumber=CUSTOMER)
    start, ring = telphin_facts(transfer, at=at(40))
    assert (start.customer, ring.customer, ring.extension, ring.leg) == (CUSTOMER, CUSTOMER, "102", "1138241-s2")
    # without RemoteNumber an extension is not taken for the customer
    start, _ring = telphin_facts({**transfer, "RemoteNumber": ""}, at=at(40))
    assert start.customer == ""
    # and 101's own dial-out marked Transfered is part of the call already under way
    out = {"EventType": "dial-out", "CallID": CALL_ID, "CallerExtension": ext("101"), "CalledNumber": "13596*102",
           "CallFlow": "OUT", "Transfered": "yes"}
    assert telphin_facts(out, at=at(40)) == []
    answer = telphin_facts({**out, "EventType": "answer"}, at=at(47))
    assert [(f.kind, f.direction, f.customer, f.extension) for f in answer] == [("answer", "", "", "101")]
