"""Next's SQL hot path (okno/work/next_sql.py) is proven equal to the ORM path it replaces: the
same rules and break for any state, and on PostgreSQL the same item claimed, item after item,
for random queues (ranks with ties, own items, items not yet due, other departments)."""

import random
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work import next_sql, queue
from okno.work.models import DEFAULT_PRIORITIES, DepartmentWorkSettings, ManagerShift, WorkItem
from okno.work.queue_settings import work_settings_for_id
from okno.work.states import agent_state_set, break_is_over
from okno.work.tests.factories import make_item

KINDS = list(DEFAULT_PRIORITIES)


@pytest.mark.parametrize("state", [None, "idle", "on_call", "break"])
@pytest.mark.parametrize("closed_minutes_ago", [None, 2, 40])
@pytest.mark.parametrize("with_row", [False, True])
def test_rules_and_state_read_as_the_orm_reads_them(db, state, closed_minutes_ago, with_row):
    # given
    sales = DepartmentFactory()
    manager = UserFactory(department=sales)
    now = timezone.now()
    if with_row:
        DepartmentWorkSettings.objects.create(department=sales, priorities={"task": 1}, daily_capacity=7,
                                              max_break_minutes=9, dormant_after_days=30, retry_minutes=11,
                                              wrap_up_seconds=13)
    if closed_minutes_ago is not None:
        ManagerShift.objects.create(user=manager, last_closed_at=now - timedelta(minutes=closed_minutes_ago))
    if state is not None:
        agent_state_set(user=manager, state=state, at=now - timedelta(minutes=20))
    # when
    rules, last, got_state, since = next_sql.rules_and_state(user_id=manager.pk, department_id=sales.pk)
    # then
    plain = work_settings_for_id(sales.pk)
    assert (rules.pk, rules.rank(), rules.daily_capacity, rules.max_break_minutes, rules.dormant_after_days,
            rules.retry_minutes, rules.wrap_up_seconds) == (
        plain.pk, plain.rank(), plain.daily_capacity, plain.max_break_minutes, plain.dormant_after_days,
        plain.retry_minutes, plain.wrap_up_seconds)
    assert last == ManagerShift.objects.filter(user=manager).values_list("last_closed_at", flat=True).first()
    assert got_state == state
    by_state = break_is_over(user=manager, max_break_minutes=rules.max_break_minutes, last_closed_at=last, now=now)
    assert queue._break_is_over(rules=rules, state=got_state, since=since, last=last, now=now) == (
        by_state if by_state is not None else queue._break_is_over(rules=rules, state=None, since=None, last=last,
                                                                   now=now))


def _random_world(rng: random.Random):
    sales, other = DepartmentFactory(), DepartmentFactory()
    me, colleague = UserFactory(department=sales), UserFactory(department=sales)
    now = timezone.now()
    for _ in range(rng.randrange(0, 30)):
        kind = rng.choice(KINDS)
        due = rng.choice([-600, -300, -60, -5, -5, 30])  # equal due times on purpose: the id decides
        owner = rng.choice([None, None, None, me, colleague])
        make_item(kind=kind, due_in_minutes=due, now=now, assignee=owner,
                  department=rng.choice([sales, sales, other]))
    ranks = {kind: rng.randrange(1, 4) for kind in rng.sample(KINDS, rng.randrange(0, len(KINDS) + 1))}
    rules = DepartmentWorkSettings(department=sales, priorities=ranks)
    return me, rules, now


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="the one-statement claim is PostgreSQL's")
@pytest.mark.parametrize("seed", range(25))
def test_the_one_statement_claim_serves_what_the_orm_claim_serves(db, seed):
    # given a random queue, and the same queue again (a savepoint rolled back between the two runs)
    rng = random.Random(seed)
    me, rules, now = _random_world(rng)

    def drain(claim) -> list[int]:
        served = []
        for _ in range(40):
            item = claim(actor=me, rules=rules, now=now)
            if item is None:
                return served
            assert item.assignee_id == me.pk
            served.append(item.pk)
            WorkItem.objects.filter(pk=item.pk).update(status="done")
        return served

    with transaction.atomic():
        by_orm = drain(queue._queue_claim)
        transaction.set_rollback(True)
    # when
    by_sql = drain(queue._queue_claim_postgres)
    # then: the same items in the same order, and the claimed rows are the caller's
    assert by_sql == by_orm
    assert set(WorkItem.objects.filter(pk__in=by_sql).values_list("assignee_id", flat=True)) <= {me.pk}
