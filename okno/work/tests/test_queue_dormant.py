"""After too long a break Next serves the dormant stack: customers quiet for N days, the most
valuable first, each won back by one manager only."""

from datetime import timedelta
from decimal import Decimal

import pytest

from okno.deals.models import Deal
from okno.deals.tests.factories import DealFactory, PipelineFactory, stage_of
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.tests.factories import just_closed, make_customer, make_item


@pytest.fixture
def sales(db):
    department = DepartmentFactory(name="Продажи")
    department.share_contacts = True
    department.save()
    return department


def _won(contact, amount: str) -> Deal:
    pipeline = PipelineFactory()
    return DealFactory(pipeline=pipeline, stage=stage_of(pipeline, "won"), contact=contact,
                       amount=Decimal(amount))


def test_a_manager_back_from_a_long_break_gets_the_most_valuable_dormant_customer(sales, api_as):
    # given: a manager whose last close was 20 minutes ago (the break is 15), a due callback,
    # and three quiet customers: one who bought 10 000, one 50 000 in two deals, one nothing
    manager = UserFactory(department=sales)
    just_closed(manager, minutes_ago=20)
    make_item(kind="callback", department=sales, due_in_minutes=-5)
    small = make_customer(department=sales, quiet_days=120)
    _won(small, "10000")
    big = make_customer(department=sales, quiet_days=200)
    _won(big, "30000")
    _won(big, "20000")
    make_customer(department=sales, quiet_days=100)
    # when
    response = api_as(manager).post("/api/v1/work/next")
    # then a reactivation item for the big buyer, held by the manager, due now
    body = response.json()
    assert response.status_code == 200
    assert body["kind"] == "reactivation" and body["contact_id"] == big.pk and body["assignee_id"] == manager.pk


def test_equal_buyers_rank_by_the_most_recent_activity_and_the_active_are_not_dormant(sales, api_as):
    # given: two customers who bought nothing, quiet for 95 and 300 days; one active last week
    manager = UserFactory(department=sales)
    recent = make_customer(department=sales, quiet_days=95)
    make_customer(department=sales, quiet_days=300)
    lively = make_customer(department=sales, quiet_days=7)
    _won(lively, "999999")
    # when (the manager's day just started: no close today)
    body = api_as(manager).post("/api/v1/work/next").json()
    # then the more recently active of the dormant two
    assert body["contact_id"] == recent.pk


def test_the_department_sets_when_a_customer_is_dormant(sales, api_as):
    DepartmentWorkSettings.objects.create(department=sales, dormant_after_days=400)
    manager = UserFactory(department=sales)
    make_customer(department=sales, quiet_days=300)
    assert api_as(manager).post("/api/v1/work/next").status_code == 204


def test_within_the_break_the_queue_comes_first(sales, api_as):
    manager = UserFactory(department=sales)
    just_closed(manager, minutes_ago=3)
    make_customer(department=sales, quiet_days=200)
    callback = make_item(kind="callback", department=sales, due_in_minutes=-5)
    assert api_as(manager).post("/api/v1/work/next").json()["id"] == callback.pk


def test_customers_i_cannot_see_or_already_worked_are_not_served(sales, api_as):
    # given: a quiet customer of another department, one with an open item already
    manager = UserFactory(department=sales)
    make_customer(department=DepartmentFactory(), quiet_days=200)
    worked = make_customer(department=sales, quiet_days=200)
    make_item(kind="follow_up", contact=worked, department=sales, due_in_minutes=600)
    # when / then
    assert api_as(manager).post("/api/v1/work/next").status_code == 204


def test_two_managers_back_from_a_break_win_back_different_customers(sales, api_as):
    # given
    first, second = UserFactory(department=sales), UserFactory(department=sales)
    a = make_customer(department=sales, quiet_days=200)
    b = make_customer(department=sales, quiet_days=150)
    # when both press Next; the first again
    one = api_as(first).post("/api/v1/work/next").json()
    two = api_as(second).post("/api/v1/work/next").json()
    again = api_as(first).post("/api/v1/work/next").json()
    # then different customers, and the first keeps their item until it is closed
    assert {one["contact_id"], two["contact_id"]} == {a.pk, b.pk}
    assert again["id"] == one["id"]
    assert WorkItem.objects.filter(kind="reactivation").count() == 2


def test_one_open_reactivation_per_customer_is_enforced_by_the_database(sales):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    customer = make_customer(department=sales, quiet_days=200)
    WorkItem.objects.create(kind="reactivation", contact=customer, due_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkItem.objects.create(kind="reactivation", contact=customer, due_at=timezone.now() + timedelta(days=1))


@pytest.mark.django_db(transaction=True)
def test_managers_racing_for_the_dormant_stack_never_share_a_customer():
    import threading

    from django.db import connection

    from okno.work.queue import workitem_next

    # given: 4 managers at the start of their day, 12 dormant customers
    sales = DepartmentFactory(share_contacts=True)
    managers = [UserFactory(department=sales) for _ in range(4)]
    customers = {make_customer(department=sales, quiet_days=100 + i).pk for i in range(12)}
    got, errors = [], []

    def work(manager):
        try:
            for _ in range(3):
                item = workitem_next(actor=manager)
                got.append(item.contact_id)
                WorkItem.objects.filter(pk=item.pk).update(status="done")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=work, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every customer won back by exactly one manager
    assert errors == []
    assert sorted(got) == sorted(customers)
