"""Closing an item with the call's outcome, in one call: done, no answer, call back, not interested."""

from datetime import timedelta

import pytest
from django.utils import timezone

from okno.deals.models import Lead
from okno.deals.tests.factories import LostReasonFactory
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import DepartmentWorkSettings, ManagerShift, WorkItem
from okno.work.tests.factories import make_customer, make_item


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def manager(sales):
    return UserFactory(department=sales)


@pytest.fixture
def published(monkeypatch):
    sent = []
    from okno.core import events

    real = events.publish
    monkeypatch.setattr(events, "publish", lambda name, **kw: (sent.append((name, kw["data"])), real(name, **kw)))
    return sent


def test_done_closes_publishes_once_and_restarts_the_break_clock(manager, sales, api_as, published):
    item = make_item(kind="callback", assignee=manager, department=sales)
    api = api_as(manager)
    first = api.post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "done", "note": "договорились"})
    again = api.post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "done"})
    assert first.status_code == 200 and first.json()["status"] == "done"
    assert first.json()["closed_reason"] == "договорились"
    assert again.status_code == 409
    assert [name for name, _ in published] == ["workitem.done"]
    assert ManagerShift.objects.get(user=manager).last_closed_at is not None


def test_no_answer_comes_back_after_the_departments_retry_minutes(manager, sales, api_as):
    DepartmentWorkSettings.objects.create(department=sales, retry_minutes=30)
    item = make_item(kind="callback", assignee=manager, department=sales)
    before = timezone.now()
    body = api_as(manager).post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "no_answer"}).json()
    item.refresh_from_db()
    assert body["status"] == "open" and item.assignee_id == manager.pk
    assert before + timedelta(minutes=29) < item.due_at < timezone.now() + timedelta(minutes=31)


def test_call_back_reschedules_to_next_at_with_the_capacity_checked(manager, sales, api_as):
    # given: capacity 1 and tomorrow already holds an item
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=1)
    item = make_item(kind="new_lead", assignee=manager, department=sales)
    tomorrow = timezone.now() + timedelta(days=1)
    make_item(kind="follow_up", assignee=manager, due_in_minutes=24 * 60)
    api = api_as(manager)
    # when: call back tomorrow (full), then the day after
    full = api.post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "call_back", "next_at": tomorrow.isoformat()})
    later = tomorrow + timedelta(days=1)
    ok = api.post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "call_back", "next_at": later.isoformat()})
    # then
    assert full.status_code == 409
    assert full.json()["next_free_day"] == timezone.localdate(later).isoformat()
    assert ok.status_code == 200 and ok.json()["status"] == "open"
    item.refresh_from_db()
    assert abs((item.due_at - later).total_seconds()) < 1


@pytest.mark.parametrize(("body", "field"), [
    ({"outcome": "call_back"}, "next_at"),
    ({"outcome": "call_back", "next_at": "2001-01-01T10:00:00+03:00"}, "next_at"),
    ({"outcome": "maybe"}, "outcome"),
    ({"outcome": "call_back", "next_at": "9999-12-31T23:59:59+00:00"}, "next_at"),
])
def test_bad_outcomes_are_400_naming_the_field(manager, sales, api_as, body, field):
    item = make_item(kind="callback", assignee=manager, department=sales)
    response = api_as(manager).post(f"/api/v1/work-items/{item.pk}/close", body)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}
    item.refresh_from_db()
    assert item.status == "open"


def test_not_interested_closes_and_loses_the_lead_with_a_reason(manager, sales, api_as, published):
    customer = make_customer(department=sales, responsible=manager)
    lead = Lead.objects.create(contact=customer, assignee=manager, department=sales, title="Заявка")
    item = make_item(kind="new_lead", assignee=manager, department=sales, contact=customer, lead=lead)
    reason = LostReasonFactory(name="Дорого")
    api = api_as(manager)
    no_reason = api.post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "not_interested"})
    closed = api.post(f"/api/v1/work-items/{item.pk}/close",
                      {"outcome": "not_interested", "lost_reason": "Дорого", "note": "передумал"})
    assert no_reason.status_code == 400 and no_reason.json()["errors"][0]["field"] == "lost_reason"
    assert closed.status_code == 200 and closed.json()["status"] == "done"
    assert closed.json()["closed_reason"] == "not_interested: передумал"
    lead.refresh_from_db()
    assert lead.status == Lead.Status.LOST and lead.lost_reason == reason
    assert [name for name, _ in published] == ["lead.lost", "workitem.done"]


def test_not_interested_without_a_lead_just_closes(manager, sales, api_as):
    item = make_item(kind="reactivation", assignee=manager, department=sales)
    body = api_as(manager).post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "not_interested"}).json()
    assert body["status"] == "done"


def test_an_outcome_for_someone_elses_item_is_refused(manager, sales, api_as):
    # given: a colleague's item on a card I may see (the department shares cards)
    colleague = UserFactory(department=sales)
    customer = make_customer(department=sales, responsible=colleague)
    item = make_item(kind="follow_up", assignee=colleague, department=sales, contact=customer)
    # when / then: I am refused, their head is not
    assert api_as(manager).post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "done"}).status_code == 403
    assert WorkItem.objects.get(pk=item.pk).status == "open"
    head = UserFactory(role="head", department=sales)
    assert api_as(head).post(f"/api/v1/work-items/{item.pk}/close", {"outcome": "done"}).status_code == 200
