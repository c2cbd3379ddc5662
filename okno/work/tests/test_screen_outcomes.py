"""Outcomes from the screen: not interested loses the chosen deal (or the lead) with a reason;
every outcome puts the manager in wrap-up; a break is a break."""

import pytest

from okno.contacts.tests.factories import make_contact
from okno.core.errors import FieldError
from okno.deals.models import Lead, Stage
from okno.deals.tests.factories import DealFactory, LostReasonFactory, PipelineFactory
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import WorkItem
from okno.work.models_states import AgentState, AgentStatus
from okno.work.screen import screen_break, screen_next, screen_outcome
from okno.work.tests.factories import just_closed, make_item


@pytest.fixture
def manager(db):
    return UserFactory(department=DepartmentFactory())


@pytest.fixture
def customer(manager):
    return make_contact(actor=manager, phones=["+7 916 123-45-67"])


def test_not_interested_loses_the_chosen_deal_with_its_reason(manager, customer):
    # given: the customer has two open deals; the item is about neither
    pipeline = PipelineFactory()
    first, second = (DealFactory(pipeline=pipeline, contact=customer, responsible=manager) for _ in range(2))
    reason = LostReasonFactory(name="Дорого")
    item = make_item(kind="follow_up", contact=customer, assignee=manager, department=manager.department)
    # when
    screen_outcome(actor=manager, item=item, outcome="not_interested", note="передумал", lost_reason="Дорого",
                   lose_deal_id=second.pk)
    # then
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.stage.kind == Stage.Kind.LOST and second.lost_reason_id == reason.pk
    assert first.closed_at is None
    item.refresh_from_db()
    assert item.status == WorkItem.Status.DONE and item.closed_reason == "not_interested: передумал"


def test_not_interested_on_a_deals_item_loses_that_deal_and_wants_a_reason(manager, customer):
    deal = DealFactory(contact=customer, responsible=manager)
    item = make_item(kind="task", contact=customer, deal=deal, assignee=manager, department=manager.department)
    with pytest.raises(FieldError) as refused:
        screen_outcome(actor=manager, item=item, outcome="not_interested")
    assert "lost_reason" in refused.value.by_field
    LostReasonFactory(name="Ушёл к конкурентам")
    screen_outcome(actor=manager, item=item, outcome="not_interested", lost_reason="Ушёл к конкурентам")
    deal.refresh_from_db()
    assert deal.stage.kind == Stage.Kind.LOST


def test_a_deal_of_another_customer_is_refused_and_nothing_is_lost(manager, customer):
    other = DealFactory(contact=make_contact(actor=manager, first_name="Пётр"), responsible=manager)
    LostReasonFactory(name="Дорого")
    item = make_item(kind="follow_up", contact=customer, assignee=manager, department=manager.department)
    with pytest.raises(FieldError) as refused:
        screen_outcome(actor=manager, item=item, outcome="not_interested", lost_reason="Дорого",
                       lose_deal_id=other.pk)
    assert "lose_deal_id" in refused.value.by_field
    other.refresh_from_db()
    item.refresh_from_db()
    assert other.closed_at is None and item.status == WorkItem.Status.OPEN


def test_without_a_deal_the_items_lead_is_lost(manager, customer):
    lead = Lead.objects.create(contact=customer, assignee=manager, department=manager.department, title="Заявка")
    LostReasonFactory(name="Дорого")
    item = make_item(kind="new_lead", contact=customer, lead=lead, assignee=manager, department=manager.department)
    screen_outcome(actor=manager, item=item, outcome="not_interested", lost_reason="Дорого")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.LOST


def test_next_puts_the_manager_on_a_call_the_outcome_in_wrap_up_and_break_on_a_break(manager, customer):
    item = make_item(kind="callback", contact=customer, assignee=manager, department=manager.department)
    just_closed(manager)
    # when
    opened = screen_next(actor=manager)
    on_call = AgentState.objects.get(user=manager)
    assert opened.item.pk == item.pk and (on_call.state, on_call.item_id) == (AgentStatus.ON_CALL, item.pk)
    # the manager has no extension: the call could not start, and the screen says why
    assert opened.call is None and "extension" in opened.call_error
    # Next again while the item is open: the same item, no second call
    assert screen_next(actor=manager).item.pk == item.pk
    screen_outcome(actor=manager, item=item, outcome="done")
    assert AgentState.objects.get(user=manager).state == AgentStatus.WRAP_UP
    screen_break(actor=manager)
    assert AgentState.objects.get(user=manager).state == AgentStatus.BREAK
    # nothing due: idle
    assert screen_next(actor=manager).item is None
    assert AgentState.objects.get(user=manager).state == AgentStatus.IDLE


def test_the_api_close_takes_the_deal_to_lose(manager, customer, api_as):
    deal = DealFactory(contact=customer, responsible=manager)
    LostReasonFactory(name="Дорого")
    item = make_item(kind="follow_up", contact=customer, assignee=manager, department=manager.department)
    answer = api_as(manager).post(f"/api/v1/work-items/{item.pk}/close", {
        "outcome": "not_interested", "lost_reason": "Дорого", "lose_deal_id": deal.pk})
    assert answer.status_code == 200 and answer.json()["status"] == "done"
    deal.refresh_from_db()
    assert deal.stage.kind == Stage.Kind.LOST
    bad = make_item(kind="follow_up", contact=customer, assignee=manager, department=manager.department)
    refused = api_as(manager).post(f"/api/v1/work-items/{bad.pk}/close", {
        "outcome": "not_interested", "lost_reason": "Дорого", "lose_deal_id": 10**9})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "lose_deal_id"
