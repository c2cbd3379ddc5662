"""A missed call becomes a callback that cannot be forgotten: one per number while open, due
after the line's deadline, closed by itself when a call with that number is answered."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from okno.contacts.tests.factories import make_contact
from okno.inbox.drain import inbound_drain
from okno.people.tests.factories import UserFactory
from okno.telephony.calls import callbacks_drain
from okno.telephony.models import Call, PbxExtension
from okno.telephony.tests.test_mango import CUSTOMER, call_event, mango, post, sales  # noqa: F401
from okno.work.models import WorkItem


def drain() -> None:
    """The worker's inbound drain, then its callbacks drain (these calls ended long ago)."""
    inbound_drain()
    callbacks_drain()

TO = {"extension": "101", "number": "74951234567", "line_number": "74951234567"}


def missed(client, channel, entry: str, at: int, **frm):
    for seq, state in ((1, "Appeared"), (2, "Disconnected")):
        event = call_event(seq, state, "abonent", at=at + seq * 20, frm={**CUSTOMER, **frm}, to=TO,
                           disconnect_reason=1111)
        post(client, channel, "events/call", {**event, "entry_id": entry})


def test_missed_calls_fold_into_one_callback_for_the_responsible_manager(mango, sales, client, api_as):  # noqa: F811
    # given a known customer with a responsible manager, and a line whose callbacks are due in 5 minutes
    manager = UserFactory(department=sales)
    contact = make_contact(first_name="Ольга", phones=["+7 495 540-44-44"], responsible_id=manager.pk)
    mango.settings = {**mango.settings, "callback_minutes": 5}
    mango.save()
    # when they call twice and nobody answers
    missed(client, mango, "m1", at=0)
    missed(client, mango, "m2", at=300)
    drain()
    # then there is one open callback, due 5 minutes after the first missed call, counting both
    item = WorkItem.objects.get()
    first = Call.objects.get(pbx_call_id="m1")
    assert (item.kind, item.status, item.contact, item.assignee, item.repeats) == ("callback", "open", contact,
                                                                                 manager, 2)
    assert item.number == "+74955404444" and item.due_at == first.ended_at + timedelta(minutes=5)
    assert set(Call.objects.values_list("callback", flat=True)) == {item.pk}
    # and the manager sees it through the API
    body = api_as(manager).get("/api/v1/work-items", contact=contact.pk, kind="callback").json()
    assert [(w["id"], w["status"], w["repeats"]) for w in body] == [(item.pk, "open", 2)]
    # when the manager calls back and the customer answers, the callback closes by itself
    for seq, state in ((1, "Appeared"), (2, "Connected"), (3, "Disconnected")):
        event = call_event(seq, state, "abonent", at=900 + seq, frm={"extension": "101"}, to={"number": "74955404444"})
        post(client, mango, "events/call", {**event, "entry_id": "back-1"})
    drain()
    item.refresh_from_db()
    assert item.status == "done" and item.closed_at is not None
    # and a new missed call after that opens a new one
    missed(client, mango, "m3", at=2000)
    drain()
    assert WorkItem.objects.filter(status="open").count() == 1


def test_unknown_callers_callback_goes_to_whom_their_lead_was_routed(mango, sales, client):  # noqa: F811
    # given a line of the sales department with one manager at work
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    # when an unknown number calls and nobody answers
    missed(client, mango, "m1", at=0)
    drain()
    # then the new card's lead went to the manager, who now owes the callback, due in 2 minutes
    item = WorkItem.objects.get()
    call = Call.objects.get()
    assert item.contact == call.contact and call.contact.leads.get().assignee == manager
    assert item.assignee == manager and item.department == sales
    assert item.due_at == call.ended_at + timedelta(minutes=2)
    # a replay of the same events changes nothing
    missed(client, mango, "m1", at=0)
    drain()
    assert WorkItem.objects.get().repeats == 1


def test_nobody_to_call_back_goes_to_the_lines_department(mango, sales, client):  # noqa: F811
    # given nobody of the line's department at work (the lead waits unassigned)
    missed(client, mango, "m1", at=0)
    drain()
    item = WorkItem.objects.get()
    assert item.assignee is None and item.department == sales


def test_a_call_answered_by_the_next_extension_within_the_grace_owes_nothing(mango, sales, client, settings):  # noqa: F811
    # given 101 gives up ringing (its leg ends: the call reads "missed" for now)
    to_102 = {**TO, "extension": "102"}
    post(client, mango, "events/call", call_event(1, "Appeared", "abonent", at=0, frm=CUSTOMER, to=TO, leg="a"))
    post(client, mango, "events/call", call_event(2, "Disconnected", "abonent", at=20, frm=CUSTOMER, to=TO, leg="a",
                                                  disconnect_reason=1111))
    inbound_drain()
    call = Call.objects.get()
    assert call.outcome == "missed" and call.callback_due
    # when the callbacks drain runs within the grace, nothing is owed yet
    assert callbacks_drain(now=call.ended_at + timedelta(seconds=settings.OKNO_CALLBACK_GRACE_SECONDS - 1)) == 0
    # and then 102 answers
    post(client, mango, "events/call", call_event(3, "Appeared", "abonent", at=21, frm=CUSTOMER, to=to_102, leg="b"))
    post(client, mango, "events/call", call_event(4, "Connected", "abonent", at=25, frm=CUSTOMER, to=to_102, leg="b"))
    inbound_drain()
    call.refresh_from_db()
    assert call.outcome == "answered" and not call.callback_due
    # so no callback is ever made for it
    assert callbacks_drain(now=call.ended_at + timedelta(days=1)) == 0 and not WorkItem.objects.exists()


def test_callback_deadline_counts_the_lines_business_hours(mango, sales, client):  # noqa: F811
    # given a line staffed 09:00-18:00 on weekdays, Moscow time (T0 is a Monday, 18:22 there)
    mango.settings = {**mango.settings, "business_hours": {
        "timezone": "Europe/Moscow", **{d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}}}
    mango.save()
    # when a call is missed after hours
    missed(client, mango, "late", at=0)
    drain()
    # then the callback is due two minutes into the next morning, not at night
    item = WorkItem.objects.get()
    assert item.due_at.astimezone(ZoneInfo("Europe/Moscow")).strftime("%a %H:%M") == "Tue 09:02"


def test_channel_with_a_bad_timetable_is_refused_naming_the_day(api):
    r = api.post("/api/v1/channels", {"kind": "mango", "name": "Mango", "settings": {
        "api_key": "k", "api_salt": "s", "callback_minutes": "soon", "business_hours": {"mon": "18:00-09:00"}}})
    assert r.status_code == 400
    fields = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert set(fields) == {"settings.callback_minutes", "settings.business_hours.mon"}
    assert "09:00-18:00" in fields["settings.business_hours.mon"]


def test_calls_from_a_number_that_is_no_phone_make_no_cards(mango, sales, client):  # noqa: F811
    from okno.contacts.models import Contact

    missed(client, mango, "odd-1", at=0, number="+0001")
    missed(client, mango, "odd-2", at=100, number="+0001")
    drain()
    assert Call.objects.count() == 2 and not Contact.objects.exists()
