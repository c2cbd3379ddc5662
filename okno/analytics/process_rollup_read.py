"""The process report from its rollup (okno.analytics.process_rollup): whole past months and days
from ProcessStat; beside them, live, the deals, leads and callbacks of those days that were not
settled when their day was built (by each day's `built_at`), and every row of the days the rollup
cannot answer (today, a marked day, a day built with another fingerprint). Each row counts once:
in the rollup if settled at its day's build, else live (test_process_rollup.py checks the sum
against the live report).
"""

from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, Sum
from django.utils import timezone

from okno.analytics.models_rollup import ProcessStat, ProcessStatMark, ProcessStatSpan
from okno.analytics.periods import Period, ids_q
from okno.analytics.process_report import COUNTS, ProcessQuery, add_items, process_items
from okno.analytics.process_rollup import COARSE, MODELS, SETTLING, TIMES, process_fingerprint, unsettled
from okno.analytics.replica import reports_db
from okno.analytics.rollup import month_of, today
from okno.analytics.rollup_read import _days, _names, _runs
from okno.analytics.scope import process_scope_q

COLUMNS = {"source": "source", "department": "department_id", "employee": "employee_id", "pipeline": "pipeline_id"}


def _moment(value) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)  # SQLite answers text
    return at.replace(tzinfo=UTC) if timezone.is_naive(at) else at


def _state(start: date, end: date, db: str) -> tuple:
    """({(span, start): (fingerprint, built_at)}, marked days) of [start's month, end]: one query."""
    spans, marks = ProcessStatSpan._meta.db_table, ProcessStatMark._meta.db_table
    sql = (f"SELECT span, start, fingerprint, built_at FROM {spans} WHERE start >= %s AND start <= %s "
           f"UNION ALL SELECT '', m.day, '', NULL FROM (SELECT DISTINCT day FROM {marks} "
           f"WHERE day >= %s AND day <= %s) m")
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [start.replace(day=1), end, start.replace(day=1), end])
        found = cursor.fetchall()
    built, marked = {}, set()
    for span, day, fingerprint, built_at in found:
        day = day if isinstance(day, date) else date.fromisoformat(day)
        if span:
            built[(span, day)] = (fingerprint, _moment(built_at))
        else:
            marked.add(day)
    return built, frozenset(marked)


def _plan(period: Period, state: tuple, fingerprint: str) -> dict:
    """Months and days read from the rollup (today's sums too), each such day's build moment,
    the days read live."""
    built, marked = state
    day_span, month_span = ProcessStat.Span.DAY, ProcessStat.Span.MONTH
    now_day = today()

    def good(span: str, day: date) -> bool:
        return built.get((span, day), ("",))[0] == fingerprint and day not in marked

    months, days, moments, live_days = [], [], {}, []
    last_past = min(period.end, today() - timedelta(days=1))
    day = period.start
    while day <= last_past:
        first, last = month_of(day)
        whole = _days(first, last)
        if (day == first and last <= last_past and good(month_span, first)
                and all(good(day_span, d) for d in whole)):
            months.append(first)
            moments.update({d: built[(day_span, d)][1] for d in whole})
            day = last + timedelta(days=1)
            continue
        if good(day_span, day):
            days.append(day)
            moments[day] = built[(day_span, day)][1]
        else:
            live_days.append(day)
        day += timedelta(days=1)
    with_today = period.start <= now_day <= period.end and good(ProcessStat.Span.TODAY, now_day)
    if with_today:
        moments[now_day] = built[(ProcessStat.Span.TODAY, now_day)][1]
    live_days += [d for d in _days(max(last_past + timedelta(days=1), period.start), period.end)
                  if not (with_today and d == now_day)]
    return {"months": months, "days": days, "today": with_today, "moments": moments, "live_days": live_days}


def _read(*, user, query: ProcessQuery, plan: dict, db: str) -> dict:
    scope = process_scope_q(user, department_field="department_id", employee_field="employee_id") if user else Q()
    person = query.group_by == "employee" or query.employee is not None or "employee_id" in _names(scope)
    kind = {s: s if person else COARSE[s] for s in COARSE}
    # One query per kind of span, each `span = … AND start IN (…)`: as one OR, PostgreSQL walked
    # every row of the table (137 ms for a month by employee).
    found = []
    for span, starts in ((ProcessStat.Span.MONTH, plan["months"]), (ProcessStat.Span.DAY, plan["days"]),
                         (ProcessStat.Span.TODAY, [today()] if plan["today"] else [])):
        if not starts:
            continue
        qs = ProcessStat.objects.using(db).filter(span=kind[span], start__in=starts).filter(scope)
        if query.department is not None:
            qs = qs.filter(department_id=query.department)
        if query.employee is not None:
            qs = qs.filter(employee_id=query.employee)
        try:
            sql, params = qs.values(COLUMNS[query.group_by]).annotate(
                **{f"s_{n}": Sum(n) for n in COUNTS}).order_by().query.sql_with_params()
        except EmptyResultSet:  # a scope or filter no row can pass
            return {}
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            found += cursor.fetchall()
    accs: dict = {}
    for key, *sums in found:
        key = (key or None) if query.group_by == "source" else key
        acc = accs.setdefault(key, dict.fromkeys(COUNTS, 0))
        for name, value in zip(COUNTS, sums, strict=True):
            acc[name] += int(value)
    return accs


def _unsettled(moments: dict[date, datetime]) -> dict[str, Q]:
    """Per part, its rows created on the rollup's days that were not settled at their day's
    build: one filter, the days grouped by build moment and each group by runs of days."""
    by_moment: dict[datetime, list[date]] = {}
    for day, at in moments.items():
        by_moment.setdefault(at, []).append(day)
    out: dict[str, Q] = {}
    for part, field in TIMES.items():
        q, ids = Q(pk__in=[]), set()
        for at, days in by_moment.items():
            for run in _runs(days):
                lo, hi = run.bounds()
                found = unsettled(part, at, lo, hi)
                if isinstance(found, set):
                    ids |= found
                else:
                    q |= Q(**{f"{field}__gte": lo, f"{field}__lt": hi}) & found
        # The ids alone: an OR of time ranges beside them made PostgreSQL walk the whole period.
        out[part] = ids_q(MODELS[part], "id", sorted(ids)) if part in SETTLING else q
    return out


def process_rollup_accumulate(*, user, query: ProcessQuery, period: Period, now: datetime) -> dict | None:
    """process_report's accumulators (group key -> counts) from the rollup and the live rest, or
    None: answer live."""
    db = reports_db()
    last = min(period.end, today())
    if last < period.start:
        return None  # the future: nothing to read
    state = _state(period.start, last, db)
    plan = _plan(period, state, process_fingerprint())
    accs: dict = {}
    if plan["moments"]:
        accs = _read(user=user, query=query, plan=plan, db=db)
        if _state(period.start, last, db) != state:
            return None  # a build committed while we read: its rows may be half-read
        covered = Period(min(plan["moments"]), max(plan["moments"]))
        add_items(accs, process_items(user=user, query=query, period=covered, now=now,
                                      extra=_unsettled(plan["moments"])))
    for run in _runs(plan["live_days"]):
        add_items(accs, process_items(user=user, query=query, period=run, now=now))
    return accs
