"""The work queue behind the manager screen: Next, the dormant stack, daily capacity, outcomes.

Managers never pick: `workitem_next` serves the highest-ranked due item of their department
(ranks per kind from DepartmentWorkSettings), earliest due first within a kind, and claims it
so that two managers never get the same one. After too long a break it serves a dormant
customer to win back instead. docs/work.md describes the rules.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.models import Contact
from okno.core.errors import ApiError, FieldError
from okno.people.models import Department, User
from okno.people.visibility import contact_visibility_q, users_visible_to
from okno.work.models import DEFAULT_PRIORITIES, DepartmentWorkSettings, ManagerShift, WorkItem
from okno.work.services import manager_shift_mark, workitem_done
from okno.work.states import break_is_over

# A lost race (another manager claimed the row between our read and our UPDATE) is retried;
# each retry skips what was just taken, so a handful is plenty even with many managers.
CLAIM_ATTEMPTS = 8
# Dormant candidates read per round: enough to outlast the few that others claim meanwhile.
DORMANT_BATCH = 20
# How far ahead a full day looks for a free one (a year: past that the cap is the problem).
FREE_DAY_HORIZON_DAYS = 366
# Bookings further ahead are typos (year 2206), and the free-day search must stay in datetime's range.
MAX_AHEAD = timedelta(days=5 * 365)
MANAGER_KINDS = (WorkItem.Kind.FOLLOW_UP, WorkItem.Kind.CALLBACK)

SETTING_LIMITS = {  # field: (least, most)
    "daily_capacity": (0, 1000),
    "max_break_minutes": (0, 24 * 60),
    "dormant_after_days": (1, 3650),
    "retry_minutes": (1, 7 * 24 * 60),
    "wrap_up_seconds": (0, 60 * 60),
}


class Outcome:
    DONE = "done"
    NO_ANSWER = "no_answer"
    CALL_BACK = "call_back"
    NOT_INTERESTED = "not_interested"
    ALL = (DONE, NO_ANSWER, CALL_BACK, NOT_INTERESTED)


# -- settings ---------------------------------------------------------------------------------

def work_settings_for(department: Department | None) -> DepartmentWorkSettings:
    """The department's row, or the defaults (unsaved) when it has none."""
    if department is None:
        return DepartmentWorkSettings()
    found = DepartmentWorkSettings.objects.filter(department=department).first()
    return found or DepartmentWorkSettings(department=department)


def access_department_settings(*, actor: User, department: Department, write: bool) -> None:
    """Administrators and heads of the department (or above it) may change its rules; its own
    people may read them."""
    if actor.is_admin:
        return
    if actor.role == User.Role.HEAD and actor.department_id and department.pk in Department.objects.get(
            pk=actor.department_id).subtree_ids():
        return
    if not write and actor.department_id == department.pk:
        return
    raise ApiError(_("Only an administrator or the department's head may do this"), status=403)


def work_settings_update(*, actor: User, department: Department, data: dict) -> DepartmentWorkSettings:
    """Validates every field (each refusal names it) and saves; fields left out keep their value."""
    access_department_settings(actor=actor, department=department, write=True)
    if not isinstance(data, dict):
        raise FieldError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    row = work_settings_for(department)
    for key in data:
        if key not in SETTING_LIMITS and key != "priorities":
            errors[key] = "unknown field"
    if "priorities" in data:
        raw = data["priorities"]
        if not isinstance(raw, dict):
            errors["priorities"] = "must be an object {kind: rank}"
        else:
            clean = {}
            for kind, rank in raw.items():
                if kind not in DEFAULT_PRIORITIES:
                    errors[f"priorities.{kind}"] = "unknown kind; one of " + ", ".join(DEFAULT_PRIORITIES)
                elif isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= 100:
                    errors[f"priorities.{kind}"] = "must be a whole number from 1 to 100"
                else:
                    clean[kind] = rank
            row.priorities = clean
    for key, (least, most) in SETTING_LIMITS.items():
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
                errors[key] = f"must be a whole number from {least} to {most}"
            else:
                setattr(row, key, value)
    if errors:
        raise FieldError(errors)
    with transaction.atomic():
        if row.pk is None:
            # Two heads saving the first row at once: the second updates the first's row.
            existing = DepartmentWorkSettings.objects.select_for_update().filter(department=department).first()
            if existing is not None:
                row.pk = existing.pk
        row.save()
    return row


# -- Next ---------------------------------------------------------------------------------------

def _break_is_over(user: User, rules: DepartmentWorkSettings, now: datetime) -> bool:
    """True when the manager's last close was longer ago than the maximum break, or was not today
    (their day just started)."""
    last = ManagerShift.objects.filter(user=user).values_list("last_closed_at", flat=True).first()
    # The explicit states (break, wrap-up, on a call) decide when the person has set one.
    by_state = break_is_over(user=user, max_break_minutes=rules.max_break_minutes, last_closed_at=last, now=now)
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
    rules = work_settings_for(actor.department)
    if _break_is_over(actor, rules, now):
        item = _dormant_claim(actor=actor, rules=rules, now=now)
        if item is not None:
            return item
    return _queue_claim(actor=actor, rules=rules, now=now)


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
    department's first unassigned one, read with one indexed LIMIT 1 (the partial index
    `work_item_queue`: department, kind, due_at), locked with SKIP LOCKED on PostgreSQL. Sorting
    every due candidate by a CASE of the ranks instead cost 10-20 ms a call at 20,000 queued
    items (bench/bench_work.py)."""
    from django.conf import settings

    groups = _rank_groups(rules.rank())
    due = WorkItem.objects.filter(status=WorkItem.Status.OPEN, due_at__lte=now)
    for _attempt in range(CLAIM_ATTEMPTS):
        with transaction.atomic():
            own = list(due.filter(assignee_id=actor.pk).order_by("due_at", "id").values_list("kind", "due_at", "pk"))
            pk = None
            for kinds in groups:
                queued = due.filter(assignee__isnull=True, department_id=actor.department_id,
                                    kind__in=kinds).order_by("due_at", "id")
                if settings.IS_POSTGRES:
                    queued = queued.select_for_update(skip_locked=True)
                candidates = [(at, key) for kind, at, key in own if kind in kinds][:1]
                candidates += list(queued.values_list("due_at", "pk")[:1])
                if candidates:
                    pk = min(candidates)[1]
                    break
            if pk is None:
                return None
            # Conditional: changes the row only if nobody else got it (SQLite's race, a Postgres
            # row someone took and committed between the snapshot and our lock).
            claimed = WorkItem.objects.filter(pk=pk, status=WorkItem.Status.OPEN).filter(
                Q(assignee__isnull=True) | Q(assignee_id=actor.pk)).update(assignee=actor)
            if claimed == 1:
                return WorkItem.objects.get(pk=pk)
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


# -- capacity ---------------------------------------------------------------------------------

def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)


def next_free_day(*, user: User, day: date, cap: int, exclude_pk: int | None = None) -> date | None:
    """The first day from `day` on (the company's time zone) with fewer than `cap` open items of
    the person's, or None when `day` itself has room."""
    start, _end = _day_bounds(day)
    horizon, _ = _day_bounds(day + timedelta(days=FREE_DAY_HORIZON_DAYS))
    loads = dict(WorkItem.objects.filter(assignee=user, status=WorkItem.Status.OPEN, due_at__gte=start,
                                         due_at__lt=horizon).exclude(pk=exclude_pk or 0)
                 .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
                 .values("day").annotate(n=Count("id")).values_list("day", "n"))
    if loads.get(day, 0) < cap:
        return None
    for offset in range(1, FREE_DAY_HORIZON_DAYS):
        candidate = day + timedelta(days=offset)
        if loads.get(candidate, 0) < cap:
            return candidate
    return day + timedelta(days=FREE_DAY_HORIZON_DAYS)


def capacity_check(*, user: User, due_at: datetime, exclude_pk: int | None = None) -> None:
    """Refuses (409 with `next_free_day`) an item for a person whose day is full."""
    cap = work_settings_for(user.department).daily_capacity
    day = timezone.localdate(due_at)
    free = next_free_day(user=user, day=day, cap=cap, exclude_pk=exclude_pk)
    if free is not None:
        raise ApiError(_("%(day)s is full (%(cap)d items a day)") % {"day": day.isoformat(), "cap": cap}, status=409,
                       next_free_day=free.isoformat())


# -- create and close -----------------------------------------------------------------------------

@transaction.atomic
def workitem_create(*, actor: User, data: dict, now: datetime | None = None) -> WorkItem:
    """An item made by hand. Heads and administrators: any kind, for a person they manage or a
    department queue of theirs; managers: follow-ups and callbacks for themselves. A person's
    full day is refused with the next free one (409)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    manager = not (actor.is_admin or actor.role == User.Role.HEAD)
    kind = data.get("kind")
    if kind not in WorkItem.Kind.values:
        errors["kind"] = "unknown kind; one of " + ", ".join(WorkItem.Kind.values)
    elif manager and kind not in MANAGER_KINDS:
        errors["kind"] = "a manager may book only follow_up or callback"
    contact = None
    if data.get("contact_id") is not None:
        contact = Contact.objects.filter(contact_visibility_q(actor), pk=data["contact_id"],
                                         status=Contact.Status.ACTIVE).first() \
            if _is_id(data["contact_id"]) else None
        if contact is None:
            errors["contact_id"] = "no such contact"
    assignee, department = None, None
    if data.get("assignee_id") is not None and data.get("department_id") is not None:
        errors["assignee_id"] = "give assignee_id or department_id, not both"
    elif data.get("department_id") is not None:
        department = Department.objects.filter(pk=data["department_id"]).first() \
            if _is_id(data["department_id"]) else None
        if department is None:
            errors["department_id"] = "no such department"
        elif manager:
            errors["department_id"] = "a manager books items for themselves only"
        elif not actor.is_admin and department.pk not in Department.objects.get(
                pk=actor.department_id).subtree_ids():
            errors["department_id"] = "not a department of yours"
    else:
        raw = data.get("assignee_id", actor.pk)
        assignee = User.objects.filter(users_visible_to(actor), pk=raw, is_active=True).first() \
            if _is_id(raw) else None
        if assignee is None:
            errors["assignee_id"] = "not a person you may give work to"
        else:
            department = assignee.department
    due_at = _parse_due(data, errors, now)
    title = data.get("title") or ""
    if not isinstance(title, str) or len(title) > 300:
        errors["title"] = "text of at most 300 characters"
    if errors:
        raise FieldError(errors)
    if assignee is not None:
        capacity_check(user=assignee, due_at=due_at)
    return WorkItem.objects.create(kind=kind, contact=contact, assignee=assignee, department=department,
                                   due_at=due_at, title=title)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**63


def _parse_due(data: dict, errors: dict[str, str], now: datetime) -> datetime | None:
    from django.utils.dateparse import parse_date, parse_datetime

    if data.get("due_at"):
        try:
            due_at = parse_datetime(str(data["due_at"]))
        except ValueError:
            due_at = None
        if due_at is None:
            errors["due_at"] = "must be a date and time (ISO 8601)"
            return None
        if timezone.is_naive(due_at):
            due_at = timezone.make_aware(due_at)
        # A minute's grace: a form sent "now" arrives a moment later.
        if due_at < now - timedelta(minutes=1):
            errors["due_at"] = "is in the past"
        elif due_at > now + MAX_AHEAD:
            errors["due_at"] = "is more than 5 years ahead"
        return due_at
    if data.get("due_date"):
        try:
            day = parse_date(str(data["due_date"]))
        except ValueError:
            day = None
        if day is None:
            errors["due_date"] = "must be a date YYYY-MM-DD"
            return None
        if day < timezone.localdate(now):
            errors["due_date"] = "is in the past"
            return None
        if day > timezone.localdate(now) + MAX_AHEAD:
            errors["due_date"] = "is more than 5 years ahead"
            return None
        return _day_bounds(day)[0]
    errors["due_at"] = "give due_at or due_date"
    return None


@transaction.atomic
def workitem_assign(*, actor: User, item: WorkItem, assignee_id) -> WorkItem:
    """A head (or an administrator) gives an open item to one of their people by hand, the
    person's day capacity checked; managers take work only through Next."""
    if not (actor.is_admin or actor.role == User.Role.HEAD):
        raise ApiError(_("Only an administrator or the department's head may do this"), status=403)
    assignee = User.objects.filter(users_visible_to(actor), pk=assignee_id, is_active=True).first() \
        if _is_id(assignee_id) else None
    if assignee is None:
        raise FieldError({"assignee_id": "not a person you may give work to"})
    if item.status != WorkItem.Status.OPEN:
        raise ApiError(_("The item is closed already"), status=409)
    capacity_check(user=assignee, due_at=max(item.due_at, timezone.now()), exclude_pk=item.pk)
    if not WorkItem.objects.filter(pk=item.pk, status=WorkItem.Status.OPEN).update(
            assignee=assignee, department_id=assignee.department_id or item.department_id):
        raise ApiError(_("The item is closed already"), status=409)
    item.refresh_from_db()
    return item


def access_workitem_outcome(*, actor: User, item: WorkItem) -> None:
    """Outcomes are the assignee's; heads and administrators may record them for their people."""
    if item.assignee_id == actor.pk or actor.is_admin or actor.role == User.Role.HEAD:
        return
    raise ApiError(_("This item is not yours"), status=403)


@transaction.atomic
def workitem_close(*, actor: User, item: WorkItem, outcome: str, note: str = "", next_at: datetime | None = None,
                   lost_reason: str | int | None = None, lose_deal_id: int | None = None,
                   now: datetime | None = None) -> WorkItem:
    """Records the call's outcome. done: closed. no_answer: due again after the department's
    retry minutes. call_back: due at `next_at` (the person's day capacity checked).
    not_interested: closed, and with `lost_reason` what the customer said no to is lost: the
    deal `lose_deal_id` (an open deal of the item's customer), else the item's open deal, else its
    open lead. Closing publishes `workitem.done` (as workitem_done); every outcome restarts the
    manager's break clock."""
    now = now or timezone.now()
    access_workitem_outcome(actor=actor, item=item)
    if outcome not in Outcome.ALL:
        raise FieldError({"outcome": "one of " + ", ".join(Outcome.ALL)})
    if item.status != WorkItem.Status.OPEN:
        raise ApiError(_("The item is closed already"), status=409)
    note = (note or "")[:180]
    if outcome == Outcome.DONE:
        item = workitem_done(actor=actor, item=item, reason=note or "done")
    elif outcome == Outcome.NO_ANSWER:
        rules = work_settings_for(item.department or actor.department)
        WorkItem.objects.filter(pk=item.pk).update(due_at=now + timedelta(minutes=rules.retry_minutes))
    elif outcome == Outcome.CALL_BACK:
        if next_at is None:
            raise FieldError({"next_at": "required for call_back"})
        if timezone.is_naive(next_at):
            next_at = timezone.make_aware(next_at)
        if next_at <= now:
            raise FieldError({"next_at": "is in the past"})
        if next_at > now + MAX_AHEAD:
            raise FieldError({"next_at": "is more than 5 years ahead"})
        if item.assignee is not None:
            capacity_check(user=item.assignee, due_at=next_at, exclude_pk=item.pk)
        WorkItem.objects.filter(pk=item.pk).update(due_at=next_at)
    else:
        _lose_what_was_refused(actor=actor, item=item, lost_reason=lost_reason, lose_deal_id=lose_deal_id)
        item = workitem_done(actor=actor, item=item, reason=("not_interested: " + note) if note else "not_interested")
    if item.assignee_id:
        manager_shift_mark(user=item.assignee, at=now)
    item.refresh_from_db()
    return item


def _lose_what_was_refused(*, actor: User, item: WorkItem, lost_reason, lose_deal_id) -> None:
    """not_interested: the chosen deal (or the item's open deal) moves to its pipeline's lost
    stage through deal_move_to_stage, else the item's open lead is lost through lead_lose; either
    with a reason of the list (400 naming `lost_reason` without one)."""
    from okno.deals.deal_services import deal_move_to_stage
    from okno.deals.lead_services import lead_lose
    from okno.deals.models import Deal, Lead, Stage
    from okno.people.visibility import deal_visibility_q

    deal = None
    if lose_deal_id is not None:
        deal = Deal.objects.filter(deal_visibility_q(actor), pk=lose_deal_id).first() if _is_id(lose_deal_id) \
            else None
        if deal is None or not item.contact_id or deal.contact_id != item.contact_id:
            raise FieldError({"lose_deal_id": "not a deal of this item's customer"})
        if deal.closed_at is not None:
            raise FieldError({"lose_deal_id": "the deal is closed already"})
    elif item.deal_id:
        deal = Deal.objects.filter(pk=item.deal_id, closed_at__isnull=True).first()
    lead = Lead.objects.filter(pk=item.lead_id).first() if item.lead_id and deal is None else None
    if lead is not None and lead.status not in (Lead.Status.NEW, Lead.Status.IN_WORK):
        lead = None
    if deal is None and lead is None:
        return
    if lost_reason in (None, ""):
        what = "deal" if deal is not None else "lead"
        raise FieldError({"lost_reason": f"required: the item's {what} is closed as lost with a reason"})
    if lead is not None:
        lead_lose(actor=actor, lead=lead, reason=lost_reason)
        return
    lost = deal.pipeline.stages.filter(kind=Stage.Kind.LOST).order_by("position", "id").first()
    if lost is None:
        raise FieldError({"lose_deal_id": "the deal's pipeline has no lost stage"})
    deal_move_to_stage(deal=deal, stage=lost, actor=actor, via="user", reason=lost_reason)
