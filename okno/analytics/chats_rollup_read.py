"""The chats report from its rollup (okno.analytics.chats_rollup): whole past months and days
from ChatStat, today's settled chats from its sums, the rest (today's last minutes and the chats
left out of its sums, a day changed since it was built, a day never built) live by the report's
own computation, and the two summed. Each chat counts in exactly one day and a built day equals
the live figures of that day, so the sum is the live answer (test_chats_rollup.py checks it).

Which rows: with a person in the question (grouped by employee, an employee filter, a manager's
own figures) the operator spans; an unfiltered question by day or channel with no department
in it the channel spans (3 rows a day); otherwise the department spans, 20-50 times fewer rows
than the operator's; each unless it leaves more of the period live than the operator spans (a
move since the department spans were built, spans of an older version).
"""

from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, Q, Sum
from django.utils import timezone

from okno.analytics.chats_report import ChatsQuery, _Acc, chats_accumulate, department_expr
from okno.analytics.chats_rollup import (
    CHANNEL,
    COARSE,
    FINE,
    SUMS,
    chats_fingerprint,
    coarse_fingerprint,
    departments_now,
)
from okno.analytics.models_rollup import ChatStat, ChatStatMark, ChatStatSpan
from okno.analytics.periods import Period
from okno.analytics.replica import reports_db
from okno.analytics.rollup import month_of, today
from okno.analytics.rollup_read import _days, _merge, _names, _runs
from okno.analytics.scope import chats_scope_q

# The report's groupings and filters as ChatStat's columns (dep: the department, annotated).
GROUPS = {"employee": "operator_id", "department": "dep", "channel": "channel_id", "day": "start"}
FILTERS = {"channel": "channel_id", "department": "dep", "employee": "operator_id"}
# _read makes each row's _Acc from the sums by position.
assert SUMS == ("chats", "accepted", "missed", "missed_offline", "rated", "positive", "negative", "spam",
                "first_response_ms", "first_responses", "response_ms", "responses")


def _state(start: date, end: date, now_day: date, db: str) -> tuple:
    """(built spans {(span, start): (fingerprint, through, pending)}, marked days) of [start, end]
    and today, both kinds: one query."""
    spans, marks = ChatStatSpan._meta.db_table, ChatStatMark._meta.db_table
    sql = (f"SELECT span, start, fingerprint, through, pending FROM {spans} "
           f"WHERE (start >= %s AND start <= %s) OR start = %s "
           f"UNION ALL SELECT '', m.day, '', NULL, '' FROM (SELECT DISTINCT day FROM {marks} "
           f"WHERE day >= %s AND day <= %s) m")
    last = max(end, now_day)
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [start.replace(day=1), end, now_day, start, last])
        found = cursor.fetchall()
    built, marked = {}, set()
    for span, day, fingerprint, through, pending in found:
        day = day if isinstance(day, date) else date.fromisoformat(day)  # SQLite answers text
        if span:
            built[(span, day)] = (fingerprint, str(through), pending)
        else:
            marked.add(day)
    return built, frozenset(marked)


def _through(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    return at.replace(tzinfo=UTC) if timezone.is_naive(at) else at


def _plan(period: Period, state: tuple, kind: dict, fingerprint: str, *, months_allowed: bool) -> dict:
    """What to read of one kind: months, days, today's sums (through, pending ids) or None, and
    the days computed live."""
    built, marked = state
    now_day = today()
    good = {key for key, (fp, _through, _pending) in built.items() if fp == fingerprint}
    months, days, live_days = [], [], []
    last_past = min(period.end, now_day - timedelta(days=1))
    day = period.start
    while day <= last_past:
        first, last = month_of(day)
        if (months_allowed and day == first and last <= last_past and (kind["month"], first) in good
                and not any(first <= m <= last for m in marked)):
            months.append(first)
            day = last + timedelta(days=1)
            continue
        (days if (kind["day"], day) in good and day not in marked else live_days).append(day)
        day += timedelta(days=1)
    prefix = None
    if period.start <= now_day <= period.end and (kind["today"], now_day) in good and now_day not in marked:
        _fp, through, pending = built[(kind["today"], now_day)]
        prefix = (_through(through), [int(pk) for pk in pending.split(",") if pk])
    live_days += [d for d in _days(max(last_past + timedelta(days=1), period.start), period.end)
                  if not (prefix is not None and d == now_day)]
    return {"kind": kind, "months": months, "days": days, "prefix": prefix, "live_days": live_days}


def _read(*, user, query: ChatsQuery, plan: dict, db: str) -> dict:
    kind = plan["kind"]
    where = Q()
    if plan["months"]:
        where |= Q(span=kind["month"], start__in=plan["months"])
    if plan["days"]:
        where |= Q(span=kind["day"], start__in=plan["days"])
    if plan["prefix"]:
        where |= Q(span=kind["today"], start=today())
    scope = chats_scope_q(user) if user is not None else Q()
    qs = ChatStat.objects.using(db).filter(where)
    if kind is COARSE:
        qs = qs.annotate(dep=F("department_id"))
    elif query.group_by == "department" or query.department is not None or any(
            n.split("__")[0] == "dep" for n in _names(scope)):
        # Only when asked: the operator's department through a join to people and channels
        # was a third of a year by employee (10 ms of 23 on PostgreSQL).
        qs = qs.annotate(dep=department_expr())
    qs = qs.filter(scope)
    for name, column in FILTERS.items():
        value = getattr(query, name)
        if value is not None:
            qs = qs.filter(**{column: value})
    try:
        sql, params = qs.values(GROUPS[query.group_by]).annotate(
            **{f"s_{n}": Sum(n) for n in SUMS}).order_by().query.sql_with_params()
    except EmptyResultSet:  # a scope or filter no row can pass
        return {}
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)  # raw rows: no converter per value
        found = cursor.fetchall()
    accs: dict = {}
    for k, *values in found:
        if query.group_by == "day":
            k = (k if isinstance(k, date) else date.fromisoformat(k)).isoformat()
        # SUMS' order is _Acc's, the averages' sums and counts as pairs (PostgreSQL's sums of
        # bigints are Decimals); positional: a dict per row was 4 ms of a year by employee.
        v = [int(x) for x in values]
        accs[k] = _Acc(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], [v[8], v[9]], [v[10], v[11]])
    return accs


def chats_rollup_accumulate(*, user, query: ChatsQuery, period: Period) -> dict | None:
    """chats_accumulate's answer from the rollup and the live rest, or None: answer live."""
    if query.group_by not in GROUPS:
        return None
    db = reports_db()
    now_day = today()
    if period.start > now_day:
        return None
    state = _state(period.start, min(period.end, now_day), now_day, db)
    months_allowed = query.group_by != "day"
    plan = _plan(period, state, FINE, chats_fingerprint(), months_allowed=months_allowed)
    scope = _names(chats_scope_q(user)) if user is not None else set()
    person = query.group_by == "employee" or query.employee is not None or "operator_id" in scope
    if not person:
        # The smallest kind that holds the question and leaves no more days live than the others.
        kinds = [(COARSE, lambda: coarse_fingerprint(*departments_now()))]
        if query.group_by in ("day", "channel") and query.department is None and not scope:
            kinds.insert(0, (CHANNEL, chats_fingerprint))
        for kind, fingerprint in kinds:
            other = _plan(period, state, kind, fingerprint(), months_allowed=months_allowed)
            if len(other["live_days"]) <= len(plan["live_days"]):
                plan = other
                break
    accs: dict = {}
    if plan["months"] or plan["days"] or plan["prefix"]:
        accs = _read(user=user, query=query, plan=plan, db=db)
        if _state(period.start, min(period.end, now_day), now_day, db) != state:
            return None  # a build committed while we read: its rows may be half-read
    if plan["prefix"]:
        through, pending = plan["prefix"]
        only = Q(started_at__gte=through) | Q(pk__in=pending)
        _merge(accs, chats_accumulate(user=user, query=query, period=Period(now_day, now_day), rollup=False,
                                      only=only))
    for run in _runs(plan["live_days"]):
        _merge(accs, chats_accumulate(user=user, query=query, period=run, rollup=False))
    return accs
