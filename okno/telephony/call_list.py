"""The calls behind a figure: one list of calls filtered as the calls report counts them.

The report (okno.analytics.calls_report) links every figure here with that figure's filters, so the
definitions the filters need are here, in telephony, where the report can use them too:
- which calls a user may count: an administrator all, a head the calls of their department's tree,
  anyone else their own (`staff_calls_q`, the same rule as okno.analytics.scope);
- answered, missed, successful (a threshold the analytics app registers; 20 s without it);
- called back: an answered outbound call to the number within the callback window after the missed
  call ended (`callbacks_matched`, which the report's own look-up uses).

Telephony sits below analytics (okno/core/tests/test_import_direction.py), so the two settings it
does not own, the success threshold and the callback window, come through `counting_register`.
"""

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from okno.contacts.models import Contact, Tag
from okno.core.errors import ApiError
from okno.core.paging import MAX_ID
from okno.people.models import User
from okno.telephony.models import Call

ANSWERED = Q(outcome=Call.Outcome.ANSWERED)
MISSED = Q(direction=Call.Direction.IN) & ~ANSWERED
# A call that has ended: the report counts no call before it ends (issue 16: "calls" are finished
# calls). A ringing call is `ongoing`; an answered call (or one a machine took) has its outcome at
# the answer, so it is finished only once it has an end. Other outcomes come only with an end
# (`ended_at` stays empty when the PBX's end carried no time).
FINISHED = ~Q(outcome=Call.Outcome.ONGOING) & (
    Q(ended_at__isnull=False) | ~Q(outcome__in=(Call.Outcome.ANSWERED, Call.Outcome.MACHINE)))
CALLBACK_OUTCOMES = ("called_back", "missed_not_called_back")
# The `outcome` filter's values: what a call was, as the report counts it.
OUTCOMES = ("answered", "successful", "missed", *CALLBACK_OUTCOMES, "machine", "voicemail")
# Names the callback look-up at once (an IN list); the (customer_number, started_at) index makes
# each number one probe.
NUMBERS_PER_QUERY = 500
# Without the analytics app: the same defaults as its settings.
DEFAULT_THRESHOLD_SECONDS = 20
DEFAULT_WINDOW_MINUTES = 30
NONE = "none"  # employee=none: the calls of no employee (the report's "No employee" row)


@dataclass
class _Counting:
    successful_q: Callable[[], Q] = lambda: ANSWERED & Q(talk_seconds__gte=DEFAULT_THRESHOLD_SECONDS)
    callback_window: Callable[[], timedelta] = lambda: timedelta(minutes=DEFAULT_WINDOW_MINUTES)


_counting = _Counting()


def counting_register(*, successful_q: Callable[[], Q], callback_window: Callable[[], timedelta]) -> None:
    """The analytics app's definitions of successful and of the callback window (its settings)."""
    _counting.successful_q, _counting.callback_window = successful_q, callback_window


def successful_q() -> Q:
    return _counting.successful_q()


def callback_window() -> timedelta:
    return _counting.callback_window()


def staff_calls_q(user) -> Q:
    """The calls `user` may count: everyone's for an administrator, the department tree's (by the
    call's department) for a head, else their own (the calls whose employee they are)."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    if user.role == User.Role.HEAD and user.department_id is not None:
        return Q(department_id__in=user.department.subtree_ids())
    return Q(employee_id=user.pk)


# --- called back ---------------------------------------------------------------------------------

def callbacks_matched(missed: Iterable[tuple], *, window: timedelta) -> Iterator[tuple[object, float]]:
    """(tag, seconds to call back) of each missed call (tag, number, started_at, ended_at) called
    back in time: the earliest answered outbound call to its number that started within `window`
    after the missed call ended (its start when the PBX sent no end)."""
    missed = [m for m in missed if m[1]]
    if not missed:
        return
    numbers = sorted({m[1] for m in missed})
    refs = [m[3] or m[2] for m in missed]
    lo, hi = min(refs), max(refs) + window
    starts: dict[str, list[datetime]] = defaultdict(list)
    for i in range(0, len(numbers), NUMBERS_PER_QUERY):
        # No ORDER BY: with the model's (-started_at) ordering SQLite walked the started_at index
        # instead of probing (customer_number, started_at) per number (6x slower, docs/analytics.md).
        outbound = Call.objects.filter(direction=Call.Direction.OUT, outcome=Call.Outcome.ANSWERED,
                                       customer_number__in=numbers[i:i + NUMBERS_PER_QUERY],
                                       started_at__gte=lo, started_at__lte=hi).order_by()
        for number, at in outbound.values_list("customer_number", "started_at"):
            starts[number].append(at)
    for found in starts.values():
        found.sort()
    for tag, number, started_at, ended_at in missed:
        found = starts.get(number)
        if not found:
            continue
        ref = ended_at or started_at
        i = bisect.bisect_left(found, ref)
        if i < len(found) and found[i] <= ref + window:
            yield tag, (found[i] - ref).total_seconds()


def called_back_ids(missed_qs: QuerySet, *, window: timedelta | None = None) -> set[int]:
    """The ids of the missed calls in `missed_qs` that were called back in time."""
    rows = missed_qs.order_by().values_list("pk", "customer_number", "started_at", "ended_at")
    return {pk for pk, _s in callbacks_matched(rows, window=window if window is not None else callback_window())}


def outcome_filter(qs: QuerySet, outcome: str) -> QuerySet:
    """The calls of `qs` that were `outcome` (one of OUTCOMES)."""
    if outcome == "answered":
        return qs.filter(ANSWERED)
    if outcome == "successful":
        return qs.filter(successful_q())
    if outcome == "missed":
        return qs.filter(MISSED)
    if outcome in CALLBACK_OUTCOMES:
        missed = qs.filter(MISSED)
        ids = called_back_ids(missed)
        return missed.filter(pk__in=ids) if outcome == "called_back" else missed.exclude(pk__in=ids)
    return qs.filter(outcome=outcome)  # machine, voicemail


# --- the list's question -------------------------------------------------------------------------

def invalid(name: str, reason: str) -> ApiError:
    return ApiError("Invalid input", status=422, errors=[{"field": name, "reason": reason}])


@dataclass(frozen=True)
class CallFilter:
    """Whole days `start`..`end` in the company's time zone (either may be open) and the filters."""

    start: date | None = None
    end: date | None = None
    direction: str = ""
    line: str = ""
    department: int | str | None = None  # an id, or NONE
    employee: int | str | None = None
    client: int | str | None = None
    tag: int | None = None
    outcomes: tuple[str, ...] = field(default_factory=tuple)


FILTER_PARAMS = ("from", "to", "direction", "line", "department", "employee", "client", "tag", "outcome")


def _day(params, name: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise invalid(name, "must be a date as YYYY-MM-DD") from None
    if not 2 <= day.year <= 9998:
        raise invalid(name, "out of range")
    return day


def _ref(params, name: str, *, none: bool = True) -> int | str | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if none and raw == NONE:
        return NONE
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 1 <= int(raw) <= MAX_ID:
        raise invalid(name, "must be an id (a whole number from 1)" + (f" or {NONE}" if none else ""))
    return int(raw)


def call_filter_parse(params, *, known: Iterable[str] = FILTER_PARAMS) -> CallFilter:
    """The filters from a query string (the page's and the API's); a 422 naming the first bad one:
    an unknown parameter, a date that is not one or `from` after `to`, an unknown direction or
    outcome, an id that is not one, a tag that does not exist."""
    known = set(known)
    for name in params:
        if name not in known:
            raise invalid(name, f"unknown parameter; known: {', '.join(sorted(known))}")
    start, end = _day(params, "from"), _day(params, "to")
    if start and end and start > end:
        raise invalid("from", "must not be after to")
    direction = (params.get("direction") or "").strip()
    if direction and direction not in Call.Direction.values:
        raise invalid("direction", f"must be one of {', '.join(Call.Direction.values)}")
    line = (params.get("line") or "").strip()
    if len(line) > 64 or not line.isprintable():
        raise invalid("line", "at most 64 printable characters")
    getlist = getattr(params, "getlist", None)
    raw_outcomes = getlist("outcome") if getlist else [params.get("outcome") or ""]
    outcomes = tuple(o.strip() for o in raw_outcomes if o.strip())
    for outcome in outcomes:
        if outcome not in OUTCOMES:
            raise invalid("outcome", f"must be one of {', '.join(OUTCOMES)}")
    tag = _ref(params, "tag", none=False)
    if tag is not None and not Tag.objects.filter(pk=tag).exists():
        raise invalid("tag", "no such tag")
    return CallFilter(start=start, end=end, direction=direction, line=line,
                      department=_ref(params, "department"), employee=_ref(params, "employee"),
                      client=_ref(params, "client"), tag=tag, outcomes=outcomes)


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    tz = ZoneInfo(settings.TIME_ZONE)
    return (datetime.combine(start, time.min, tzinfo=tz) if start else None,
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz) if end else None)


def _by_ref(qs: QuerySet, column: str, value) -> QuerySet:
    if value is None:
        return qs
    return qs.filter(**{f"{column}__isnull": True} if value == NONE else {column: value})


def calls_filtered(qs: QuerySet, f: CallFilter) -> QuerySet:
    """`qs` (calls) narrowed by `f`. Calls still in progress are left out, as the report does."""
    qs = qs.filter(FINISHED)
    lo, hi = day_bounds(f.start, f.end)
    if lo:
        qs = qs.filter(started_at__gte=lo)
    if hi:
        qs = qs.filter(started_at__lt=hi)
    if f.direction:
        qs = qs.filter(direction=f.direction)
    if f.line:
        qs = qs.filter(line=f.line)
    qs = _by_ref(qs, "department_id", f.department)
    qs = _by_ref(qs, "employee_id", f.employee)
    qs = _by_ref(qs, "contact_id", f.client)
    if f.tag is not None:
        # A subquery, not a join: a join through the tags would be one row per tag.
        qs = qs.filter(contact_id__in=Contact.tags.through.objects.filter(tag_id=f.tag).values("contact_id"))
    for outcome in f.outcomes:
        qs = outcome_filter(qs, outcome)
    return qs


def calls_list_for_staff(*, user, f: CallFilter) -> QuerySet:
    """The calls page's rows: what `user` may count (staff_calls_q), filtered, newest first."""
    qs = Call.objects.filter(staff_calls_q(user))
    return calls_filtered(qs, f).select_related("contact", "employee", "department").order_by("-started_at", "-id")
