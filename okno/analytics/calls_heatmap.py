"""Load: inbound and missed calls by hour of day and weekday, in the company's time zone, so a
head sees the hours that need more people. Counts the calls the calls report counts (same scope,
period and filters; okno.analytics.calls_report): past days and whole months from the heat map's
rollup (okno.analytics.rollup_hours) where their department spans are current, the rest live by
one GROUP BY over the period's inbound calls, as the calls report does."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractIsoWeekDay

from okno.analytics import rollup_read
from okno.analytics.calls_report import ANSWERED, CallsQuery, _base_qs
from okno.analytics.models_rollup import CallHourStat
from okno.analytics.periods import Period
from okno.analytics.replica import reports_db
from okno.analytics.rollup import Settings
from okno.analytics.rollup_hours import DAY, MONTH, PERSON_MONTH, TODAY, inbound_hours
from okno.analytics.scope import check_filters
from okno.telephony.models import Call

WEEKDAYS = range(1, 8)  # ISO: Monday 1 .. Sunday 7
HOURS = range(24)


def _live(*, user, query: CallsQuery, period: Period, cells: dict, only: Q | None = None) -> None:
    qs = inbound_hours(_base_qs(user=user, query=query, period=period, only=only)).annotate(
        wd=ExtractIsoWeekDay("started_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
    for r in qs.values("wd", "hr").annotate(inbound=Count("id"), missed=Count("id", filter=~ANSWERED)).order_by():
        _add(cells, r["wd"], r["hr"], r["inbound"], r["missed"])


def _add(cells: dict, wd: int, hr: int, inbound: int, missed: int) -> None:
    cell = cells.setdefault((wd, hr), [0, 0])
    cell[0] += int(inbound)
    cell[1] += int(missed)


def _from_rollup(*, user, query: CallsQuery, cells: dict) -> bool:
    """Adds the rollup's part and the live rest to `cells`; False (nothing added) when the
    rollup cannot answer: an outcome or tag filter (no column for them). A person's heat map (a
    manager's own, an employee filter) reads whole months per employee and their other days live
    through the (employee, started_at) index: a month of one person is a thousand calls."""
    scope = rollup_read._scope(user)
    if query.outcome or query.tag is not None or scope is None:
        return False
    person = query.employee is not None or "employee_id" in rollup_read._names(scope)
    db = reports_db()
    # Today's settled calls have hour rows per department (not per employee): a person reads today live.
    months, days, live_days, state, prefix = rollup_read._plan(
        query.period, months_allowed=True, fine=person, fingerprint=Settings().fingerprint, db=db,
        with_today=not person)
    if person:
        live_days, days = sorted([*live_days, *days]), []
    found: dict = {}
    if months or days or prefix:
        where = Q(span=PERSON_MONTH if person else MONTH, start__in=months) | Q(span=DAY, start__in=days)
        if prefix:
            where |= Q(span=TODAY, start=rollup_read.today())
        qs = CallHourStat.objects.using(db).filter(where)
        qs = qs.filter(scope)
        if query.employee is not None:
            qs = qs.filter(employee_id=query.employee)
        if query.line:
            qs = qs.filter(line=query.line)
        if query.department is not None:
            qs = qs.filter(department_id=query.department)
        try:
            sql, params = (qs.values("weekday", "hour").annotate(i=Sum("inbound"), m=Sum("missed")).order_by()
                           .query.sql_with_params())
        except EmptyResultSet:  # a scope no row can pass
            sql = None
        if sql is not None:
            with connections[db].cursor() as cursor:
                cursor.execute(sql, params)
                for wd, hr, inbound, missed in cursor.fetchall():
                    _add(found, wd, hr, inbound, missed)
        args, seen = state
        if rollup_read._state(*args)[:2] != seen:  # a build committed while we read: all live
            return False
    cells.update(found)
    for run, only in rollup_read.live_parts(live_days, prefix):
        _live(user=user, query=query, period=run, cells=cells, only=only)
    return True


def calls_heatmap(*, user, query: CallsQuery, rollup: bool = True) -> dict:
    """{"from", "to", "filters", "cells": [{"weekday", "hour", "inbound", "missed"}] (all 7 x 24,
    Monday first), "totals": {"inbound", "missed"}}; the report's grouping and comparison are not
    used. A missed call is an inbound one no person answered (docs/analytics.md)."""
    check_filters(user=user, department=query.department, employee=query.employee)
    cells: dict = {}
    if query.direction in ("", Call.Direction.IN) and not (rollup and _from_rollup(user=user, query=query,
                                                                                     cells=cells)):
        cells.clear()
        _live(user=user, query=query, period=query.period, cells=cells)
    out = [{"weekday": wd, "hour": hr, "inbound": cells.get((wd, hr), (0, 0))[0],
            "missed": cells.get((wd, hr), (0, 0))[1]} for wd in WEEKDAYS for hr in HOURS]
    return {"from": query.period.start.isoformat(), "to": query.period.end.isoformat(), "filters": query.filters(),
            "cells": out, "totals": {"inbound": sum(c["inbound"] for c in out),
                                     "missed": sum(c["missed"] for c in out)}}
