"""The calls report's rollup: each past day's (and whole past month's) figures per employee,
department, line and direction, so a year's report sums a few thousand rows instead of millions
of calls (okno/analytics/rollup.py builds them, rollup_read.py reads them; docs/analytics.md).

Every row is derived: deleting all of them loses nothing (`manage.py analytics_rollup --rebuild`
makes them again, and until then reports compute live).
"""

from django.conf import settings
from django.db import models


class CallStat(models.Model):
    """The calls of one span (a day, or a month) with one (employee, department, line, direction).

    A span's rows are trusted only while its CallStatSpan says it was built with the settings in
    force and no CallStatMark names one of its days (okno.analytics.rollup_read).
    """

    class Span(models.TextChoices):
        DAY = "day"  # per employee
        MONTH = "month"  # per employee, a whole month, summed from its days
        DAY_DEPARTMENT = "dayd"  # employee left out: by day, department or line without an employee filter
        MONTH_DEPARTMENT = "monthd"
        # Today up to CallStatSpan.through, its settled calls (okno.analytics.rollup_today): the
        # rest of today is read live. Rebuilt every minute; yesterday's is dropped.
        TODAY = "dayp"
        TODAY_DEPARTMENT = "daypd"

    span = models.CharField(max_length=6, choices=Span.choices)
    start = models.DateField()  # the day, or the month's first day, in the company's time zone
    # SET_NULL as on Call: deleting a person or a department changes both alike, so the sums hold.
    employee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+", db_index=False)
    department = models.ForeignKey("people.Department", null=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    line = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=8)
    calls = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    # At the thresholds of CallStatSpan.fingerprint: a changed threshold rebuilds (rollup.py says why).
    successful = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    called_back = models.PositiveIntegerField(default=0)
    # Microseconds: whole, so sums are exact whatever the order they are added in.
    callback_microseconds = models.BigIntegerField(default=0)
    talk_seconds = models.BigIntegerField(default=0)
    wait_seconds = models.BigIntegerField(default=0)
    waited = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["span", "start"], name="call_stat_span"),
                   # A manager's own figures (or an employee filter) by day: a year of days read
                   # through (span, start) alone walked every employee's rows (31 ms at 10M calls).
                   models.Index(fields=["employee", "span", "start"], condition=models.Q(employee__isnull=False),
                                name="call_stat_employee")]


class BuiltSpan(models.Model):
    """A span of a rollup that was built: with which settings (hashed: the fingerprint) and when;
    for a TODAY span, what it holds (`through`, `pending`)."""

    start = models.DateField()
    fingerprint = models.CharField(max_length=40)
    built_at = models.DateTimeField()
    # A TODAY span only: it holds today's finished calls (chats) that started and ended before
    # `through`; `pending` names those that started before it and were left out (in progress, or
    # ended after it), comma-separated: the live rest of today is those and the ones started since.
    through = models.DateTimeField(null=True)
    pending = models.TextField(blank=True, default="")

    class Meta:
        abstract = True


class DayMark(models.Model):
    """A past day whose rows changed after it was built: reports read it live until the worker
    rebuilds it. Insert-only (no row is updated), so many writers never wait on each other."""

    day = models.DateField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class CallStatSpan(BuiltSpan):
    """A span of CallStat that was built, with which settings (threshold, departments' thresholds,
    callback window, time zone)."""

    span = models.CharField(max_length=6, choices=CallStat.Span.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["span", "start"], name="call_stat_span_once")]


class CallStatMark(DayMark):
    """A past day whose calls changed after it was built."""


class CallStatCursor(models.Model):
    """One row (pk=1): how far the worker has built and checked."""

    # Every day up to this one has been built once (the worker builds the next when it ends).
    built_through = models.DateField(null=True)
    # Calls changed up to this moment (Call.updated_at) have been marked: the safety net for
    # writers that publish no event (a CDR import's bulk writes).
    checked_until = models.DateTimeField(null=True)
    checked_at = models.DateTimeField(null=True)


class CallHourStat(models.Model):
    """The load heat map's rollup: a span's inbound and missed calls by weekday and hour of day
    (company time zone) per department and line. Built in the same transaction as CallStat's
    department spans of the same day or month, so their CallStatSpan rows say whether it holds.
    No employee column: a person's heat map reads their calls live through the (employee,
    started_at) index, a year of one person being a few thousand calls."""

    # dayd and monthd: per department and line; month: per employee too, whole months only (a
    # person's heat map reads their days live, a month of one person being a thousand calls).
    span = models.CharField(max_length=6, choices=CallStat.Span.choices)
    start = models.DateField()
    weekday = models.PositiveSmallIntegerField()  # ISO: Monday 1
    hour = models.PositiveSmallIntegerField()
    employee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+", db_index=False)
    department = models.ForeignKey("people.Department", null=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    line = models.CharField(max_length=64, blank=True)
    inbound = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["span", "start"], name="call_hour_stat_span"),
                   models.Index(fields=["employee", "span", "start"], condition=models.Q(employee__isnull=False),
                                name="call_hour_stat_employee")]


class ChatStat(models.Model):
    """The chats report's rollup (okno.analytics.chats_rollup): the chats that started in one span
    (a past day, or a whole past month) with one operator on one channel, as the counts and the
    sums and counts behind each average. The department is not kept: a report reads it through the
    operator and the channel as the live report does, so moving a person re-counts nothing."""

    class Span(models.TextChoices):
        DAY = "day"  # per operator and channel
        MONTH = "month"
        TODAY = "dayp"  # today's settled chats (ChatStatSpan.through, .pending), rebuilt every minute
        # Per department and channel, the operator left out: a report by day, department or channel
        # with no person in the question reads 20-50 times fewer rows. The department is the one
        # of the build (the operator's, else the channel's); the span's fingerprint holds every
        # person's and channel's department, so a move makes these spans unread until rebuilt.
        DAY_DEPARTMENT = "dayd"
        MONTH_DEPARTMENT = "monthd"
        TODAY_DEPARTMENT = "daypd"
        # Per channel only (no operator, no department): a report by day or channel that asks
        # nothing of people or departments (an administrator's, unfiltered) reads 3 rows a day
        # instead of 61; no department kept, so a move changes nothing here.
        DAY_CHANNEL = "dayc"
        MONTH_CHANNEL = "monthc"
        TODAY_CHANNEL = "daypc"

    span = models.CharField(max_length=6, choices=Span.choices)
    start = models.DateField()
    # SET_NULL as on Conversation: deleting a person changes both alike.
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+", db_index=False)
    channel = models.ForeignKey("inbox.Channel", on_delete=models.CASCADE, related_name="+", db_index=False)
    # The department spans only (the others read it through the operator and the channel).
    department = models.ForeignKey("people.Department", null=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    chats = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    missed_offline = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    spam = models.PositiveIntegerField(default=0)
    # Milliseconds, whole (the report rounds each response to them): sums exact in any order.
    first_response_ms = models.BigIntegerField(default=0)
    first_responses = models.PositiveIntegerField(default=0)
    response_ms = models.BigIntegerField(default=0)
    responses = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["span", "start"], name="chat_stat_span"),
                   models.Index(fields=["operator", "span", "start"], condition=models.Q(operator__isnull=False),
                                name="chat_stat_operator")]


class ChatStatSpan(BuiltSpan):
    """A span of ChatStat that was built, with what (the fingerprint: the rollup's version and the
    time zone; the department spans' also every person's and channel's department)."""

    span = models.CharField(max_length=6, choices=ChatStat.Span.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["span", "start"], name="chat_stat_span_once")]


class ChatStatMark(DayMark):
    """A past day one of whose chats changed after it was built (a late message, rating or end)."""


class ChatStatCursor(models.Model):
    """One row (pk=1): every day up to `built_through` has been built once; the build's lock."""

    built_through = models.DateField(null=True)


class ProcessCounts(models.Model):
    """A (source, department, employee, pipeline) key and the process report's counts and sums of
    whole milliseconds (okno.analytics.process_report.COUNTS): a rollup row, or one row's facts."""

    source = models.CharField(max_length=200, blank=True)  # "" = none; a request's is its channel's name
    department = models.ForeignKey("people.Department", null=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    employee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    pipeline = models.ForeignKey("deals.Pipeline", null=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    deals = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    processing_ms = models.BigIntegerField(default=0)
    paused = models.PositiveIntegerField(default=0)
    pauses = models.PositiveIntegerField(default=0)
    pause_ms = models.BigIntegerField(default=0)
    lost_in_pause = models.PositiveIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)
    leads_converted = models.PositiveIntegerField(default=0)
    leads_late = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    unanswered = models.PositiveIntegerField(default=0)
    left_quickly = models.PositiveIntegerField(default=0)
    offline = models.PositiveIntegerField(default=0)
    spam = models.PositiveIntegerField(default=0)
    callbacks = models.PositiveIntegerField(default=0)
    callbacks_late = models.PositiveIntegerField(default=0)
    callback_ms = models.BigIntegerField(default=0)
    callbacks_closed = models.PositiveIntegerField(default=0)


    class Meta:
        abstract = True


class ProcessStat(ProcessCounts):
    """The process report's rollup (okno.analytics.process_rollup): the rows created on one past day
    (or in a whole past month) with one (source, department, employee, pipeline), as counts and
    sums of whole milliseconds. Deals, leads and callbacks are in it once settled (closed before
    the day was built, or older than a day then): the others are read live."""

    class Span(models.TextChoices):
        DAY = "day"
        MONTH = "month"
        TODAY = "dayp"  # today's settled rows, built again every minute
        # The same with the employee left out (written with them; their ProcessStatSpan says).
        DAY_DEPARTMENT = "dayd"
        MONTH_DEPARTMENT = "monthd"
        TODAY_DEPARTMENT = "daypd"
        # And with the source and pipeline left out: a question by employee or department about
        # people reads 5-20 times fewer rows.
        DAY_PEOPLE = "daye"
        MONTH_PEOPLE = "monthe"
        TODAY_PEOPLE = "daype"
        # A year to date: from 1 January to the end of `start`'s month (its months summed), with
        # its twins: a year's question reads one span, not eleven.
        YEAR = "ytd"
        YEAR_DEPARTMENT = "ytdd"
        YEAR_PEOPLE = "ytde"

    span = models.CharField(max_length=6, choices=Span.choices)
    start = models.DateField()
    class Meta:
        indexes = [models.Index(fields=["span", "start"], name="process_stat_span"),
                   models.Index(fields=["employee", "span", "start"], condition=models.Q(employee__isnull=False),
                                name="process_stat_employee")]


class ProcessStatSpan(BuiltSpan):
    """A span of ProcessStat that was built: `built_at` is the moment its deals, leads and callbacks
    were read as settled or not; `pending` (any span, unlike the other rollups') lists those it
    left out, read live by every report: JSON {"deals": [ids], "leads": [...], "callbacks": [...]}
    (okno.analytics.process_rollup)."""

    span = models.CharField(max_length=6, choices=ProcessStat.Span.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["span", "start"], name="process_stat_span_once")]


class ProcessStatMark(DayMark):
    """A past day one of whose rows changed after it was built (a request's message, a deal moved
    or edited)."""


class ProcessStatCursor(models.Model):
    """One row (pk=1): every day up to `built_through` has been built once; the build's lock."""

    built_through = models.DateField(null=True)


class ProcessStatRow(ProcessCounts):
    """What one deal or lead a span leaves out (ProcessStatSpan.pending) counts, as of its span's
    build or its last refresh: a report sums these instead of reading the rows, except those
    marked changed since (ProcessStatRowMark), which it reads live. Written with the span, refreshed
    by the worker (okno.analytics.process_rollup)."""

    span = models.CharField(max_length=6, choices=ProcessStat.Span.choices)
    start = models.DateField()
    part = models.CharField(max_length=10)  # "deals" or "leads"
    row_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["span", "start"], name="process_row_span"),
                   models.Index(fields=["part", "row_id"], name="process_row_of")]


class ProcessStatRowMark(models.Model):
    """A deal or lead whose facts (ProcessStatRow) may be stale: it changed, in the transaction that
    wrote this. Insert-only, as the day marks; the worker refreshes the facts and deletes the marks
    it read."""

    part = models.CharField(max_length=10)
    row_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["part", "row_id"], name="process_row_mark_of")]
