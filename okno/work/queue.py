"""The work queue behind the manager screen: Next and the dormant stack.

Managers never pick: `workitem_next` serves the highest-ranked due item of their department
(ranks per kind from DepartmentWorkSettings), earliest due first within a kind, and claims it
so that two managers never get the same one. After too long a break it serves a dormant
customer to win back instead. docs/work.md describes the rules.

The settings, booking (capacity, create, assign) and outcomes live in queue_settings.py,
booking.py and outcomes.py; their names are re-exported here, where callers found them first.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.models import Contact
from okno.core.errors import ApiError
from okno.people.models import User
from okno.people.visibility import contact_visibility_q
from okno.work import next_sql
from okno.work.booking import (  # noqa: F401  (re-exported)
    FREE_DAY_HORIZON_DAYS,
    MANAGER_KINDS,
    MAX_AHEAD,
    capacity_check,
    next_free_day,
    workitem_assign,
    workitem_create,
)
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.outcomes import Outcome, access_workitem_outcome, workitem_close  # noqa: F401  (re-exported)
from okno.work.queue_settings import (  # noqa: F401  (re-exported)
    SETTING_LIMITS,
    access_department_settings,
    work_settings_for,
    work_settings_update,
)
from okno.work.states import break_over

# A lost race (another manager claimed the row between our read and our UPDATE) is retried;
# each retry skips what was just taken, so a handful is plenty even with many managers.
CLAIM_ATTEMPTS = 8
# Dormant candidates read per round: enough to outlast the few that others claim meanwhile.
DORMANT_BATCH = 20


# -- Next ---------------------------------------------------------------------------------------

def _rules_and_break(actor: User, now: datetime) -> tuple[DepartmentWorkSettings, bool]:
    """The caller's department rules and whether their break is over: one statement
    (next_sql.rules_and_state) instead of three reads on every Next."""
    rules, last, state, since = next_sql.rules_and_state(user_id=actor.pk, department_id=actor.department_id)
    return rules, _break_is_over(rules=rules, state=state, since=since, last=last, now=now)


def _break_is_over(*, rules: DepartmentWorkSettings, state: str | None, since: datetime | None,
                   last: datetime | None, now: datetime) -> bool:
    """True when the manager's last close was longer ago than the maximum break, or was not today
    (their day just started); the explicit states (break, wrap-up, on a call) decide when the
    person has set one."""
    by_state = break_over(state=state, since=since, max_break_minutes=rules.max_break_minutes,
                          last_closed_at=last, now=now)
    if by_state is not None:
        return by_state
    if last is None:
        return True
    if timezone.localdate(last) != timezone.localdate(now):
        return True
    return now - last > timedelta(minutes=rules.max_break_minutes)


def workitem_next(*, actor: User, now: datetime | None = None) -> WorkItem | None:
    """The caller's next item, claimed for them, or None when nothing is due.

    After a break longer than the department's maximum (or at the day's start) a dormant
    customer comes first, when there is one; otherwise the queue: unassigned items of the
    department and the caller's own, due by now, ranked by kind, then earliest due."""
    if not actor.department_id:
        raise ApiError(_("You belong to no department, so you have no queue"), status=409)
    now = now or timezone.now()
    rules, break_over_now = _rules_and_break(actor, now)
    if break_over_now:
        item = _dormant_claim(actor=actor, rules=rules, now=now)
        if item is not None:
            return item
    if settings.IS_POSTGRES:
        return _queue_claim_postgres(actor=actor, rules=rules, now=now)
    return _queue_claim(actor=actor, rules=rules, now=now)


def _queue_claim_postgres(*, actor: User, rules: DepartmentWorkSettings, now: datetime) -> WorkItem | None:
    """As `_queue_claim`, in one statement per try (next_sql.claim_postgres): two round trips per
    Next in all instead of six."""
    groups = _rank_groups(rules.rank())
    for _attempt in range(CLAIM_ATTEMPTS):
        try:
            item = next_sql.claim_postgres(user_id=actor.pk, department_id=actor.department_id, groups=groups,
                                           now=now)
        except next_sql.LostRace:
            continue
        if item is not None:
            item.assignee = actor
        return item
    return None


def _rank_groups(rank: dict[str, int]) -> list[list[str]]:
    """The kinds in rank order, kinds of equal rank together (their items mix by due time)."""
    groups: dict[int, list[str]] = {}
    for kind, value in rank.items():
        groups.setdefault(value, []).append(kind)
    ordered = [groups[value] for value in sorted(groups)]
    unranked = [kind for kind in WorkItem.Kind.values if kind not in rank]
    return ordered + ([unranked] if unranked else [])


def _queue_claim(*, actor: User, rules: DepartmentWorkSettings, now: datetime) -> WorkItem | None:
    """Rank by rank: the caller's own due items of those kinds (a handful, read once) against the
    department's first unassigned one, read whole with one indexed LIMIT 1 (the partial index
    `work_item_queue`: department, kind, due_at), locked with SKIP LOCKED on PostgreSQL, so that
    concurrent managers lock different rows and never wait for each other. The queue's row is
    claimed by a conditional UPDATE and returned as read (no read-back); an own item needs no
    UPDATE. Sorting every due candidate by a CASE of the ranks instead cost 10-20 ms a call at
    20,000 queued items (bench/bench_work.py)."""
    groups = _rank_groups(rules.rank())
    due = WorkItem.objects.filter(status=WorkItem.Status.OPEN, due_at__lte=now)
    for _attempt in range(CLAIM_ATTEMPTS):
        with transaction.atomic():
            own = list(due.filter(assignee_id=actor.pk).order_by("due_at", "id").values_list("kind", "due_at", "pk"))
            for kinds in groups:
                mine = next(((at, pk) for kind, at, pk in own if kind in kinds), None)
                queued = due.filter(assignee__isnull=True, department_id=actor.department_id, kind__in=kinds)
                if mine is not None:  # only a queue item due before it beats it
                    queued = queued.filter(Q(due_at__lt=mine[0]) | Q(due_at=mine[0], pk__lt=mine[1]))
                if settings.IS_POSTGRES:
                    queued = queued.select_for_update(skip_locked=True)
                item = queued.order_by("due_at", "id").first()
                if item is not None:
                    break
                if mine is not None:
                    # Still the caller's and open? (A head may have given it away meanwhile.)
                    item = WorkItem.objects.filter(pk=mine[1], status=WorkItem.Status.OPEN,
                                                   assignee_id=actor.pk).first()
                    if item is not None:
                        return item
                    break
            else:
                return None
            if item is None:
                continue  # the own item was taken away: read again
            # Conditional: changes the row only if nobody else got it (SQLite's race, a Postgres
            # row someone took and committed between the snapshot and our lock).
            claimed = WorkItem.objects.filter(pk=item.pk, status=WorkItem.Status.OPEN).filter(
                Q(assignee__isnull=True) | Q(assignee_id=actor.pk)).update(assignee=actor)
            if claimed == 1:
                item.assignee = actor
                return item
    return None


def dormant_contacts(*, actor: User, days: int, now: datetime):
    """Active customers the caller may see with no activity for `days` days, no open item and no
    reactivation item in those days, most valuable first: won deals' sum, then the most recent last activity."""
    from okno.deals.models import Deal, Stage
    from okno.timeline.models import Activity

    cutoff = now - timedelta(days=days)
    won = (Deal.objects.filter(contact=OuterRef("pk"), stage__kind=Stage.Kind.WON).order_by()
           .values("contact").annotate(total=Sum("amount")).values("total"))
    last = Activity.objects.filter(contact=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    return (Contact.objects.filter(contact_visibility_q(actor), status=Contact.Status.ACTIVE,
                                   created_at__lt=cutoff)
            .exclude(Exists(Activity.objects.filter(contact=OuterRef("pk"), occurred_at__gte=cutoff)))
            .exclude(Exists(WorkItem.objects.filter(contact=OuterRef("pk"), status=WorkItem.Status.OPEN)))
            # Tried within the window already (closed with no call on the timeline): not again yet.
            .exclude(Exists(WorkItem.objects.filter(contact=OuterRef("pk"), kind=WorkItem.Kind.REACTIVATION,
                                                    created_at__gte=cutoff)))
            .annotate(won_sum=Coalesce(Subquery(won), Value(Decimal("0")),
                                       output_field=DecimalField(max_digits=16, decimal_places=2)),
                      last_at=Subquery(last))
            .order_by("-won_sum", "-last_at", "pk"))


class _TakenMeanwhile(Exception):
    pass


def _dormant_claim(*, actor: User, rules: DepartmentWorkSettings, now: datetime) -> WorkItem | None:
    """A reactivation item for the best dormant customer, assigned to the caller; the caller's
    own due reactivation item first, if they hold one. Two managers never get the same customer:
    an open reactivation item is unique per contact (a partial unique index), so the second
    insert fails and that manager moves on to the next candidate."""
    held = (WorkItem.objects.filter(kind=WorkItem.Kind.REACTIVATION, status=WorkItem.Status.OPEN,
                                    assignee_id=actor.pk, due_at__lte=now).order_by("due_at", "id").first())
    if held is not None:
        return held
    cutoff = now - timedelta(days=rules.dormant_after_days)
    for _round in range(CLAIM_ATTEMPTS):
        candidates = list(dormant_contacts(actor=actor, days=rules.dormant_after_days, now=now)
                          .values_list("pk", flat=True)[:DORMANT_BATCH])
        if not candidates:
            return None
        for contact_id in candidates:
            try:
                with transaction.atomic():
                    item = WorkItem.objects.create(
                        kind=WorkItem.Kind.REACTIVATION, contact_id=contact_id, assignee=actor,
                        department_id=actor.department_id, due_at=now)
                    # Another manager's item for this customer, made and closed since our read:
                    # the unique index no longer sees it, this check (after our insert) does.
                    if WorkItem.objects.filter(contact_id=contact_id, kind=WorkItem.Kind.REACTIVATION,
                                               created_at__gte=cutoff).exclude(pk=item.pk).exists():
                        raise _TakenMeanwhile
                    return item
            except (IntegrityError, _TakenMeanwhile):
                continue
    return None


