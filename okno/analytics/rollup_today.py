"""Today's settled calls in the rollup: the calls report's fixed cost was reading today live
(27,000 calls a day at 10M a year: 41 of a year report's 81 ms). Every minute the worker sums
today's calls that started and finished before `through` = now - callback window - SLACK, whose
figures can no longer change in the normal course (a call that ended that long ago has every
fact in, and any call back to it has started), into CallStat's TODAY spans, and keeps the ids of
the calls that started before `through` but were left out (in progress, or ended after it).
A report reads today as those sums plus, live, the calls started since `through` and the ids
left out: together every call of today, each once (docs/analytics.md, "Today").

What would make the sums wrong marks today (CallStatMark), and today is then read live until the
next build: a fact about a call that ended more than SLACK ago (a late CDR line, a late leg), an
answered outbound call that started more than SLACK ago and may call back a missed call of the
sums, and the worker's look at `Call.updated_at` for writers that publish nothing."""

from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from okno.analytics.calls_report import FINISHED, MISSED
from okno.analytics.models_rollup import CallHourStat, CallStat, CallStatMark, CallStatSpan
from okno.analytics.periods import Period
from okno.analytics.rollup import Settings, calls_rows, local_day, lock, save_span, without_employee
from okno.analytics.rollup_hours import hours_build_day
from okno.telephony.models import Call

SLACK = timedelta(minutes=10)
EVERY = timedelta(seconds=60)
# Past this many calls left out (a PBX whose hang-ups never arrive leaves calls "in progress"),
# the live rest would be an IN list longer than the day: no sums, today read live.
MAX_PENDING = 5000
SPANS = (CallStat.Span.TODAY, CallStat.Span.TODAY_DEPARTMENT)


def rollup_build_today(*, now: datetime | None = None, conf: Settings | None = None) -> bool:
    """(Re)builds today's sums; returns whether there are sums to read. Read committed is enough:
    a call that finishes during the build ends after `through`, so it is left out of the sums and,
    read before or after, is pending or started since; a change that moves a call into the sums
    during the build (an end before `through` arriving now) marks today, so the sums are not read."""
    now = now or timezone.now()
    conf = conf or Settings()
    day = local_day(now)
    lo, hi = Period(day, day).bounds()
    through = max(lo, now - conf.window - SLACK)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")  # as for a day: compiling costs more than the run
        lock()
        marks = list(CallStatMark.objects.filter(day=day).values_list("pk", flat=True))
        early = Call.objects.filter(started_at__gte=lo, started_at__lt=min(through, hi))
        settled = FINISHED & (Q(ended_at__lt=through) | Q(ended_at__isnull=True))
        rows = calls_rows(early.filter(settled), conf)
        pending = list(early.exclude(settled).order_by().values_list("pk", flat=True)[:MAX_PENDING + 1])
        for model in (CallStat, CallHourStat, CallStatSpan):  # yesterday's
            model.objects.filter(span__in=SPANS).exclude(start=day).delete()
        if len(pending) > MAX_PENDING:
            for model in (CallStat, CallHourStat, CallStatSpan):
                model.objects.filter(span__in=SPANS).delete()
            return False
        left_out = ",".join(str(pk) for pk in sorted(pending))
        save_span(CallStat.Span.TODAY, day, conf, rows, now, through=through, pending=left_out)
        save_span(CallStat.Span.TODAY_DEPARTMENT, day, conf, without_employee(rows), now, through=through,
                  pending=left_out)
        hours_build_day(day, early.filter(settled), span=CallStat.Span.TODAY_DEPARTMENT)  # the heat map's
        if marks:
            CallStatMark.objects.filter(pk__in=marks).delete()
    return True


def today_due(now: datetime, conf: Settings) -> bool:
    """Whether the worker should build today's sums: none yet, a minute old, marked, or built
    with other settings."""
    day = local_day(now)
    built = CallStatSpan.objects.filter(span=CallStat.Span.TODAY, start=day).values_list(
        "built_at", "fingerprint").first()
    return (built is None or now - built[0] >= EVERY or built[1] != conf.fingerprint
            or CallStatMark.objects.filter(day=day).exists())


def today_touched(*, call: Call, now: datetime) -> bool:
    """Whether a change of this call of today may change today's sums (then today is marked).
    No query in the common case (a call ending now). The sums hold calls that ended before
    `through` <= now - window - SLACK, so a call that ended (or, without an end, started) SLACK
    ago or later was never in them; an answered outbound call calls back missed calls that ended
    within the window before it started, so one that started SLACK ago or later cannot reach the
    sums either, and one that started earlier marks today only when a missed call to its number
    ended in the window before it (one probe of the (customer_number, started_at) index)."""
    ref = call.ended_at or call.started_at
    if ref < now - SLACK:
        return True
    if call.direction != Call.Direction.OUT or call.outcome != Call.Outcome.ANSWERED or call.started_at >= now - SLACK:
        return False
    return missed_before(call)


def missed_before(call: Call, window: timedelta | None = None) -> bool:
    """A missed call of today to this outbound call's number that it may have called back."""
    if not call.customer_number:
        return False
    window = window if window is not None else Settings().window
    day = local_day(call.started_at)
    lo = Period(day, day).bounds()[0]  # today's sums hold today's calls only
    return (Call.objects.filter(MISSED, customer_number=call.customer_number, started_at__gte=lo,
                                started_at__lte=call.started_at)
            .filter(Q(ended_at__gte=call.started_at - window) | Q(ended_at__isnull=True,
                                                                 started_at__gte=call.started_at - window))
            .exists())


def prefix_state(found: list, day: date) -> tuple | None:
    """(through, pending ids) of today's sums from rollup_read's state rows, or None."""
    for span, start, _fp, _built, through, pending in found:
        if span in SPANS and start == day and through is not None:
            if isinstance(through, str):  # SQLite answers text
                through = datetime.fromisoformat(through)
            if timezone.is_naive(through):
                through = through.replace(tzinfo=UTC)
            return through, [int(pk) for pk in pending.split(",") if pk]
    return None
