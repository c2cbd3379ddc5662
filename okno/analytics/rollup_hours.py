"""Building the heat map's rollup (models_rollup.CallHourStat): each day's inbound and missed
calls by hour per department and line, written by rollup.rollup_build_day beside the day's
CallStat rows, and each whole month summed by weekday and hour from its days. The heat map
(okno.analytics.calls_heatmap) reads it for the days and months whose department spans are
current, and today live, as the calls report does (docs/analytics.md, "The heat map's rollup")."""

from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from okno.analytics.calls_report import ANSWERED, FINISHED
from okno.analytics.models_rollup import CallHourStat, CallStat
from okno.analytics.periods import Period
from okno.telephony.models import Call

DAY, MONTH = CallStat.Span.DAY_DEPARTMENT, CallStat.Span.MONTH_DEPARTMENT
PERSON_MONTH = CallStat.Span.MONTH  # per employee, built with CallStat's per-employee month
TODAY = CallStat.Span.TODAY_DEPARTMENT  # today's settled calls (okno.analytics.rollup_today)


def inbound_hours(qs):
    """(hour, inbound, missed) rows of `qs` per its other values: the heat map's one definition,
    read by the live heat map and the day's build alike (a missed call: inbound, no person answered)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return qs.filter(direction=Call.Direction.IN).annotate(hr=ExtractHour("started_at", tzinfo=tz))


def hours_build_day(day: date, calls=None, span: str = DAY) -> int:
    """The day's rows, replacing what was there; inside rollup_build_day's transaction (or, for
    today's settled calls, rollup_today's: `calls` and span TODAY_DEPARTMENT)."""
    if calls is None:
        lo, hi = Period(day, day).bounds()
        calls = Call.objects.filter(FINISHED, started_at__gte=lo, started_at__lt=hi)
    rows = [CallHourStat(span=span, start=day, weekday=day.isoweekday(), hour=r["hr"],
                         department_id=r["department_id"], line=r["line"], inbound=r["inbound"], missed=r["missed"])
            for r in inbound_hours(calls).values("department_id", "line", "hr").annotate(
                inbound=Count("id"), missed=Count("id", filter=~ANSWERED)).order_by()]
    CallHourStat.objects.filter(span=span, start=day).delete()
    CallHourStat.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def hours_build_month(first: date, last: date) -> None:
    """The month's rows by weekday and hour, summed from its days; inside rollup_build_month's
    transaction, which has checked that every day is built and unmarked."""
    rows = [CallHourStat(span=MONTH, start=first, weekday=r["weekday"], hour=r["hour"],
                         department_id=r["department_id"], line=r["line"], inbound=r["i"], missed=r["m"])
            for r in (CallHourStat.objects.filter(span=DAY, start__gte=first, start__lte=last)
                      .values("weekday", "hour", "department_id", "line")
                      .annotate(i=Sum("inbound"), m=Sum("missed")).order_by())]
    # Per employee, from the month's calls (the days keep no employee): one GROUP BY a month,
    # in the worker, once the month has ended or one of its days was rebuilt.
    lo, hi = Period(first, last).bounds()
    tz = ZoneInfo(settings.TIME_ZONE)
    qs = inbound_hours(Call.objects.filter(FINISHED, started_at__gte=lo, started_at__lt=hi).exclude(employee=None))
    rows += [CallHourStat(span=PERSON_MONTH, start=first, weekday=r["wd"], hour=r["hr"], employee_id=r["employee_id"],
                          department_id=r["department_id"], line=r["line"], inbound=r["inbound"], missed=r["missed"])
             for r in qs.annotate(wd=ExtractIsoWeekDay("started_at", tzinfo=tz)).values(
                 "employee_id", "department_id", "line", "wd", "hr").annotate(
                 inbound=Count("id"), missed=Count("id", filter=~ANSWERED)).order_by()]
    CallHourStat.objects.filter(span__in=(MONTH, PERSON_MONTH), start=first).delete()
    CallHourStat.objects.bulk_create(rows, batch_size=2000)
