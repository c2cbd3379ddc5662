"""The calls report, computed live from the Call rows: one GROUP BY over the period's calls (the
`started_at` index bounds it), plus one look-up of the outbound calls that called the missed
ones back. No nightly batch and no rollup table yet (docs/analytics.md says how one would come).

Definitions (docs/analytics.md):
- a call counts in the period its `started_at` falls in, whole days in settings.TIME_ZONE; calls
  still in progress (`outcome=ongoing`) are not counted yet;
- answered: `outcome=answered`, i.e. a person's leg connected (the IVR never makes a call answered;
  a voicemail is its own outcome);
- successful: answered and `talk_seconds` >= the threshold (the call's department's own, else the
  company's). `talk_seconds` runs from the employee's answer, so greeting, IVR, queue and ringing
  are not in it (okno.telephony.calls);
- missed: inbound and not answered (missed, abandoned in IVR, busy, failed, voicemail);
- called back: an answered outbound call to the same number that started within the window after
  the missed call ended; time to call back = from the missed call's end to that call's start
  (okno.telephony.call_list.callbacks_matched, which the calls list behind a figure uses too);
- an answering machine (`outcome=machine`, Asterisk's AMD) or a voicemail is never answered.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from okno.analytics.labels import user_names
from okno.analytics.periods import (  # noqa: F401 (Period, MAX_DAYS, invalid: re-exported for the calls' callers)
    COMPARES,
    MAX_DAYS,
    Period,
    invalid,
    parse_id,
    parse_known,
    parse_period,
)
from okno.analytics.scope import calls_scope_q, check_filters
from okno.analytics.services import analytics_settings_get, department_thresholds
from okno.contacts.models import Contact, Tag
from okno.people.models import Department
from okno.telephony.call_list import (
    CALLBACK_OUTCOMES,
    FINISHED,
    OUTCOMES,
    callbacks_matched,
    counting_register,
)
from okno.telephony.models import Call

GROUPS = ("employee", "department", "line", "client", "day")
FILTERS = ("direction", "line", "department", "employee", "outcome", "tag")
PARAMS = {"from", "to", "group_by", "compare", *FILTERS}
FIGURES = ("calls", "answered", "successful", "missed", "missed_not_called_back", "talk_seconds",
           "talk_seconds_avg", "wait_seconds_avg", "callback_seconds_avg")
ANSWERED = Q(outcome=Call.Outcome.ANSWERED)
MISSED = Q(direction=Call.Direction.IN) & ~ANSWERED
WAITED = Q(direction=Call.Direction.IN, wait_seconds__isnull=False)


@dataclass(frozen=True)
class CallsQuery:
    period: Period
    group_by: str = "employee"
    compare: str = ""
    direction: str = ""
    line: str = ""
    department: int | None = None
    employee: int | None = None
    outcome: str = ""  # okno.telephony.call_list.OUTCOMES: count only the calls that were this
    tag: int | None = None  # only the calls of contacts with this tag

    def filters(self) -> dict:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name) not in ("", None)}


def calls_query_parse(params) -> CallsQuery:
    """The report's question from a query string (the API's and the page's alike); a 422 naming the
    first bad parameter: an unknown one, a date that is not one, `from` after `to`, a period over
    MAX_DAYS, an unknown grouping, comparison or direction."""
    parse_known(params, PARAMS)
    period = parse_period(params)
    group_by = (params.get("group_by") or "employee").strip()
    if group_by not in GROUPS:
        raise invalid("group_by", f"must be one of {', '.join(GROUPS)}")
    compare = (params.get("compare") or "").strip()
    if compare and compare not in COMPARES:
        raise invalid("compare", f"must be one of {', '.join(COMPARES)}")
    direction = (params.get("direction") or "").strip()
    if direction and direction not in Call.Direction.values:
        raise invalid("direction", f"must be one of {', '.join(Call.Direction.values)}")
    line = (params.get("line") or "").strip()
    if len(line) > 64:
        raise invalid("line", "at most 64 characters")
    if not line.isprintable():  # PostgreSQL refuses a NUL in a query: a 500 otherwise
        raise invalid("line", "must not hold control characters")
    outcome = (params.get("outcome") or "").strip()
    if outcome and outcome not in OUTCOMES:
        raise invalid("outcome", f"must be one of {', '.join(OUTCOMES)}")
    tag = parse_id(params, "tag")
    if tag is not None and not Tag.objects.filter(pk=tag).exists():
        raise invalid("tag", "no such tag")
    return CallsQuery(period, group_by, compare, direction, line, parse_id(params, "department"),
                      parse_id(params, "employee"), outcome, tag)


# --- the computation ---------------------------------------------------------------------------

@dataclass
class _Acc:
    calls: int = 0
    answered: int = 0
    successful: int = 0
    missed: int = 0
    called_back: int = 0
    callback_seconds: float = 0
    talk_seconds: int = 0
    wait_seconds: int = 0
    waited: int = 0

    def add(self, other: "_Acc") -> None:
        self.calls += other.calls
        self.answered += other.answered
        self.successful += other.successful
        self.missed += other.missed
        self.called_back += other.called_back
        self.callback_seconds += other.callback_seconds
        self.talk_seconds += other.talk_seconds
        self.wait_seconds += other.wait_seconds
        self.waited += other.waited

    def figures(self) -> dict:
        return {
            "calls": self.calls, "answered": self.answered, "successful": self.successful, "missed": self.missed,
            "missed_not_called_back": self.missed - self.called_back, "talk_seconds": self.talk_seconds,
            "talk_seconds_avg": _avg(self.talk_seconds, self.answered),
            "wait_seconds_avg": _avg(self.wait_seconds, self.waited),
            "callback_seconds_avg": _avg(self.callback_seconds, self.called_back),
        }


def _avg(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def _key_expr(group_by: str):
    tz = ZoneInfo(settings.TIME_ZONE)
    return {"employee": F("employee_id"), "department": F("department_id"), "line": F("line"),
            "client": F("contact_id"), "day": TruncDate("started_at", tzinfo=tz)}[group_by]


def _base_qs(*, user, query: CallsQuery, period: Period, only: Q | None = None):
    lo, hi = period.bounds()
    qs = Call.objects.filter(calls_scope_q(user), started_at__gte=lo, started_at__lt=hi).filter(
        FINISHED)
    if only is not None:  # the rest of today beside its sums (okno.analytics.rollup_today)
        qs = qs.filter(only)
    if query.direction:
        qs = qs.filter(direction=query.direction)
    if query.line:
        qs = qs.filter(line=query.line)
    if query.department is not None:
        qs = qs.filter(department_id=query.department)
    if query.employee is not None:
        qs = qs.filter(employee_id=query.employee)
    if query.tag is not None:
        # A subquery, not a join through the tags: a join would count a call once per matching row.
        qs = qs.filter(contact_id__in=Contact.tags.through.objects.filter(tag_id=query.tag).values("contact_id"))
    if query.outcome:
        qs = _outcome_filter(qs, query.outcome)
    return qs


def _successful_q() -> Q:
    conf = analytics_settings_get()
    return ANSWERED & Q(talk_seconds__gte=_threshold_expr(conf.success_threshold_seconds, department_thresholds()))


def _window() -> timedelta:
    return timedelta(minutes=analytics_settings_get().callback_window_minutes)


def _outcome_filter(qs, outcome: str):
    """The calls of `qs` that were `outcome`, by the report's own definitions."""
    if outcome == "answered":
        return qs.filter(ANSWERED)
    if outcome == "successful":
        return qs.filter(_successful_q())
    if outcome == "missed":
        return qs.filter(MISSED)
    if outcome in CALLBACK_OUTCOMES:
        missed = qs.filter(MISSED)
        rows = missed.order_by().values_list("pk", "customer_number", "started_at", "ended_at")
        ids = {pk for pk, _s in callbacks_matched(rows, window=_window())}
        return missed.filter(pk__in=ids) if outcome == "called_back" else missed.exclude(pk__in=ids)
    return qs.filter(outcome=outcome)


# The calls list behind a figure (okno.telephony.call_list) counts successful and called back with
# these settings: telephony is below analytics, so it is told (this module is imported at start-up,
# by the rollup's registration in AnalyticsConfig.ready).
counting_register(successful_q=_successful_q, callback_window=_window)


def _threshold_expr(company: int, overrides: dict[int, int]):
    if not overrides:
        return Value(company)
    return Case(*(When(department_id=d, then=Value(t)) for d, t in sorted(overrides.items())),
                default=Value(company), output_field=IntegerField())


def _accumulate(*, user, query: CallsQuery, period: Period, threshold: int, overrides: dict[int, int],
                window: timedelta, with_callbacks: bool = True, rollup: bool = True, only: Q | None = None) -> dict:
    if rollup:  # past whole days from the daily rollup when it can answer (okno.analytics.rollup_read)
        from okno.analytics.rollup_read import rollup_accumulate  # it imports this module

        accs = rollup_accumulate(user=user, query=query, period=period, threshold=threshold, overrides=overrides,
                                 window=window, with_callbacks=with_callbacks)
        if accs is not None:
            return accs
    qs = _base_qs(user=user, query=query, period=period, only=only).annotate(k=_key_expr(query.group_by))
    successful = ANSWERED & Q(talk_seconds__gte=_threshold_expr(threshold, overrides))
    if with_callbacks and connection.vendor == "postgresql":
        return _accumulate_one_scan(qs, successful=successful, window=window)
    rows = qs.values("k").annotate(
        calls=Count("id"), answered=Count("id", filter=ANSWERED), successful=Count("id", filter=successful),
        missed=Count("id", filter=MISSED), talk=Coalesce(Sum("talk_seconds", filter=ANSWERED), 0),
        wait=Coalesce(Sum("wait_seconds", filter=WAITED), 0), waited=Count("id", filter=WAITED),
    ).order_by()
    accs: dict = {}
    for r in rows:
        accs[_norm_key(r["k"])] = _Acc(r["calls"], r["answered"], r["successful"], r["missed"], 0, 0, r["talk"],
                                       r["wait"], r["waited"])
    if not with_callbacks or not any(acc.missed for acc in accs.values()):
        return accs  # nothing to call back (a period before the first call, a filter on outbound calls)
    for key, seconds in _callbacks(qs.filter(MISSED), window=window):
        acc = accs[_norm_key(key)]
        acc.called_back += 1
        acc.callback_seconds += seconds
    return accs


def _norm_key(k):
    return k.isoformat() if isinstance(k, date) else k


def _callbacks(missed_qs, *, window: timedelta):
    """(group key, seconds to call back) of each missed call that was called back in time: the
    earliest answered outbound call to its number starting within `window` after it ended (the
    definition of okno.telephony.call_list.callbacks_matched). One statement: a correlated look-up
    per missed call, each a probe of the (customer_number, started_at) index; the window is
    applied here, so the database does no date arithmetic (SQLite has none of its own)."""
    missed = (missed_qs.exclude(customer_number="").annotate(ref=Coalesce("ended_at", "started_at"),
                                                              first=Subquery(_first_callback()))
              .order_by().values_list("k", "ref", "first"))
    for key, ref, found in missed:
        if found is not None and found <= ref + window:
            yield key, (found - ref).total_seconds()


def _first_callback():
    """The start of the earliest answered outbound call to the call's number at or after `ref`
    (a correlated look-up: one probe of the (customer_number, started_at) index)."""
    return (Call.objects.filter(customer_number=OuterRef("customer_number"), direction=Call.Direction.OUT,
                                outcome=Call.Outcome.ANSWERED, started_at__gte=OuterRef("ref"))
            .order_by("started_at").values("started_at")[:1])


def _accumulate_one_scan(qs, *, successful: Q, window: timedelta) -> dict:
    """PostgreSQL: the figures and the callbacks in one pass over the period's calls. Each call's
    flags are the report's own definitions (ANSWERED, successful, MISSED, WAITED) as columns of
    an inner SELECT, with its first callback looked up for a missed call only; the outer SELECT
    sums them per group. Interval arithmetic is exact to the microsecond, so the seconds to call
    back sum as the Python matching does. Today's calls (27,000 at 10M calls a year) were read
    twice before: for the figures, then for the missed calls' callbacks."""
    def flag(q: Q):
        return Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())

    inner = qs.annotate(
        f_answered=flag(ANSWERED), f_successful=flag(successful), f_missed=flag(MISSED), f_waited=flag(WAITED),
        f_talk=Case(When(ANSWERED, then=Coalesce("talk_seconds", 0)), default=Value(0), output_field=IntegerField()),
        f_wait=Case(When(WAITED, then=F("wait_seconds")), default=Value(0), output_field=IntegerField()),
        ref=Coalesce("ended_at", "started_at"),
        first=Case(When(MISSED & ~Q(customer_number=""), then=Subquery(_first_callback())), default=None,
                   output_field=DateTimeField()),
    ).order_by().values_list("k", "f_answered", "f_successful", "f_missed", "f_waited", "f_talk", "f_wait", "ref",
                             "first")
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # a filter that no call can pass (an empty list of ids)
        return {}
    back = "t.first IS NOT NULL AND t.first <= t.ref + %s"
    with transaction.atomic(), connection.cursor() as cursor:
        # The look-up's estimated cost, times the day's calls, passes jit_above_cost: compiling the
        # plan took 170 ms, three times what it runs in.
        cursor.execute("SET LOCAL jit = off")
        # OFFSET 0 keeps the inner SELECT whole: inlined, the look-up would run in each aggregate.
        cursor.execute(
            f"SELECT t.k, COUNT(*), SUM(t.a), SUM(t.s), SUM(t.m), SUM(t.talk), SUM(t.wait), SUM(t.w), "
            f"COUNT(*) FILTER (WHERE {back}), SUM(EXTRACT(EPOCH FROM t.first - t.ref)) FILTER (WHERE {back}) "
            f"FROM ({sql} OFFSET 0) t(k, a, s, m, w, talk, wait, ref, first) GROUP BY t.k",
            [window, window, *params])  # the FILTERs come first in the text
        found = cursor.fetchall()
    return {_norm_key(k): _Acc(calls, int(a), int(s), int(m), backs, float(seconds or 0), int(talk), int(wait),
                               int(w))
            for k, calls, a, s, m, talk, wait, w, backs, seconds in found}


# --- labels ------------------------------------------------------------------------------------

def _labels(group_by: str, keys) -> dict:
    """Each group key's label, in one query (names only: whole user rows cost more than the
    rest of a report by employee)."""
    ids = [k for k in keys if k is not None]
    if group_by == "employee":
        names = user_names(ids)
        return {k: names.get(k, f"#{k}") if k is not None else _("No employee") for k in keys}
    if group_by == "department":
        names = dict(Department.objects.filter(pk__in=ids).order_by().values_list("pk", "name")) if ids else {}
        return {k: names.get(k, f"#{k}") if k is not None else _("No department") for k in keys}
    if group_by == "client":
        names = {c.pk: str(c) for c in Contact.objects.filter(pk__in=ids)}
        return {k: names.get(k, f"#{k}") if k is not None else _("No card") for k in keys}
    if group_by == "line":
        return {k: k or _("No line") for k in keys}
    return {k: k for k in keys}


def _rows(query: CallsQuery, period: Period, accs: dict, labels: dict) -> tuple[list[dict], dict]:
    total = _Acc()
    rows = []
    for key, acc in accs.items():
        total.add(acc)
        rows.append({"key": key, "label": labels[key], **acc.figures()})
    if query.group_by == "day":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (-r["calls"], str(r["label"]).casefold(), str(r["key"])))
    return rows, total.figures()


def calls_report(*, user, query: CallsQuery, with_callbacks: bool = True) -> dict:
    """The report the API answers and the page draws, for what `user` may see (okno.analytics.scope):
    {"from", "to", "group_by", "rows": [...], "totals": {...}, "previous": {...} when compared}.
    `with_callbacks=False` skips the callback look-up (a chart that shows no callback figures):
    then `missed_not_called_back` equals `missed`."""
    check_filters(user=user, department=query.department, employee=query.employee)
    conf = analytics_settings_get()
    overrides = department_thresholds()
    window = timedelta(minutes=conf.callback_window_minutes)

    periods = [query.period, *([query.period.compared(query.compare)] if query.compare else [])]
    parts = []
    for period in periods:
        accs = _accumulate(user=user, query=query, period=period, threshold=conf.success_threshold_seconds,
                           overrides=overrides, window=window, with_callbacks=with_callbacks)
        if query.group_by == "day":  # every day of the period, a quiet one too: the line chart has no gaps
            for i in range(period.days):
                accs.setdefault((period.start + timedelta(days=i)).isoformat(), _Acc())
        parts.append((period, accs))
    # One look-up of the labels for both periods.
    labels = _labels(query.group_by, {k for _period, accs in parts for k in accs})
    out = {"group_by": query.group_by, "compare": query.compare, "filters": query.filters()}
    for i, (period, accs) in enumerate(parts):
        rows, totals = _rows(query, period, accs, labels)
        part = {"from": period.start.isoformat(), "to": period.end.isoformat(), "rows": rows, "totals": totals}
        if i == 0:
            out.update(part)
        else:
            out["previous"] = part
    return out


def with_day_grouping(query: CallsQuery) -> CallsQuery:
    return replace(query, group_by="day", compare="")
