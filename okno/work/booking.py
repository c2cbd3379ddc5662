"""Booking work by hand: a person's daily capacity (409 with the next free day), items made by a
head or a manager, and a head's assignment of a queue item to one of their people.
docs/work.md, "Booking an item, daily capacity"."""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.models import Contact
from okno.core.errors import ApiError, FieldError
from okno.people.models import Department, User
from okno.people.visibility import contact_visibility_q, users_visible_to
from okno.work.models import WorkItem
from okno.work.queue_live import workitem_announce
from okno.work.queue_settings import work_settings_for

# How far ahead a full day looks for a free one (a year: past that the cap is the problem).
FREE_DAY_HORIZON_DAYS = 366
# Bookings further ahead are typos (year 2206), and the free-day search must stay in datetime's range.
MAX_AHEAD = timedelta(days=5 * 365)
MANAGER_KINDS = (WorkItem.Kind.FOLLOW_UP, WorkItem.Kind.CALLBACK)


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
    item = WorkItem.objects.create(kind=kind, contact=contact, assignee=assignee, department=department,
                                   due_at=due_at, title=title)
    workitem_announce(item)
    return item


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
    workitem_announce(item)  # the person's screen counts it at once
    return item


