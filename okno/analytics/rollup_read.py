"""The calls report from the rollup: whole past months and days from CallStat, the rest (today,
a day changed since it was built, a day built with other settings, a day never built) live by
calls_report's own computation, and the two summed. Each call counts in exactly one day, and a
built day equals the live figures of that day (okno.analytics.rollup), so the sum is the live
answer (okno/analytics/tests/test_rollup_random.py checks it against plain SQL).

`rollup_accumulate` answers None when the rollup cannot answer the question (a grouping by
client, a filter the rollup has no column for); calls_report then computes live.
"""

from datetime import date, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, Sum

from okno.analytics import calls_report as live
from okno.analytics.models_rollup import CallStat, CallStatMark, CallStatSpan
from okno.analytics.periods import Period
from okno.analytics.replica import reports_db
from okno.analytics.rollup import SUMS, month_of, rollup_fingerprint, today
from okno.analytics.rollup_today import prefix_state
from okno.analytics.scope import calls_scope_q

GROUPS = {"employee": "employee_id", "department": "department_id", "line": "line", "day": "start"}
FILTERS = {"direction": "direction", "line": "line", "department": "department_id", "employee": "employee_id"}


def _names(q: Q) -> set[str]:
    names: set[str] = set()
    for child in q.children:
        names |= _names(child) if isinstance(child, Q) else {child[0]}
    return names


def _scope(user) -> Q | None:
    """The viewer's scope on CallStat's columns, or None when it names something CallStat lacks."""
    q = calls_scope_q(user)
    return q if _names(q) <= {"employee_id", "department_id__in", "pk__in"} else None


def _plan(period: Period, *, months_allowed: bool, fine: bool, fingerprint: str, db: str = "default",
          with_today: bool = True):
    """(months read whole, days read from the rollup, days computed live, the state it relied on,
    today's sums as (through, pending ids) or None). `with_today`: whether the caller can read
    today's sums (a person's heat map cannot: today's hour rows have no employee)."""
    now_day = today()
    last_past = min(period.end, now_day - timedelta(days=1))
    day_span = CallStat.Span.DAY if fine else CallStat.Span.DAY_DEPARTMENT
    month_span = CallStat.Span.MONTH if fine else CallStat.Span.MONTH_DEPARTMENT
    today_span = (CallStat.Span.TODAY if fine else CallStat.Span.TODAY_DEPARTMENT) if (
        with_today and period.start <= now_day <= period.end) else ""
    if last_past < period.start and not today_span:
        return [], [], _days(period.start, period.end), None, None
    state = (period.start, max(last_past, period.start), day_span, month_span, today_span, now_day, db)
    spans, marked, found = _state(*state)
    good = {(span, start) for span, start, fp, _at in spans if fp == fingerprint}
    months, days, live_days = [], [], []
    day = period.start
    while day <= last_past:
        first, last = month_of(day)
        if (months_allowed and day == first and last <= last_past and (month_span, first) in good
                and not any(first <= m <= last for m in marked)):
            months.append(first)
            day = last + timedelta(days=1)
            continue
        (days if (day_span, day) in good and day not in marked else live_days).append(day)
        day += timedelta(days=1)
    prefix = None
    if today_span and (today_span, now_day) in good and now_day not in marked:
        prefix = prefix_state(found, now_day)
    live_days += [d for d in _days(max(last_past + timedelta(days=1), period.start), period.end)
                  if not (prefix is not None and d == now_day)]
    return months, days, live_days, (state, (spans, marked)), prefix


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _state(start: date, end: date, day_span: str, month_span: str, today_span: str = "", now_day: date | None = None,
           db: str = "default"):
    """(built spans [(span, start, fingerprint, built_at)], marked days, the rows as read) of
    [start, end] and, with `today_span`, today's sums and marks: one query."""
    spans, marks = CallStatSpan._meta.db_table, CallStatMark._meta.db_table
    last = max(end, now_day) if today_span else end
    sql = (f"SELECT span, start, fingerprint, built_at, through, pending FROM {spans} "
           f"WHERE (span = %s AND start >= %s AND start <= %s) OR (span = %s AND start >= %s AND start <= %s) "
           f"OR (span = %s AND start = %s) "
           f"UNION ALL SELECT '', m.day, '', NULL, NULL, '' "
           f"FROM (SELECT DISTINCT day FROM {marks} WHERE day >= %s AND day <= %s) m")
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [day_span, start, end, month_span, start.replace(day=1), end, today_span,
                             now_day or start, start, last])
        found = [(span, day if isinstance(day, date) else date.fromisoformat(day), *rest)  # SQLite answers text
                 for span, day, *rest in cursor.fetchall()]
    built, marked = [], set()
    for span, day, fingerprint, built_at, _through, _pending in found:
        if span:
            built.append((span, day, fingerprint, str(built_at)))
        else:
            marked.add(day)
    return sorted(built), marked, found


def _runs(days: list[date]) -> list[Period]:
    """Consecutive days as periods: one live query per run (usually one: today)."""
    runs: list[Period] = []
    for day in sorted(days):
        if runs and runs[-1].end + timedelta(days=1) == day:
            runs[-1] = Period(runs[-1].start, day)
        else:
            runs.append(Period(day, day))
    return runs


def rollup_accumulate(*, user, query, period: Period, threshold: int, overrides: dict[int, int], window: timedelta,
                      with_callbacks: bool = True) -> dict | None:
    """calls_report's accumulators (group key -> _Acc) for one period, or None: answer live."""
    if query.group_by not in GROUPS or set(query.filters()) - set(FILTERS):
        return None
    scope = _scope(user)
    if scope is None:
        return None
    # Without a person in the question, the rows summed over employees: 20-50 times fewer.
    fine = query.group_by == "employee" or "employee" in query.filters() or "employee_id" in _names(scope)
    fingerprint = rollup_fingerprint(threshold=threshold, overrides=overrides, window=window)
    # The rollup's state and sums from one database (a replica when configured): the replica applies
    # the primary's commits in order, so it never shows sums newer than their state.
    db = reports_db()
    months, days, live_days, state, prefix = _plan(period, months_allowed=query.group_by != "day", fine=fine,
                                                   fingerprint=fingerprint, db=db)
    accs: dict = {}
    if months or days or prefix:
        day_span = CallStat.Span.DAY if fine else CallStat.Span.DAY_DEPARTMENT
        month_span = CallStat.Span.MONTH if fine else CallStat.Span.MONTH_DEPARTMENT
        where = Q()
        if months:
            where |= Q(span=month_span, start__in=months)
        if days:
            where |= Q(span=day_span, start__in=days)
        if prefix:
            where |= Q(span=CallStat.Span.TODAY if fine else CallStat.Span.TODAY_DEPARTMENT, start=today())
        qs = CallStat.objects.using(db).filter(where).filter(scope)
        for name, column in FILTERS.items():
            value = getattr(query, name)
            if value not in ("", None):
                qs = qs.filter(**{column: value})
        key = GROUPS[query.group_by]
        try:
            sql, params = qs.values(key).annotate(**{f"s_{n}": Sum(n) for n in SUMS}).order_by().query.sql_with_params()
        except EmptyResultSet:  # a scope or filter no row can pass
            sql = None
        found = []
        if sql is not None:
            with connections[db].cursor() as cursor:
                # Raw rows: the ORM's converters per value were a tenth of a report by employee.
                cursor.execute(sql, params)
                found = cursor.fetchall()
        for k, calls, answered, successful, missed, called_back, callback_us, talk, wait, waited in found:
            if query.group_by == "day":
                k = (k if isinstance(k, date) else date.fromisoformat(k)).isoformat()  # SQLite answers text
            accs[k] = live._Acc(
                calls=int(calls), answered=int(answered), successful=int(successful), missed=int(missed),
                called_back=int(called_back) if with_callbacks else 0,
                callback_seconds=(int(callback_us) / 1_000_000) if with_callbacks else 0,
                talk_seconds=int(talk), wait_seconds=int(wait), waited=int(waited))
        # A build that committed while we read: its rows may be half-read. Compute it all live.
        args, seen = state
        if _state(*args)[:2] != seen:
            return None
    for run, only in live_parts(live_days, prefix):
        part = live._accumulate(user=user, query=query, period=run, threshold=threshold, overrides=overrides,
                                window=window, with_callbacks=with_callbacks, rollup=False, only=only)
        _merge(accs, part)
    return accs


def live_parts(live_days: list[date], prefix: tuple | None) -> list[tuple[Period, Q | None]]:
    """What a report reads live beside the rollup: with today's sums, the rest of today (the
    calls started since their `through`, and those they left out); then each run of days."""
    parts: list[tuple[Period, Q | None]] = []
    if prefix:
        through, pending = prefix
        now_day = today()
        parts.append((Period(now_day, now_day), Q(started_at__gte=through) | Q(pk__in=pending)))
    return parts + [(run, None) for run in _runs(live_days)]


def _merge(accs: dict, part: dict) -> None:
    for k, acc in part.items():
        if k in accs:
            accs[k].add(acc)
        else:
            accs[k] = acc
