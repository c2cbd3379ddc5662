"""Items booked by hand: who may book what for whom, and a full day proposes the next free one."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.tests.factories import make_customer


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


def _at(day, hour=11):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_a_full_day_answers_409_with_the_next_free_day(sales, api_as):
    # given: capacity 2; tomorrow holds 2 items, the day after 2, then a free day
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=2)
    manager = UserFactory(department=sales)
    tomorrow = timezone.localdate() + timedelta(days=1)
    for offset in (0, 0, 1, 1):
        WorkItem.objects.create(kind="follow_up", assignee=manager, department=sales,
                                due_at=_at(tomorrow + timedelta(days=offset)))
    customer = make_customer(department=sales, responsible=manager)
    # when the manager books a follow-up for tomorrow
    response = api_as(manager).post("/api/v1/work-items", {
        "kind": "follow_up", "contact_id": customer.pk, "due_date": tomorrow.isoformat(), "title": "Перезвонить"})
    # then refused, with the first day that has room; nothing stored
    assert response.status_code == 409
    assert response.json()["next_free_day"] == (tomorrow + timedelta(days=2)).isoformat()
    assert WorkItem.objects.filter(contact=customer).count() == 0
    # and booking that day works
    ok = api_as(manager).post("/api/v1/work-items", {
        "kind": "follow_up", "contact_id": customer.pk, "due_date": response.json()["next_free_day"]})
    assert ok.status_code == 201 and ok.json()["assignee_id"] == manager.pk


def test_closed_items_free_their_place(sales, api_as):
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=1)
    manager = UserFactory(department=sales)
    tomorrow = timezone.localdate() + timedelta(days=1)
    WorkItem.objects.create(kind="follow_up", assignee=manager, status="done", due_at=_at(tomorrow))
    response = api_as(manager).post("/api/v1/work-items", {"kind": "callback", "due_at": _at(tomorrow).isoformat()})
    assert response.status_code == 201


def test_a_head_books_any_kind_for_the_queue_or_a_person_of_theirs(sales, api_as):
    # given
    head, manager = UserFactory(role="head", department=sales), UserFactory(department=sales)
    outsider = UserFactory(department=DepartmentFactory())
    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    api = api_as(head)
    # when
    queue = api.post("/api/v1/work-items", {"kind": "payment_control", "department_id": sales.pk, "due_at": soon})
    person = api.post("/api/v1/work-items", {"kind": "new_lead", "assignee_id": manager.pk, "due_at": soon})
    foreign = api.post("/api/v1/work-items", {"kind": "new_lead", "assignee_id": outsider.pk, "due_at": soon})
    # then
    assert queue.status_code == 201 and queue.json()["assignee_id"] is None
    assert queue.json()["department_id"] == sales.pk
    assert person.status_code == 201 and person.json()["assignee_id"] == manager.pk
    assert foreign.status_code == 400 and foreign.json()["errors"][0]["field"] == "assignee_id"


def test_a_manager_books_only_follow_ups_and_callbacks_for_themselves(sales, api_as):
    manager, colleague = UserFactory(department=sales), UserFactory(department=sales)
    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    api = api_as(manager)
    cases = {
        "kind": {"kind": "new_lead", "due_at": soon},
        "assignee_id": {"kind": "follow_up", "assignee_id": colleague.pk, "due_at": soon},
        "department_id": {"kind": "follow_up", "department_id": sales.pk, "due_at": soon},
    }
    for field, body in cases.items():
        response = api.post("/api/v1/work-items", body)
        assert response.status_code == 400, field
        assert field in {e["field"] for e in response.json()["errors"]}, field
    assert WorkItem.objects.count() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "bogus"}, "kind"),
    ({"kind": "callback", "due_date": "2001-01-01"}, "due_date"),
    ({"kind": "callback", "due_at": "2001-01-01T10:00:00+03:00"}, "due_at"),
    ({"kind": "callback", "due_at": "tomorrow"}, "due_at"),
    ({"kind": "callback"}, "due_at"),
    ({"kind": "callback", "due_date": "2027-06-01", "contact_id": 999999}, "contact_id"),
    ({"kind": "callback", "due_date": "2027-06-01", "contact_id": "x"}, "contact_id"),
    ({"kind": "callback", "due_date": "2027-06-01", "title": "x" * 301}, "title"),
    ({"kind": "callback", "due_date": "9999-12-31"}, "due_date"),
    ({"kind": "callback", "due_at": "9999-12-31T23:59:59+00:00"}, "due_at"),
    ({"kind": "callback", "due_date": "2027-01-01", "contact_id": 2**70}, "contact_id"),
    ({"kind": "callback", "due_date": "2027-01-01", "assignee_id": True}, "assignee_id"),
])
def test_bad_bookings_are_400_naming_the_field(sales, api_as, body, field):
    manager = UserFactory(department=sales)
    response = api_as(manager).post("/api/v1/work-items", body)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}
    assert WorkItem.objects.count() == 0


def test_a_head_assigns_a_queue_item_by_hand_and_a_manager_may_not(sales, api_as):
    # given: an item in the department's queue, capacity 1, and a manager whose today is full
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=1)
    head, manager, busy = (UserFactory(role="head", department=sales), UserFactory(department=sales),
                           UserFactory(department=sales))
    outsider = UserFactory(department=DepartmentFactory())
    item = WorkItem.objects.create(kind="new_lead", department=sales, due_at=timezone.now() + timedelta(hours=1))
    WorkItem.objects.create(kind="follow_up", assignee=busy, due_at=timezone.now() + timedelta(hours=1))
    path = f"/api/v1/work-items/{item.pk}/assign"
    # when / then
    assert api_as(manager).post(path, {"assignee_id": manager.pk}).status_code == 403
    assert api_as(head).post(path, {"assignee_id": outsider.pk}).json()["errors"][0]["field"] == "assignee_id"
    full = api_as(head).post(path, {"assignee_id": busy.pk})
    ok = api_as(head).post(path, {"assignee_id": manager.pk})
    assert full.status_code == 409 and "next_free_day" in full.json()
    assert ok.status_code == 200 and ok.json()["assignee_id"] == manager.pk
    assert WorkItem.objects.get(pk=item.pk).assignee_id == manager.pk
