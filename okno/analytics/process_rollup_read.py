"""The process report from its rollup (okno.analytics.process_rollup): whole past months and days
from ProcessStat; beside them, live, the deals, leads and callbacks of those days that were not
settled when their day was built (listed in each day's span: `pending`), the rows that came after
a build (today's, by its `built_at`), and every row of the days the rollup cannot answer (a
marked day, a day built with another fingerprint). Each row counts once: in the rollup if settled
at its day's build, else live (test_process_rollup.py checks the sum against the live report).
"""

import json
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from okno.analytics.models_rollup import (
    ProcessStat,
    ProcessStatMark,
    ProcessStatRow,
    ProcessStatRowMark,
    ProcessStatSpan,
)
from okno.analytics.periods import Period, ids_q
from okno.analytics.process_report import COUNTS, PARTS, ProcessQuery, add_items, process_items
from okno.analytics.process_rollup import COARSE, FACTS, MODELS, PEOPLE, TIMES, process_fingerprint, since
from okno.analytics.replica import reports_db
from okno.analytics.rollup import local_day, month_of, today
from okno.analytics.rollup_read import _days, _names, _runs
from okno.analytics.scope import process_scope_q
from okno.deals.models import Deal, Lead
from okno.inbox.models import Conversation, InboundEvent
from okno.work.models import WorkItem

COLUMNS = {"source": "source", "department": "department_id", "employee": "employee_id", "pipeline": "pipeline_id"}


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A span's `pending` when it left nothing out, as spans built before that was written "" hold it
# (parsing it for every day of a year was 2 ms a report).
NOTHING_LEFT_OUT = '{"deals":[],"leads":[],"callbacks":[]}'


def _moment(value) -> datetime:
    """A span's built_at as _state reads it: whole microseconds since the epoch (PostgreSQL), or
    text (SQLite)."""
    if isinstance(value, int):
        return EPOCH + timedelta(microseconds=value)
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return at.replace(tzinfo=UTC) if timezone.is_naive(at) else at


def _moment_sql(db: str) -> str:
    # PostgreSQL's moments as integers: Django's loader of a timestamptz (Python) took 3 ms of
    # every report's 370 spans; EXTRACT's numeric keeps every microsecond.
    return ("CAST(EXTRACT(EPOCH FROM built_at) * 1000000 AS BIGINT)" if connections[db].vendor == "postgresql"
            else "built_at")


def _state(start: date, end: date, db: str) -> tuple:
    """({(span, start): (fingerprint, built_at, pending)}, marked days) of [start's month, end]:
    one query."""
    spans, marks = ProcessStatSpan._meta.db_table, ProcessStatMark._meta.db_table
    moment = _moment_sql(db)
    sql = (f"SELECT span, start, fingerprint, {moment}, pending FROM {spans} WHERE start >= %s AND start <= %s "
           f"UNION ALL SELECT '', m.day, '', NULL, '' FROM (SELECT DISTINCT day FROM {marks} "
           f"WHERE day >= %s AND day <= %s) m")
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [start.replace(day=1), end, start.replace(day=1), end])
        found = cursor.fetchall()
    built, marked = {}, set()
    for span, day, fingerprint, built_at, left_out in found:
        day = day if isinstance(day, date) else date.fromisoformat(day)
        if span:
            built[(span, day)] = (fingerprint, _moment(built_at), left_out)
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

    months, days, moments, left_out, live_days = [], [], {}, [], []
    last_past = min(period.end, today() - timedelta(days=1))
    day = period.start
    while day <= last_past:
        first, last = month_of(day)
        whole = _days(first, last) if day == first and last <= last_past else []
        if whole and good(month_span, first) and all(good(day_span, d) for d in whole):
            months.append(first)
            moments.update({d: built[(day_span, d)][1] for d in whole})
            left_out += [(day_span, d, built[(day_span, d)][2]) for d in whole]
            day = last + timedelta(days=1)
            continue
        if good(day_span, day):
            days.append(day)
            moments[day] = built[(day_span, day)][1]
            left_out.append((day_span, day, built[(day_span, day)][2]))
        else:
            live_days.append(day)
        day += timedelta(days=1)
    with_today = period.start <= now_day <= period.end and good(ProcessStat.Span.TODAY, now_day)
    if with_today:
        moments[now_day] = built[(ProcessStat.Span.TODAY, now_day)][1]
        left_out.append((ProcessStat.Span.TODAY, now_day, built[(ProcessStat.Span.TODAY, now_day)][2]))
    live_days += [d for d in _days(max(last_past + timedelta(days=1), period.start), period.end)
                  if not (with_today and d == now_day)]
    months, years = _years(months, good)
    pending = [(span, day, json.loads(text)) for span, day, text in left_out if text and text != NOTHING_LEFT_OUT]
    # The spans whose left-out deals and leads have facts (ProcessStatRow) to sum.
    facts: dict[str, list[date]] = {}
    for span, day, found in pending:
        if any(found.get(part) for part in FACTS.values()):
            facts.setdefault(span, []).append(day)
    return {"years": years, "months": months, "days": days, "today": with_today, "moments": moments,
            "pending": pending, "facts": facts, "live_days": live_days}


def _years(months: list[date], good) -> tuple[list[date], list[date]]:
    """(months, year-to-date spans): the months from a January on replaced by the longest good
    year-to-date span over them (okno.analytics.process_rollup._build_years)."""
    chosen, years = set(months), []
    for january in [m for m in months if m.month == 1]:
        run = [january]
        while run[-1].month < 12 and run[-1].replace(month=run[-1].month + 1) in chosen:
            run.append(run[-1].replace(month=run[-1].month + 1))
        usable = [m for m in run if good(ProcessStat.Span.YEAR, m)]
        if usable and usable[-1].month > 1:  # a single month is one span either way
            years.append(usable[-1])
            chosen -= {m for m in run if m <= usable[-1]}
    return sorted(chosen), years


def _filtered(qs, *, scope: Q, query: ProcessQuery, column: str) -> str | None:
    """One part of _read's statement: `qs`'s sums per `column` for the question, as (sql, params);
    None when no row can pass."""
    qs = qs.filter(scope)
    if query.department is not None:
        qs = qs.filter(department_id=query.department)
    if query.employee is not None:
        qs = qs.filter(employee_id=query.employee)
    try:  # the rows as they are, summed once over the union (an aggregate per part cost its compiling)
        return qs.values(column, *COUNTS).order_by().query.sql_with_params()
    except EmptyResultSet:  # a scope or filter no row can pass
        return None


def _where(scope: Q, query: ProcessQuery) -> tuple[str, list | None] | None:
    """The scope and filters as SQL on the rollup's columns (" AND …", params), written here: the
    ORM compiling the parts' querysets was 4-7 ms a report. None: a scope it does not know
    (_filtered's ORM path then). ("", None) as the SQL: no row can pass."""
    conditions, params = [], []
    for child in scope.children:
        if scope.negated or not isinstance(child, tuple):
            return None
        name, value = child
        if name == "department_id__in" and value:
            conditions.append(f"department_id IN ({', '.join(['%s'] * len(value))})")
            params += list(value)
        elif name == "employee_id" and isinstance(value, int):
            conditions.append("employee_id = %s")
            params.append(value)
        elif name in ("pk__in", "department_id__in") and not value:  # nobody's, or an empty tree
            return "", None
        else:
            return None
    for column, value in (("department_id", query.department), ("employee_id", query.employee)):
        if value is not None:
            conditions.append(f"{column} = %s")
            params.append(value)
    return "".join(f" AND {c}" for c in conditions), params


def _part(table: str, where: str, params: list, *, column: str, scope_sql: tuple) -> tuple[str, list] | None:
    """One part of _read's statement written by hand (_where), or None: no row can pass."""
    scope_where, scope_params = scope_sql
    if scope_params is None:
        return None
    counts = ", ".join(COUNTS)
    return f"SELECT {column}, {counts} FROM {table} r WHERE {where}{scope_where}", [*params, *scope_params]


def _read(*, user, query: ProcessQuery, plan: dict, db: str) -> tuple[dict | None, dict[str, set[int]]]:
    """(group key -> counts, {part: ids}): the spans' sums and the left-out deals' and leads'
    facts, and which of those facts are marked stale (ProcessStatRowMark: read them live), in one
    statement: a mark committed between two reads would count its row twice or not at all.
    None for the counts: a build committed since the plan's _state."""
    scope = process_scope_q(user, department_field="department_id", employee_field="employee_id") if user else Q()
    person = query.group_by == "employee" or query.employee is not None or "employee_id" in _names(scope)
    # The smallest twin that holds the question's key and filters (okno.analytics.process_rollup.TWINS).
    if person:
        twins = PEOPLE if query.group_by in ("employee", "department") else {s: s for s in COARSE}
    else:
        twins = COARSE
    kind = {s: twins[s] for s in COARSE}
    # Each kind of span its own `span = … AND start IN (…)`, summed again over their UNION ALL in
    # one statement: as one OR, PostgreSQL walked every row of the table (137 ms for a month by
    # employee); as a query each, Python added up their rows again.
    column = COLUMNS[query.group_by]
    scope_sql = _where(scope, query)
    day = connections[db].ops.adapt_datefield_value

    def spans(pairs) -> tuple[str, list]:
        """`(span = … AND start IN (…)) OR …` of (span, starts) pairs."""
        sql, params = [], []
        for span, starts in pairs:
            sql.append(f"(span = %s AND start IN ({', '.join(['%s'] * len(starts))}))")
            params += [span, *(day(d) for d in starts)]
        return " OR ".join(sql), params

    found_parts = []
    for span, starts in ((ProcessStat.Span.YEAR, plan["years"]), (ProcessStat.Span.MONTH, plan["months"]),
                         (ProcessStat.Span.DAY, plan["days"]),
                         (ProcessStat.Span.TODAY, [today()] if plan["today"] else [])):
        if not starts:
            continue
        if scope_sql is None:
            found_parts.append(_filtered(ProcessStat.objects.using(db).filter(span=kind[span], start__in=starts),
                                         scope=scope, query=query, column=column))
        else:
            found_parts.append(_part(ProcessStat._meta.db_table, *spans([(kind[span], starts)]), column=column,
                                     scope_sql=scope_sql))
    marks = None
    if plan["facts"]:
        marks_table = ProcessStatRowMark._meta.db_table
        if scope_sql is None:
            in_plan = Q(*[Q(span=span, start__in=days) for span, days in plan["facts"].items()], _connector=Q.OR)
            stale = ProcessStatRowMark.objects.filter(part=OuterRef("part"), row_id=OuterRef("row_id"))
            found_parts.append(_filtered(ProcessStatRow.objects.using(db).filter(in_plan).filter(~Exists(stale)),
                                         scope=scope, query=query, column=column))
        else:
            where, params = spans(plan["facts"].items())
            found_parts.append(_part(
                ProcessStatRow._meta.db_table, f"({where}) AND NOT EXISTS (SELECT 1 FROM {marks_table} m "
                f"WHERE m.part = r.part AND m.row_id = r.row_id)", params, column=column, scope_sql=scope_sql))
        # Every mark, not only those of the plan's facts (_live_rest keeps those): the worker
        # deletes them within seconds, so there are few, and a join to the facts made PostgreSQL
        # walk the facts (5 ms) to find none.
        marks = (f"SELECT DISTINCT part, row_id FROM {marks_table}", [])
    parts, params = [], []
    for found in found_parts:
        if found is not None:
            parts.append(found[0])
            params += found[1]
    # As integers: PostgreSQL's SUM of a bigint is a numeric, read as a Decimal each.
    sums = ", ".join(f"CAST(SUM(t.{n}) AS BIGINT)" for n in COUNTS)
    union = " UNION ALL ".join(parts)
    selects = [f"SELECT 0, t.{column}, {sums} FROM ({union}) t GROUP BY t.{column}"] if parts else []
    if marks is not None:
        # The marked rows as rows of the same shape: tag 1, the row's id and its part's number
        # where the first two counts go.
        zeros = ", ".join("0" for _n in COUNTS[2:])
        numbers = " ".join(f"WHEN '{part}' THEN {i}" for i, part in enumerate(FACTS.values()))
        selects.append(f"SELECT 1, NULL, m.row_id, CASE m.part {numbers} END, {zeros} FROM ({marks[0]}) m")
        params += marks[1]
    # Tag 2: every span's build moment in _state's range, read with the sums: a build committed
    # since _state changes one, and the plan would no longer fit the rows (reading _state again
    # cost 2 ms).
    zeros = ", ".join("0" for _n in COUNTS[1:])
    selects.append(f"SELECT 2, NULL, {_moment_sql(db)}, {zeros} FROM {ProcessStatSpan._meta.db_table} "
                   f"WHERE start >= %s AND start <= %s")
    params += list(plan["range"])
    with transaction.atomic(using=db), connections[db].cursor() as cursor:
        if connections[db].vendor == "postgresql":
            # A few thousand rows: PostgreSQL planned a year by employee in parallel, and starting
            # the workers took longer (21 ms) than the sums (6 ms).
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(" UNION ALL ".join(selects), params)
        found = cursor.fetchall()
    accs: dict = {}
    marked: dict[str, set[int]] = {part: set() for part in FACTS.values()}
    names = list(FACTS.values())
    moments = []
    for tag, key, *values in found:
        if tag == 2:
            moments.append(_moment(values[0]))
            continue
        if tag == 1:
            marked[names[values[1]]].add(values[0])
            continue
        key = (key or None) if query.group_by == "source" else key
        acc = accs.get(key)
        if acc is None:
            accs[key] = dict(zip(COUNTS, values, strict=True))
        else:  # "" and None: one source
            for name, value in zip(COUNTS, values, strict=True):
                acc[name] += value
    if sorted(moments) != plan["built"]:
        return None, marked  # a build committed since _state: its rows may not fit the plan
    return accs, marked


def _live_rest(plan: dict, marked: dict[str, set[int]]) -> list[tuple[dict[str, Q | None], Period]]:
    """Per part, the rows of the rollup's days it does not hold: the left-out callbacks and the
    left-out deals and leads marked since their facts were computed (by id), and those that came
    after their day's build (by time); None: none. Two filters, each read on its own (as one OR,
    PostgreSQL walked every row of the period), each with the days it is about: SQLite used the
    period's range of a time index, not the filter's, and walked a year for today's rows."""
    ids: dict[str, list[int]] = {part: [] for part in MODELS}
    listed_days: list[date] = []
    for _span, day, found in plan["pending"]:
        ids["callbacks"] += found.get("callbacks", [])
        for part in FACTS.values():  # the marked among the left-out rows whose facts were summed
            if marked.get(part) and found.get(part):
                ids[part] += marked[part].intersection(found[part])
        listed_days.append(day)
    by_moment: dict[datetime, list[date]] = {}
    for day, at in plan["moments"].items():
        by_moment.setdefault(at, []).append(day)
    # The runs of days built at one moment, once for every part (per part they were 9 ms a year).
    runs = [(at, run, *run.bounds()) for at, days in by_moment.items() for run in _runs(days)]
    listed: dict[str, Q] = {}
    after: dict[str, Q] = {}
    after_days: list[date] = []
    for part, field in TIMES.items():
        listed[part] = ids_q(MODELS[part], "id", ids[part], joined=True) if ids.get(part) else None
        # Only a span built before its day ended (today's), or a day built within SLACK of
        # midnight, has rows that came after it.
        q = None
        for at, run, lo, hi in runs:
            if since(part, at) < hi:
                came = Q(**{f"{field}__gte": max(lo, since(part, at)), f"{field}__lt": hi})
                q = came if q is None else q | came
                after_days += [local_day(max(lo, since(part, at))), run.end]
        after[part] = q
    out = []
    if any(q is not None for q in listed.values()):
        out.append((listed, Period(min(listed_days), max(listed_days))))
    if any(q is not None for q in after.values()):
        out.append((after, Period(min(after_days), max(after_days))))
    return out


def process_rollup_accumulate(*, user, query: ProcessQuery, period: Period, now: datetime,
                              memo: dict | None = None) -> dict | None:
    """process_report's accumulators (group key -> counts) from the rollup and the live rest, or
    None: answer live."""
    db = reports_db()
    last = min(period.end, today())
    if last < period.start:
        return None  # the future: nothing to read
    state = _state(period.start, last, db)
    memo = {} if memo is None else memo
    if "fingerprint" not in memo:
        memo["fingerprint"] = process_fingerprint()
    plan = _plan(period, state, memo["fingerprint"])
    accs: dict | None = {}
    if plan["moments"]:
        plan["range"] = (period.start.replace(day=1), last)
        plan["built"] = sorted(value[1] for value in state[0].values())
        accs, marked = _read(user=user, query=query, plan=plan, db=db)
        if accs is None:
            return None  # answered live
        for extra, days in _live_rest(plan, marked):
            add_items(accs, process_items(user=user, query=query, period=days, now=now, extra=extra))
    for run in _runs(plan["live_days"]):
        parts = _parts_with_rows(run, db) if run.days > LONG_RUN else PARTS
        if parts:
            add_items(accs, process_items(user=user, query=query, period=run, now=now, parts=parts))
    return accs


# A run of days read live longer than this is first asked which parts have rows at all.
LONG_RUN = 7


def _parts_with_rows(period: Period, db: str) -> tuple[str, ...]:
    """The parts with any row in a long run of days read live, in one query: the months before an
    install's first row (the previous year of a young company) were five scans that found
    nothing, three of them through server-side cursors (10 ms)."""
    lo, hi = period.bounds()
    probes = {
        "deals": Deal.objects.filter(created_at__gte=lo, created_at__lt=hi),
        "leads": Lead.objects.filter(created_at__gte=lo, created_at__lt=hi),
        "requests": Conversation.objects.filter(started_at__gte=lo, started_at__lt=hi),
        "form_spam": InboundEvent.objects.filter(status=InboundEvent.Status.IGNORED, received_at__gte=lo,
                                                 received_at__lt=hi),
        "callbacks": WorkItem.objects.filter(kind=WorkItem.Kind.CALLBACK, created_at__gte=lo, created_at__lt=hi),
    }
    selects, params = [], []
    for qs in probes.values():
        sql, more = qs.using(db).values("pk").order_by().query.sql_with_params()
        selects.append(f"EXISTS({sql})")
        params += more
    with connections[db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        found = dict(zip(probes, cursor.fetchone(), strict=True))
    found["requests"] = found["requests"] or found.pop("form_spam")
    return tuple(part for part in PARTS if found[part])
