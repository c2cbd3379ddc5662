"""The manager screen's pages: Next brings the item with the customer's world and starts the call;
outcome buttons close it into wrap-up; the card is edited in place; counters; bad input named."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import override

from okno.contacts.models import Contact
from okno.telephony.click_to_call import call_requests_drain
from okno.telephony.models import CallRequest
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.models_states import AgentState, AgentStatus
from okno.work.tests.factories import make_item
from okno.work.tests.screen_factories import customer_with_world, line_with_manager, record_originates


@pytest.fixture
def world(db, monkeypatch):
    sales, mango, manager = line_with_manager()
    card, deal, invoice = customer_with_world(manager)
    item = make_item(kind="follow_up", contact=card, assignee=manager, department=sales, title="Перезвонить")
    placed = record_originates(monkeypatch)
    client = Client()
    client.force_login(manager)
    return {"sales": sales, "manager": manager, "card": card, "deal": deal, "invoice": invoice, "item": item,
            "placed": placed, "client": client}


def test_the_page_opens_with_next_and_the_navigation_item(world):
    with override("en"):
        page = world["client"].get("/work/screen/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="screen-next"' in html and 'href="/work/screen/"' in html


def test_next_brings_the_customers_world_and_starts_the_call(world):
    # when
    with override("en"):
        answer = world["client"].post("/work/screen/next/", HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    # then: the item, the card, the deal with its lines, the invoice with its payment
    assert f'data-item-id="{world["item"].pk}"' in html
    assert "Перезвонить" in html and "Петров" in html
    assert "Курс английского" in html and "Групповые занятия" in html and "Учебник" in html
    assert f'data-invoice-id="{world["invoice"].pk}"' in html and 'data-status="partly_paid"' in html
    assert 'id="screen-bar"' in html and 'hx-swap-oob="true"' in html
    # the template picker of the customer's open deal (the documents app's panel, one click to send)
    assert f'hx-get="/documents/deal/{world["deal"].pk}/"' in html
    # the call was queued for the customer's phone and the PBX adapter asked to place it
    request = CallRequest.objects.get()
    assert (request.requested_by_id, request.contact_id, request.number) == (
        world["manager"].pk, world["card"].pk, "+79161234567")
    call_requests_drain()
    assert world["placed"] == [{"extension": "101", "number": "+79161234567", "command_id": request.command_id}]
    state = AgentState.objects.get(user=world["manager"])
    assert (state.state, state.item_id) == (AgentStatus.ON_CALL, world["item"].pk)
    # a reload shows the same item and does not dial again
    again = world["client"].get("/work/screen/")
    assert f'data-item-id="{world["item"].pk}"' in again.content.decode()
    assert CallRequest.objects.count() == 1


def test_done_closes_into_wrap_up_for_the_departments_seconds(world):
    DepartmentWorkSettings.objects.create(department=world["sales"], wrap_up_seconds=45)
    client = world["client"]
    client.post("/work/screen/next/")
    with override("en"):
        answer = client.post(f"/work/screen/{world['item'].pk}/outcome/", {"outcome": "done", "note": "оплатит"})
    html = answer.content.decode()
    world["item"].refresh_from_db()
    assert world["item"].status == WorkItem.Status.DONE and world["item"].closed_reason == "оплатит"
    assert 'id="screen-wrap-up"' in html and 'data-seconds="45"' in html and "load delay:45s" in html
    assert AgentState.objects.get(user=world["manager"]).state == AgentStatus.WRAP_UP


def test_call_back_onto_a_full_day_offers_the_next_free_one(world):
    # given: capacity 1 and tomorrow holds an item already
    DepartmentWorkSettings.objects.create(department=world["sales"], daily_capacity=1)
    tomorrow = timezone.localtime() + timedelta(days=1)
    make_item(kind="follow_up", assignee=world["manager"], department=world["sales"],
              due_in_minutes=(tomorrow - timezone.now()).total_seconds() / 60)
    client = world["client"]
    client.post("/work/screen/next/")
    typed = tomorrow.strftime("%Y-%m-%dT%H:%M")
    # when
    answer = client.post(f"/work/screen/{world['item'].pk}/outcome/", {"outcome": "call_back", "next_at": typed})
    # then: nothing moved; the free day is offered in one click
    html = answer.content.decode()
    free = (tomorrow + timedelta(days=1)).date().isoformat()
    assert 'id="screen-free-day"' in html and f"{free}T{typed[11:16]}" in html
    world["item"].refresh_from_db()
    assert world["item"].status == WorkItem.Status.OPEN and world["item"].due_at < timezone.now()
    # when: the offered day is taken
    offered = f"{free}T{typed[11:16]}"
    client.post(f"/work/screen/{world['item'].pk}/outcome/", {"outcome": "call_back", "next_at": offered})
    world["item"].refresh_from_db()
    assert timezone.localtime(world["item"].due_at).date().isoformat() == free


@pytest.mark.parametrize("body, field", [
    ({"outcome": "call_back"}, "next_at"),
    ({"outcome": "call_back", "next_at": "2001-01-01T10:00"}, "next_at"),
    ({"outcome": "call_back", "next_at": "завтра"}, "next_at"),
    ({"outcome": "bogus"}, "outcome"),
])
def test_a_bad_outcome_is_named_and_the_item_stays_open(world, body, field):
    world["client"].post("/work/screen/next/")
    answer = world["client"].post(f"/work/screen/{world['item'].pk}/outcome/", body)
    assert f'data-field="{field}"' in answer.content.decode()
    world["item"].refresh_from_db()
    assert world["item"].status == WorkItem.Status.OPEN


def test_someone_elses_item_cannot_be_closed_from_the_screen(world):
    from okno.people.tests.factories import UserFactory

    other = UserFactory(department=world["sales"])
    theirs = make_item(kind="follow_up", contact=world["card"], assignee=other, department=world["sales"])
    answer = world["client"].post(f"/work/screen/{theirs.pk}/outcome/", {"outcome": "done"})
    theirs.refresh_from_db()
    assert theirs.status == WorkItem.Status.OPEN
    assert answer.status_code in (200, 404) and b"screen-outcome-error" in answer.content


def test_the_card_is_edited_in_place_through_the_contacts_service(world):
    card = world["card"]
    form = world["client"].get(f"/work/screen/contact/{card.pk}/?edit=1").content.decode()
    assert 'name="first_name"' in form
    # when
    saved = world["client"].post(f"/work/screen/contact/{card.pk}/", {
        "first_name": "Иван", "last_name": "Сидоров", "middle_name": "", "city": "Тверь",
        "phone": ["+7 916 123-45-67", "+7 495 111-22-33"], "phone_kind": ["mobile", "work"],
        "email": ["ivan@example.com"]})
    # then
    card = Contact.objects.get(pk=card.pk)
    assert (card.last_name, card.city) == ("Сидоров", "Тверь")
    assert sorted(card.phones.values_list("e164", flat=True)) == ["+74951112233", "+79161234567"]
    assert list(card.emails.values_list("email", flat=True)) == ["ivan@example.com"]
    assert "Сидоров" in saved.content.decode()


def test_a_bad_phone_is_named_in_place_and_nothing_is_lost(world):
    card = world["card"]
    answer = world["client"].post(f"/work/screen/contact/{card.pk}/", {
        "first_name": "Иван", "last_name": "Петров", "phone": ["12"], "phone_kind": ["mobile"], "email": []})
    assert 'data-field="phones[0]"' in answer.content.decode()
    assert card.phones.count() == 1


def test_counters_count_what_is_due_by_kind(world):
    make_item(kind="callback", assignee=world["manager"], department=world["sales"])
    make_item(kind="callback", department=world["sales"], due_in_minutes=30)
    with override("en"):
        html = world["client"].get("/work/screen/counters/").content.decode()
    assert 'data-due="2"' in html and "1 later" in html


def test_break_puts_the_manager_on_a_break(world):
    world["client"].post("/work/screen/break/")
    assert AgentState.objects.get(user=world["manager"]).state == AgentStatus.BREAK


def test_a_manager_with_no_department_is_told_so(db):
    from okno.people.tests.factories import UserFactory

    loner = UserFactory(department=None, language="en")
    client = Client()
    client.force_login(loner)
    with override("en"):
        html = client.post("/work/screen/next/").content.decode()
    assert "no department" in html


def test_the_calls_outcome_is_shown_on_the_item(world):
    from okno.telephony.models import Call

    world["client"].post("/work/screen/next/")
    url = f"/work/screen/{world['item'].pk}/call/"
    assert 'data-outcome="pending"' in world["client"].get(url).content.decode()
    # when: the PBX reports the manager's call to the customer, answered after a minute's talk
    Call.objects.create(channel=CallRequest.objects.get().channel, pbx_call_id="c-1", direction=Call.Direction.OUT,
                        customer_number="+79161234567", contact=world["card"], employee=world["manager"],
                        started_at=timezone.now(), outcome=Call.Outcome.ANSWERED, talk_seconds=64)
    # then
    with override("en"):
        html = world["client"].get(url).content.decode()
    assert 'data-outcome="answered"' in html and "64 s of talk" in html
