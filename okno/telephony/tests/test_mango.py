"""Mango Office webhooks end to end (PROTOCOLS.md section 4a): signed form posts stored before
they are acknowledged, drained into one Call per entry_id, on the card, with a lead."""

import json
import random
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from okno.contacts.models import Contact
from okno.deals.models import Lead
from okno.inbox.drain import inbound_drain
from okno.inbox.models import InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.adapters.mango import mango_sign
from okno.telephony.models import Call, PbxExtension
from okno.timeline.models import Activity

KEY, SALT = "5f4dcc3b5aa765d61d8327deb882cf99", "salt-of-this-vpbx"
T0 = 1399906976


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def mango(sales):
    return make_channel(kind="mango", name="Mango", department=sales, settings={"api_key": KEY, "api_salt": SALT})


def post(client, channel, path: str, data: dict, *, key: str = KEY, salt: str = SALT, sign: str | None = None):
    text = json.dumps(data, ensure_ascii=False)
    body = urlencode({"vpbx_api_key": key, "sign": sign or mango_sign(key, text, salt), "json": text})
    return client.post(channel.webhook_path + path, data=body, content_type="application/x-www-form-urlencoded")


def call_event(seq: int, state: str, location: str, *, at: int, frm: dict, to: dict, leg: str = "100:500:256",
               **extra) -> dict:
    return {"entry_id": "232wc3e3w3s222", "call_id": leg, "timestamp": str(T0 + at), "seq": str(seq),
            "call_state": state, "location": location, "from": frm, "to": to, **extra}


CUSTOMER = {"number": "74955404444"}
LINE = {"line_number": "74951234567"}


def ivr_then_answered() -> list[dict]:
    """An inbound call: the greeting and menu take it, extension 101 rings and answers, 60 s talk."""
    to_ivr = {"number": "74951234567", **LINE}
    to_101 = {"extension": "101", "number": "74951234567", **LINE}
    return [
        call_event(1, "Appeared", "ivr", at=0, frm=CUSTOMER, to=to_ivr, leg="c1"),
        call_event(2, "Connected", "ivr", at=1, frm=CUSTOMER, to=to_ivr, leg="c1"),
        call_event(3, "Appeared", "abonent", at=10, frm=CUSTOMER, to=to_101, leg="c2"),
        call_event(4, "Connected", "abonent", at=15, frm=CUSTOMER, to=to_101, leg="c2"),
        call_event(5, "Disconnected", "abonent", at=75, frm=CUSTOMER, to=to_101, leg="c2", disconnect_reason=1110),
    ]


def fields(call: Call) -> tuple:
    return (call.direction, call.customer_number, call.line, call.employee_id, call.unmatched_extension,
            call.started_at, call.answered_at, call.ended_at, call.wait_seconds, call.talk_seconds, call.outcome,
            call.contact_id,
            sorted((leg.leg_id, leg.extension, leg.answered_at, leg.outcome) for leg in call.legs.all()))


def test_ivr_then_answered_call_is_one_call_on_the_card_with_a_lead(mango, sales, client):
    # given extension 101 is a manager of the line's department
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    # when Mango posts the call's events
    for event in ivr_then_answered():
        r = post(client, mango, "events/call", event)
        assert r.status_code == 200 and r.content == b""
    # then they are stored before anything is processed
    assert InboundEvent.objects.filter(channel=mango, event_type="events/call").count() == 5
    assert not Call.objects.exists()
    inbound_drain()
    # and make one call: IVR time is waiting, not talk; the person who answered is its employee
    call = Call.objects.get()
    at = lambda s: datetime.fromtimestamp(T0 + s, tz=UTC)  # noqa: E731
    assert (call.direction, call.customer_number, call.line) == ("in", "+74955404444", "74951234567")
    assert (call.started_at, call.answered_at, call.ended_at) == (at(0), at(15), at(75))
    assert (call.wait_seconds, call.talk_seconds, call.outcome) == (15, 60, "answered")
    assert call.employee == manager and call.department == sales
    assert [(leg.leg_id, leg.outcome) for leg in call.legs.order_by("leg_id")] == [("c1", ""), ("c2", "answered")]
    # on a new card found by that number, in the timeline, with a lead
    contact = Contact.objects.get(phones__e164="+74955404444")
    assert call.contact == contact
    assert Activity.objects.filter(contact=contact, kind="call").count() == 1
    assert Lead.objects.get(contact=contact).channel == mango


def test_out_of_order_and_duplicated_events_make_the_same_call(mango, sales, client):
    # given the same PBX twice (two channels), the same manager on extension 101 of each
    manager = UserFactory(department=sales)
    in_order = make_channel(kind="mango", name="Mango 2", department=sales,
                            settings={"api_key": KEY, "api_salt": SALT})
    for channel in (mango, in_order):
        PbxExtension.objects.create(channel=channel, code="101", user=manager)
    # when one gets the call's events in order, the other shuffled, two of them twice
    events = ivr_then_answered()
    for event in events:
        post(client, in_order, "events/call", event)
    # a byte-identical retry is stored once at the door; these differ in a field we do not read
    shuffled = events + [{**e, "retry": "1"} for e in events[1:3]]
    random.Random(7).shuffle(shuffled)
    for event in shuffled:
        post(client, mango, "events/call", event)
    inbound_drain()
    # then both make the same call (on the same card: the second found the first's)
    ordered, mixed = Call.objects.get(channel=in_order), Call.objects.get(channel=mango)
    assert fields(mixed) == fields(ordered)
    assert mixed.outcome == "answered" and mixed.employee == manager


def test_documented_summary_of_an_answered_inbound_call(mango, sales, client):
    # the vendor's example 1 of events/summary (its `"from" {` typo fixed)
    PbxExtension.objects.create(channel=mango, code="123", user=UserFactory(department=sales))
    summary = {"entry_id": "232wc3e3w3s222", "call_direction": 1, "from": {"number": "7800123635242"},
               "to": {"extension": "123", "number": "7800123456789"}, "line_number": "7800123456789",
               "create_time": 1399906976, "forward_time": 1399906978, "talk_time": 1399906980,
               "end_time": 1399906990, "entry_result": 1, "disconnect_reason": 1100}
    assert post(client, mango, "events/summary", summary).status_code == 200
    inbound_drain()
    call = Call.objects.get()
    assert (call.direction, call.outcome, call.wait_seconds, call.talk_seconds) == ("in", "answered", 4, 10)
    assert call.employee.pbx_extensions.get().code == "123" and call.line == "7800123456789"


def test_documented_outbound_call_and_a_busy_one(mango, sales, client):
    # the vendor's three events of one outbound call, from extension 1234
    PbxExtension.objects.create(channel=mango, code="1234", user=UserFactory(department=sales))
    frm = {"extension": "1234"}
    for seq, state in ((1, "Appeared"), (2, "Connected"), (3, "Disconnected")):
        extra = {"disconnect_reason": "1120"} if state == "Disconnected" else {}
        post(client, mango, "events/call", call_event(seq, state, "abonent", at=seq * 5, frm=frm,
                                                        to={"number": "79161234567"}, **extra))
    busy = {"entry_id": "busy-1", "call_id": "b1", "timestamp": T0, "seq": 1, "call_state": "Disconnected",
            "location": "abonent", "from": CUSTOMER, "to": {"extension": "1234"}, "disconnect_reason": 1121}
    post(client, mango, "events/call", busy)
    inbound_drain()
    out = Call.objects.get(pbx_call_id="232wc3e3w3s222")
    assert (out.direction, out.outcome, out.customer_number, out.talk_seconds) == ("out", "answered", "+79161234567",
                                                                                   5)
    assert out.employee.pbx_extensions.get().code == "1234"
    assert not Lead.objects.filter(contact=out.contact).exists()  # we called them: no inbound lead
    assert Call.objects.get(pbx_call_id="busy-1").outcome == "busy"


def test_a_missed_call_from_an_unknown_extension_is_kept_and_listed_as_unmatched(mango, client):
    to = {"extension": "555", "number": "74951234567"}
    post(client, mango, "events/call", call_event(1, "Appeared", "abonent", at=0, frm=CUSTOMER, to=to))
    post(client, mango, "events/call", call_event(2, "Disconnected", "abonent", at=20, frm=CUSTOMER, to=to,
                                                  disconnect_reason=1111))
    inbound_drain()
    call = Call.objects.get()
    assert (call.outcome, call.employee, call.unmatched_extension, call.wait_seconds) == ("missed", None, "555", 20)
    assert call.contact is not None and Lead.objects.filter(contact=call.contact).count() == 1


def test_bad_key_or_sign_is_refused_and_nothing_is_stored(mango, client):
    event = call_event(1, "Appeared", "ivr", at=0, frm=CUSTOMER, to={"number": "74951234567"})
    assert post(client, mango, "events/call", event, key="other-key").status_code == 401
    assert post(client, mango, "events/call", event, sign="0" * 64).status_code == 403
    assert post(client, mango, "events/call", event, salt="wrong-salt").status_code == 403
    assert not InboundEvent.objects.exists()


def test_malformed_json_and_unknown_paths_are_stored_and_flagged(mango, client):
    text = "{not json"
    body = urlencode({"vpbx_api_key": KEY, "sign": mango_sign(KEY, text, SALT), "json": text})
    r = client.post(mango.webhook_path + "events/call", data=body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    post(client, mango, "events/unheard", {"entry_id": "x"})
    post(client, mango, "result/callback", {"command_id": "c1", "result": 1000})
    inbound_drain()
    statuses = dict(InboundEvent.objects.values_list("event_type", "status"))
    assert statuses == {"events/call": "rejected", "events/unheard": "unknown", "result/callback": "ignored"}
    assert not Call.objects.exists()


def test_calls_api_lists_a_cards_calls_to_who_may_see_it(mango, sales, client, api_as):
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    for event in ivr_then_answered():
        post(client, mango, "events/call", event)
    inbound_drain()
    call = Call.objects.get()
    Contact.objects.filter(pk=call.contact_id).update(responsible=manager, department=sales)
    body = api_as(manager).get("/api/v1/calls", contact=call.contact_id).json()
    assert [c["id"] for c in body] == [call.pk]
    assert {k: body[0][k] for k in ("direction", "outcome", "wait_seconds", "talk_seconds", "employee_id")} == {
        "direction": "in", "outcome": "answered", "wait_seconds": 15, "talk_seconds": 60, "employee_id": manager.pk}
    assert body[0]["started_at"] == "2014-05-12T15:02:56Z"
    stranger = UserFactory(department=DepartmentFactory(name="Склад"))
    assert api_as(stranger).get("/api/v1/calls", contact=call.contact_id).json() == []
    assert api_as(stranger).get(f"/api/v1/calls/{call.pk}").status_code == 404
