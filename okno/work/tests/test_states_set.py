"""Manager states: set through the service and the API, kept as a history, read by the max-break rule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work import queue
from okno.work.models import AgentState, AgentStateEvent, WorkItem
from okno.work.states import agent_state_set, break_is_over, handle_times
from okno.work.tests.factories import just_closed, make_customer, make_item


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def manager(sales):
    return UserFactory(department=sales)


def test_each_change_closes_the_last_stretch_and_opens_the_next(manager, sales):
    t0 = timezone.now() - timedelta(minutes=30)
    item = make_item(assignee=manager, department=sales)
    agent_state_set(user=manager, state="idle", at=t0)
    agent_state_set(user=manager, state="on_call", item=item, at=t0 + timedelta(minutes=1))
    agent_state_set(user=manager, state="wrap_up", item=item, at=t0 + timedelta(minutes=4))
    row = agent_state_set(user=manager, state="idle", at=t0 + timedelta(minutes=5))

    assert row.state == "idle" and row.item_id is None and row.since == t0 + timedelta(minutes=5)
    events = list(AgentStateEvent.objects.filter(user=manager).order_by("started_at"))
    assert [e.state for e in events] == ["idle", "on_call", "wrap_up", "idle"]
    assert [e.ended_at for e in events][:3] == [e.started_at for e in events][1:]
    assert events[-1].ended_at is None
    times = handle_times(user_ids=[manager.pk], start=t0, end=timezone.now())[manager.pk]
    assert times.items == 1 and times.seconds == pytest.approx(240)


def test_the_same_state_again_changes_nothing_and_late_events_never_run_backwards(manager):
    t0 = timezone.now() - timedelta(minutes=10)
    agent_state_set(user=manager, state="break", at=t0)
    agent_state_set(user=manager, state="break", at=t0 + timedelta(minutes=1))
    row = agent_state_set(user=manager, state="idle", at=t0 - timedelta(minutes=5))

    assert AgentStateEvent.objects.filter(user=manager).count() == 2
    assert row.since == t0


def test_a_break_state_carries_no_item(manager, sales):
    item = make_item(assignee=manager, department=sales)
    row = agent_state_set(user=manager, state="break", item=item)
    assert row.item_id is None


def test_api_sets_and_reads_the_callers_state(manager, sales, api_as):
    api = api_as(manager)
    item = make_item(assignee=manager, department=sales)

    before = api.get("/api/v1/work/state")
    on_call = api.post("/api/v1/work/state", {"state": "on_call", "item_id": item.pk})
    after = api.get("/api/v1/work/state")

    assert before.status_code == 200 and before.json()["state"] == "offline"
    assert on_call.status_code == 200 and on_call.json()["item_id"] == item.pk
    assert after.json()["state"] == "on_call"


@pytest.mark.parametrize("body, field", [
    ({"state": "lunch"}, "state"),
    ({"state": "break", "item_id": 1}, "item_id"),
    ({"state": "on_call", "item_id": 999999}, "item_id"),
])
def test_api_refuses_a_bad_state_naming_the_field(manager, api_as, body, field):
    answer = api_as(manager).post("/api/v1/work/state", body)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert not AgentState.objects.filter(user=manager).exists()


def test_api_refuses_someone_elses_item(manager, sales, api_as):
    other = UserFactory(department=sales)
    item = make_item(assignee=other, department=sales)
    answer = api_as(manager).post("/api/v1/work/state", {"state": "on_call", "item_id": item.pk})
    assert answer.status_code == 403
    assert not AgentState.objects.filter(user=manager).exists()


def test_break_rule_reads_the_state(manager):
    now = timezone.now()
    assert break_is_over(user=manager, max_break_minutes=15, last_closed_at=None, now=now) is None
    agent_state_set(user=manager, state="break", at=now - timedelta(minutes=20))
    assert break_is_over(user=manager, max_break_minutes=15, last_closed_at=now - timedelta(minutes=21), now=now)
    agent_state_set(user=manager, state="idle", at=now - timedelta(minutes=1))
    # Back from the long break a minute ago, but the last close is old: still a break.
    assert break_is_over(user=manager, max_break_minutes=15, last_closed_at=now - timedelta(minutes=21), now=now)
    assert not break_is_over(user=manager, max_break_minutes=15, last_closed_at=now - timedelta(minutes=2), now=now)


def test_a_short_break_keeps_the_queue_a_long_one_serves_a_dormant_customer(manager, sales):
    make_customer(department=sales, responsible=manager)
    queued = make_item(kind="callback", department=sales)
    just_closed(manager, minutes_ago=1)
    agent_state_set(user=manager, state="break", at=timezone.now() - timedelta(minutes=5))
    assert queue.workitem_next(actor=manager).pk == queued.pk

    agent_state_set(user=manager, state="break", at=timezone.now() - timedelta(minutes=5))
    AgentState.objects.filter(user=manager).update(since=timezone.now() - timedelta(minutes=40))
    assert queue.workitem_next(actor=manager).kind == WorkItem.Kind.REACTIVATION


def test_on_a_call_the_break_clock_does_not_run(manager, sales):
    make_customer(department=sales, responsible=manager)
    held = make_item(kind="callback", assignee=manager, department=sales)
    just_closed(manager, minutes_ago=50)
    agent_state_set(user=manager, state="on_call", item=held, at=timezone.now() - timedelta(minutes=45))
    assert queue.workitem_next(actor=manager).pk == held.pk
