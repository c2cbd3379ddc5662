"""Building the calls rollup (okno.analytics.models_rollup): each past day's figures per employee,
department, line and direction, and each whole past month's summed from its days.

How it stays right (docs/analytics.md, "How it computes, and how it will scale"):
- A day is built by the same SQL as the live report (calls_report's definitions of answered,
  successful, missed, waited and called back), grouped by the four keys, so a built day equals
  the live figures of that day by construction; the worker builds each day once it has ended
  (SETTLE after midnight, so a call that finished at 23:59:59 has committed).
- A day changes after it was built when a call of it changes: a late fact, a call that was
  ongoing over midnight and ends now, a later callback of one of its missed calls (an answered
  outbound call reaches back `window` minutes), a CDR import of an old file. Every such change
  marks the day (CallStatMark) and reports read a marked day live until the worker rebuilds it.
  The marks come from the telephony's events, in the same transaction as the change
  (`call.finished`, `call.answered`, `call.missed`), and, for writers that publish nothing (the
  CDR import's bulk writes), from a periodic look at `Call.updated_at` (telephony's
  `extension_assign` stamps no updated_at: a known gap, docs/analytics.md).
- `successful` depends on the thresholds and `called_back` on the window: each built span keeps
  the fingerprint of the settings it was built with, and a span built with other settings is not
  read (live instead) until rebuilt. We rebuild rather than keep a histogram of talk time: the
  window needs a rebuild anyway, a histogram exact for any threshold is one counter per second
  of talk, and a rebuild of a year of 10M calls takes minutes in the background (figures in docs).
"""

import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from okno.analytics.calls_report import ANSWERED, FINISHED, MISSED, WAITED, _callbacks, _threshold_expr
from okno.analytics.models_rollup import CallStat, CallStatCursor, CallStatMark, CallStatSpan
from okno.analytics.periods import Period
from okno.analytics.rollup_hours import hours_build_day, hours_build_month
from okno.analytics.services import analytics_settings_get, department_thresholds
from okno.core import events
from okno.telephony.models import Call

KEYS = ("employee_id", "department_id", "line", "direction")
SUMS = ("calls", "answered", "successful", "missed", "called_back", "callback_microseconds", "talk_seconds",
        "wait_seconds", "waited")
# A day is built this long after it ended: longer than any call transaction lasts, so every call
# of the day that finished before midnight has committed when the day is read.
SETTLE = timedelta(minutes=5)
# How often the worker looks for calls changed by writers that publish no event: one scan of
# Call.updated_at (no index: ~1 s at 10M calls on PostgreSQL, 0.3 s at 1M on SQLite), so not often.
CHECK_EVERY = timedelta(minutes=5)
# The look at updated_at reaches this far back before the last one: a transaction that stamped
# updated_at before that look but committed after it is still seen.
CHECK_LAG = timedelta(minutes=5)
# Days built per worker pass: a pass should not hold the other drains for long (a day of 27,000
# calls, 10M a year, builds in ~0.1-0.3 s on PostgreSQL).
DAYS_PER_PASS = 2


class Settings:
    """The figures' settings, read once per build or report."""

    def __init__(self) -> None:
        conf = analytics_settings_get()
        self.threshold = conf.success_threshold_seconds
        self.window = timedelta(minutes=conf.callback_window_minutes)
        self.overrides = department_thresholds()
        self.fingerprint = rollup_fingerprint(threshold=self.threshold, overrides=self.overrides,
                                              window=self.window)


# Raised when what a built span holds changes (2: the heat map's CallHourStat rows; 3: its months
# per employee), so every span built before reads live until the worker rebuilds it, newest first.
VERSION = 3


def rollup_fingerprint(*, threshold: int, overrides: dict[int, int], window: timedelta) -> str:
    text = f"{VERSION}|{settings.TIME_ZONE}|{threshold}|{sorted(overrides.items())}|{window.total_seconds()}"
    return hashlib.sha1(text.encode()).hexdigest()


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(at: datetime) -> date:
    return at.astimezone(_tz()).date()


def today() -> date:
    return local_day(timezone.now())


def month_of(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


# --- marks ------------------------------------------------------------------------------------

def days_touched(*, started_at: datetime | None, direction: str, outcome: str, window: timedelta) -> set[date]:
    """The days whose figures a call counts in: its own, and for an answered outbound call the
    days of the missed calls it may call back (it started within `window` after they ended)."""
    if started_at is None:
        return set()
    days = {local_day(started_at)}
    if direction == Call.Direction.OUT:
        # Any outcome: one that was answered and is no longer un-calls-back as well.
        # A missed call ends after it starts, so one that ended within the window started in it.
        first = local_day(started_at - window)
        days |= {first + timedelta(days=i) for i in range((local_day(started_at) - first).days + 1)}
    return days


def rollup_mark_days(days: set[date]) -> None:
    """Marks past days changed; today is read live anyway and built once it ends."""
    now_day = today()
    past = sorted(d for d in days if d < now_day)
    if past:
        CallStatMark.objects.bulk_create([CallStatMark(day=d) for d in past])


def on_call_changed(event: events.Event) -> None:
    """A subscriber of the telephony's call events, in the same transaction as the change."""
    call = event.subject
    if not isinstance(call, Call) or call.started_at is None:
        return
    now = timezone.now()
    if local_day(call.started_at) >= local_day(now):
        from okno.analytics.rollup_today import today_touched  # it imports this module

        if today_touched(call=call, now=now):  # no query for a call ending now: the common case
            CallStatMark.objects.create(day=local_day(call.started_at))
        if call.direction != Call.Direction.OUT:
            return
    window = timedelta(minutes=analytics_settings_get().callback_window_minutes)
    rollup_mark_days(days_touched(started_at=call.started_at, direction=call.direction, outcome=call.outcome,
                                  window=window))


def rollup_check_changed(*, now: datetime | None = None, force: bool = False) -> int:
    """Marks the days of calls changed since the last look (Call.updated_at), for the writers
    that publish no event. Returns how many days it marked."""
    now = now or timezone.now()
    cursor, _ = CallStatCursor.objects.get_or_create(pk=1)
    if cursor.checked_until is None:  # the first look: nothing was built before it to go stale
        CallStatCursor.objects.filter(pk=1).update(checked_until=now, checked_at=now)
        return 0
    if not force and cursor.checked_at is not None and now - cursor.checked_at < CHECK_EVERY:
        return 0
    window = timedelta(minutes=analytics_settings_get().callback_window_minutes)
    changed: dict[date, datetime] = {}  # day -> the latest change of a call counting in it
    seen_until = cursor.checked_until
    qs = Call.objects.exclude(started_at=None).filter(updated_at__gt=cursor.checked_until - CHECK_LAG)
    now_day = local_day(now)
    prefix = CallStatSpan.objects.filter(span=CallStat.Span.TODAY, start=now_day).values_list("through",
                                                                                               flat=True).first()
    today_dirty = False
    for started_at, direction, outcome, updated_at, ended_at, number in qs.values_list(
            "started_at", "direction", "outcome", "updated_at", "ended_at", "customer_number").iterator(
            chunk_size=5000):
        if prefix is not None and not today_dirty and local_day(started_at) == now_day:
            from okno.analytics.rollup_today import missed_before

            # In today's sums (it ended before `through`), or an outbound call that may call one back.
            today_dirty = (ended_at or started_at) < prefix or (
                direction == Call.Direction.OUT and outcome == Call.Outcome.ANSWERED
                and started_at - window < prefix and missed_before(
                    Call(started_at=started_at, customer_number=number), window))
        for day in days_touched(started_at=started_at, direction=direction, outcome=outcome, window=window):
            if day not in changed or changed[day] < updated_at:
                changed[day] = updated_at
        seen_until = max(seen_until, updated_at)
    built = dict(CallStatSpan.objects.filter(span=CallStat.Span.DAY, start__in=sorted(changed))
                 .values_list("start", "built_at"))
    # Built before the change, give or take the lag (the change may have committed after the build).
    dirty = {d for d, at in changed.items() if d not in built or built[d] < at + CHECK_LAG}
    rollup_mark_days(dirty)
    if today_dirty:
        CallStatMark.objects.create(day=now_day)
    CallStatCursor.objects.filter(pk=1).update(checked_until=min(seen_until, now), checked_at=now)
    return len(dirty)


# --- building ---------------------------------------------------------------------------------

def lock(cursor_model=CallStatCursor) -> None:
    """One build at a time per rollup (its cursor row, pk=1), whichever worker: two building one
    day at once would each delete the rows before the other's insert commits, and leave both
    (PostgreSQL; SQLite's IMMEDIATE transactions are one at a time anyway)."""
    cursor_model.objects.get_or_create(pk=1)
    list(cursor_model.objects.select_for_update().filter(pk=1))


def _day_rows(day: date, conf: Settings) -> dict[tuple, dict]:
    """The day's figures per (employee, department, line, direction): the live report's SQL."""
    lo, hi = Period(day, day).bounds()
    return calls_rows(Call.objects.filter(FINISHED, started_at__gte=lo, started_at__lt=hi), conf)


def calls_rows(qs, conf: Settings) -> dict[tuple, dict]:
    """The figures of the calls of `qs` per (employee, department, line, direction)."""
    successful = ANSWERED & Q(talk_seconds__gte=_threshold_expr(conf.threshold, conf.overrides))
    out: dict[tuple, dict] = {}
    for r in qs.values(*KEYS).annotate(
            calls=Count("id"), answered_=Count("id", filter=ANSWERED), successful=Count("id", filter=successful),
            missed=Count("id", filter=MISSED), talk=Coalesce(Sum("talk_seconds", filter=ANSWERED), 0),
            wait=Coalesce(Sum("wait_seconds", filter=WAITED), 0), waited=Count("id", filter=WAITED)).order_by():
        out[tuple(r[k] for k in KEYS)] = {
            "calls": r["calls"], "answered": r["answered_"], "successful": r["successful"], "missed": r["missed"],
            "called_back": 0, "callback_microseconds": 0, "talk_seconds": r["talk"], "wait_seconds": r["wait"],
            "waited": r["waited"]}
    missed = qs.filter(MISSED)
    keys = {pk: key for pk, *key in missed.values_list("id", *KEYS)}
    for pk, seconds in _callbacks(missed.annotate(k=F("id")), window=conf.window):
        row = out[tuple(keys[pk])]
        row["called_back"] += 1
        row["callback_microseconds"] += round(seconds * 1_000_000)
    return out


def _stats(span: str, start: date, rows: dict[tuple, dict], keys=KEYS) -> list[CallStat]:
    return [CallStat(span=span, start=start, **dict(zip(keys, key, strict=True)), **figures)
            for key, figures in rows.items()]


def without_employee(rows: dict[tuple, dict]) -> dict[tuple, dict]:
    out: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(SUMS, 0))
    for (_employee, *rest), figures in rows.items():
        acc = out[(None, *rest)]
        for name in SUMS:
            acc[name] += figures[name]
    return out


def save_span(span: str, start: date, conf: Settings, rows: dict[tuple, dict], now: datetime, **extra) -> None:
    CallStat.objects.filter(span=span, start=start).delete()
    CallStat.objects.bulk_create(_stats(span, start, rows), batch_size=2000)
    CallStatSpan.objects.update_or_create(span=span, start=start,
                                          defaults={"fingerprint": conf.fingerprint, "built_at": now, **extra})


def rollup_build_day(*, day: date, conf: Settings | None = None, now: datetime | None = None) -> int:
    """(Re)builds one day and forgets its marks read before; its month is built again later.
    Returns the rows written."""
    conf = conf or Settings()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The callbacks' look-up per missed call is estimated dear enough to be JIT-compiled:
            # the compiling took longer than the day's queries run.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        lock()
        marks = list(CallStatMark.objects.filter(day=day).values_list("pk", flat=True))
        now = now or timezone.now()
        rows = _day_rows(day, conf)
        save_span(CallStat.Span.DAY, day, conf, rows, now)
        save_span(CallStat.Span.DAY_DEPARTMENT, day, conf, without_employee(rows), now)
        hours_build_day(day)
        first, _last = month_of(day)
        # The month's sums no longer hold: read by days until rollup_build_month runs.
        CallStatSpan.objects.filter(span__in=(CallStat.Span.MONTH, CallStat.Span.MONTH_DEPARTMENT),
                                    start=first).delete()
        if marks:
            CallStatMark.objects.filter(pk__in=marks).delete()
    return len(rows)


def rollup_build_month(*, first: date, conf: Settings | None = None, now: datetime | None = None) -> bool:
    """Sums a whole past month from its days, once every day of it is built with the settings in
    force and unmarked; returns whether it did."""
    conf = conf or Settings()
    first, last = month_of(first)
    if last >= today():
        return False
    with transaction.atomic():
        lock()
        built = CallStatSpan.objects.filter(span=CallStat.Span.DAY, start__gte=first, start__lte=last,
                                            fingerprint=conf.fingerprint).count()
        if built != (last - first).days + 1 or CallStatMark.objects.filter(day__gte=first, day__lte=last).exists():
            return False
        now = now or timezone.now()
        rows: dict[tuple, dict] = {}
        sums = {name: Sum(name) for name in SUMS}
        for r in CallStat.objects.filter(span=CallStat.Span.DAY, start__gte=first, start__lte=last).values(
                *KEYS).annotate(**sums).order_by():
            rows[tuple(r[k] for k in KEYS)] = {name: r[name] for name in SUMS}
        save_span(CallStat.Span.MONTH, first, conf, rows, now)
        save_span(CallStat.Span.MONTH_DEPARTMENT, first, conf, without_employee(rows), now)
        hours_build_month(first, last)
    return True


def rollup_rebuild(*, start: date | None = None, end: date | None = None, progress=None) -> dict:
    """Builds every past day of [start, end] (default: the first call's day to yesterday) and
    their whole months; `manage.py analytics_rollup --rebuild`. Returns counts."""
    conf = Settings()
    started = timezone.now()
    cursor, _ = CallStatCursor.objects.get_or_create(pk=1)
    if cursor.checked_until is None:  # calls changed from now on are looked for
        CallStatCursor.objects.filter(pk=1).update(checked_until=started, checked_at=started)
    if start is None:
        first_call = Call.objects.aggregate(at=Min("started_at"))["at"]
        if first_call is None:
            return {"days": 0, "months": 0, "rows": 0}
        start = local_day(first_call)
    return build_days(start=start, end=end, cursor_model=CallStatCursor, progress=progress,
                      build_day=lambda day: rollup_build_day(day=day, conf=conf),
                      build_month=lambda first: rollup_build_month(first=first, conf=conf))


def build_days(*, start: date, end: date | None, cursor_model, build_day, build_month, progress=None) -> dict:
    """A rollup's rebuild of every past day of [start, end] (default: to yesterday) and their
    whole months, moving its cursor's `built_through` on. Returns counts."""
    last_day = today() - timedelta(days=1)
    end = min(end or last_day, last_day)
    days = rows = months = 0
    day = start
    while day <= end:
        rows += build_day(day)
        days += 1
        if progress:
            progress(day)
        if day == month_of(day)[1] or day == end:
            months += build_month(day.replace(day=1))
        day += timedelta(days=1)
    cursor, _ = cursor_model.objects.get_or_create(pk=1)
    if cursor.built_through is None or cursor.built_through < end:
        cursor_model.objects.filter(pk=1).update(built_through=end)
    return {"days": days, "months": months, "rows": rows}


def drain_days(*, todo: list[date], through: date | None, cursor_model, build_day, build_month) -> int:
    """Builds a drain pass's days (days_to_build), moves the cursor, then sums their months."""
    for day in todo:
        build_day(day)
    if through is not None:
        cursor_model.objects.filter(pk=1).update(built_through=through)
    for first in sorted({month_of(d)[0] for d in todo}):
        build_month(first)
    return len(todo)


def days_to_build(*, now: datetime, cursor_model, mark_model, first_day, stale) -> tuple[list[date], date | None]:
    """A rollup drain's days for this pass, DAYS_PER_PASS at most: the days that ended since its
    cursor's `built_through`, then the marked days, then `stale(limit)` (built with other
    settings), newest first; and the cursor's new `built_through` once they are built (None: as
    is). The first pass of an upgrade starts at `first_day()` (the history is built in the
    background); a new install starts today."""
    settled = local_day(now - SETTLE) - timedelta(days=1)  # the last day that ended SETTLE ago
    cursor, _ = cursor_model.objects.get_or_create(pk=1)
    if cursor.built_through is None:
        first = first_day()
        cursor.built_through = (first - timedelta(days=1)) if first else settled
        cursor_model.objects.filter(pk=1).update(built_through=cursor.built_through)
    todo: list[date] = []
    day = cursor.built_through + timedelta(days=1)
    while day <= settled and len(todo) < DAYS_PER_PASS:
        todo.append(day)
        day += timedelta(days=1)
    through = todo[-1] if todo else None
    if len(todo) < DAYS_PER_PASS:
        marked = mark_model.objects.filter(day__lte=settled).values("day").annotate(n=Max("pk")).order_by("-day")
        todo += [m["day"] for m in marked[:DAYS_PER_PASS - len(todo)] if m["day"] not in todo]
    if len(todo) < DAYS_PER_PASS:
        todo += [d for d in stale(DAYS_PER_PASS - len(todo)) if d not in todo]
    return todo, through


def rollup_drain(*, now: datetime | None = None) -> int:
    """The worker's drain: builds the days that ended, rebuilds marked days and days built with
    other settings, then their months, a few days a pass. Returns the days built."""
    now = now or timezone.now()
    rollup_check_changed(now=now)
    conf = Settings()

    def first_day() -> date | None:
        first_call = Call.objects.aggregate(at=Min("started_at"))["at"]
        return local_day(first_call) if first_call else None

    def stale(limit: int) -> list[date]:
        return list(CallStatSpan.objects.filter(span=CallStat.Span.DAY).exclude(fingerprint=conf.fingerprint)
                    .order_by("-start").values_list("start", flat=True)[:limit])

    todo, through = days_to_build(now=now, cursor_model=CallStatCursor, mark_model=CallStatMark,
                                  first_day=first_day, stale=stale)
    drain_days(todo=todo, through=through, cursor_model=CallStatCursor,
               build_day=lambda day: rollup_build_day(day=day, conf=conf, now=now),
               build_month=lambda first: rollup_build_month(first=first, conf=conf, now=now))
    from okno.analytics.rollup_today import rollup_build_today, today_due  # it imports this module

    if today_due(now, conf):  # not counted as work: the worker still rests between passes
        rollup_build_today(now=now, conf=conf)
    return len(todo)


def register() -> None:
    """From AnalyticsConfig.ready: the telephony's call events and the worker's drain."""
    from okno.core import worker

    for name in ("call.finished", "call.answered", "call.missed"):
        events.subscribe(name, on_call_changed, key="analytics.rollup")
    # Days end once a day; marks are rare: a relaxed pace, and a pass is a few days' GROUP BYs.
    worker.register_drain("analytics_rollup", rollup_drain, idle_sleep=10.0)
