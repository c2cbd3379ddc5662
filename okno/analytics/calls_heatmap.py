"""Load: inbound and missed calls by hour of day and weekday, in the company's time zone, so a
head sees the hours that need more people. Counts the calls the calls report counts (same scope,
period and filters; okno.analytics.calls_report), one GROUP BY over the period's inbound calls."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from okno.analytics.calls_report import ANSWERED, CallsQuery, _base_qs
from okno.analytics.scope import check_filters
from okno.telephony.models import Call

WEEKDAYS = range(1, 8)  # ISO: Monday 1 .. Sunday 7
HOURS = range(24)


def calls_heatmap(*, user, query: CallsQuery) -> dict:
    """{"from", "to", "filters", "cells": [{"weekday", "hour", "inbound", "missed"}] (all 7 x 24,
    Monday first), "totals": {"inbound", "missed"}}; the report's grouping and comparison are not
    used. A missed call is an inbound one no person answered (docs/analytics.md)."""
    check_filters(user=user, department=query.department, employee=query.employee)
    tz = ZoneInfo(settings.TIME_ZONE)
    qs = _base_qs(user=user, query=query, period=query.period).filter(direction=Call.Direction.IN)
    counted = (qs.annotate(wd=ExtractIsoWeekDay("started_at", tzinfo=tz), hr=ExtractHour("started_at", tzinfo=tz))
               .values("wd", "hr").annotate(inbound=Count("id"), missed=Count("id", filter=~ANSWERED)).order_by())
    by_cell = {(r["wd"], r["hr"]): r for r in counted}
    cells = [{"weekday": wd, "hour": hr, "inbound": by_cell.get((wd, hr), {}).get("inbound", 0),
              "missed": by_cell.get((wd, hr), {}).get("missed", 0)} for wd in WEEKDAYS for hr in HOURS]
    return {"from": query.period.start.isoformat(), "to": query.period.end.isoformat(), "filters": query.filters(),
            "cells": cells, "totals": {"inbound": sum(c["inbound"] for c in cells),
                                       "missed": sum(c["missed"] for c in cells)}}
