"""Building the process report's rollup (okno.analytics.models_rollup.ProcessStat): each past day's
rows per (source, department, employee, pipeline), and each whole past month's summed from its
days; process_rollup_read.py reads them beside the live rest.

The report counts the rows created in the period as they stand now (a cohort), so a deal created
in March changes the March figures whenever it moves. How the rollup stays right
(docs/analytics.md, "The process report's rollup"):
- A day is built by the report's own computation (process_report.process_items, keyed by every
  grouping at once) at a moment T (the span's `built_at`), with the rows *settled* at T: deals and
  callbacks closed before T, leads closed before T with no robots' deadline open or decided since
  (a deadline decides lateness when it falls due), requests that started SLACK before T. A report
  reads the others live: those not settled at the T of their day (`unsettled`, found through the
  closed_at indexes). A row that settles later (a deal won, a lead converted, a callback done) is
  still not settled at T, so it stays live until its day is rebuilt: no event is needed for it.
- What changes a row a span may hold marks its day (ProcessStatMark), read live until rebuilt:
  `deal.stage_changed` out of a closed stage (a deal reopened), `deal.updated` of a closed deal
  (its responsible, department or source edited), `deal.created` (a deal recorded as already
  closed; a lead converted long after it was lost), and the inbox's internal
  `conversation.changed` (a request's late reply, end or spam mark).
- Today's settled rows are summed the same way every minute (span TODAY); a change to a row they
  may hold marks today (one query: only for a row created before they were built).
- A request's department is its operator's else its channel's and its source its channel's name;
  the pipelines' stage kinds decide processing and pauses; the settings decide what is unanswered:
  the fingerprint holds all of them, so a change makes every span unread until rebuilt.
"""

import hashlib
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q, Sum
from django.utils import timezone

from okno.analytics.chats_rollup import departments_now
from okno.analytics.models_rollup import ProcessStat, ProcessStatCursor, ProcessStatMark, ProcessStatSpan
from okno.analytics.periods import Period
from okno.analytics.process_report import COUNTS, ProcessQuery, process_items
from okno.analytics.rollup import build_days, days_to_build, drain_days, local_day, lock, month_of, today
from okno.analytics.services import analytics_settings_get
from okno.core import events
from okno.deals.models import Deal, Lead, Stage
from okno.inbox.models import Channel, Conversation
from okno.robots.models_runs import Deadline
from okno.work.models import WorkItem

VERSION = 1
# The filters a built span's moment T splits the rows by, and each one's time field (what a day
# is by). A request settles SLACK after it started: its reply, end and last lines arrive by then
# in the normal course, and a change after that marks its day.
TIMES = {"deals": "created_at", "leads": "created_at", "callbacks": "created_at", "requests": "started_at",
         "form_spam": "received_at"}
SLACK = timedelta(minutes=10)
# Today's sums are built again this often by the worker.
EVERY = timedelta(seconds=60)


def process_fingerprint() -> str:
    """What the built figures depend on besides the rows: a few small queries per report."""
    conf = analytics_settings_get()
    people, channels = departments_now()
    names = sorted(Channel.objects.values_list("pk", "name"))
    stages = list(Stage.objects.order_by("pk").values_list("pk", "pipeline_id", "position", "kind"))
    text = (f"process|{VERSION}|{settings.TIME_ZONE}|{conf.unanswered_min_stay_seconds}|"
            f"{conf.unanswered_counts_offline}|{sorted(people.items())}|{sorted(channels.items())}|{names}|{stages}")
    return hashlib.sha1(text.encode()).hexdigest()


def settled(part: str, at: datetime) -> Q:
    """The rows the span built at `at` holds: those that can no longer change in the normal course
    (a change that still comes marks their day)."""
    if part == "requests":
        return Q(started_at__lt=at - SLACK)
    if part == "form_spam":
        return Q(received_at__lt=at)
    if part == "leads":
        undecided = Deadline.objects.filter(lead_id=OuterRef("pk")).filter(
            Q(status=Deadline.Status.OPEN) | Q(closed_at__gte=at))
        return Q(closed_at__lt=at) & ~Q(Exists(undecided))
    return Q(closed_at__lt=at)


MODELS = {"deals": Deal, "leads": Lead, "callbacks": WorkItem}
COARSE = {ProcessStat.Span.DAY: ProcessStat.Span.DAY_DEPARTMENT,
          ProcessStat.Span.MONTH: ProcessStat.Span.MONTH_DEPARTMENT,
          ProcessStat.Span.TODAY: ProcessStat.Span.TODAY_DEPARTMENT}


# The parts whose unsettled rows are found by id.
SETTLING = ("deals", "leads", "callbacks")


def unsettled(part: str, at: datetime, lo: datetime, hi: datetime) -> Q | set[int]:
    """The rows created in [lo, hi) the span built at `at` left out, read live: settled()'s
    complement. For deals, leads and callbacks their ids, found through the closed_at indexes
    (the open rows and those closed since: a sliver of the period) in a query or two, as a set;
    one filter with an OR and a subquery walked every lead of the year instead (0.4 s at
    300,000). For requests and form spam, a filter on their time."""
    if part == "requests":
        return Q(started_at__gte=at - SLACK)
    if part == "form_spam":
        return Q(received_at__gte=at)
    rows = MODELS[part].objects.filter(created_at__gte=lo, created_at__lt=hi)
    if part == "callbacks":
        rows = rows.filter(kind=WorkItem.Kind.CALLBACK)
    ids = set(rows.filter(closed_at__isnull=True).values_list("pk", flat=True))
    ids |= set(rows.filter(closed_at__gte=at).values_list("pk", flat=True))
    if part == "leads":
        ids |= set(Deadline.objects.filter(lead__created_at__gte=lo, lead__created_at__lt=hi).filter(
            Q(status=Deadline.Status.OPEN) | Q(closed_at__gte=at)).values_list("lead_id", flat=True))
    return ids


# --- marks ------------------------------------------------------------------------------------

def _mark(at: datetime | None) -> None:
    if at is not None and local_day(at) < today():
        ProcessStatMark.objects.create(day=local_day(at))


def _mark_today(at: datetime | None, *, slack: timedelta = timedelta(0)) -> None:
    """Marks today when today's sums may hold a row created at `at` (they hold rows created
    `slack` before they were built): no query for a row younger than that."""
    now = timezone.now()
    if at is None or local_day(at) != local_day(now) or at >= now - slack:
        return
    built = ProcessStatSpan.objects.filter(span=ProcessStat.Span.TODAY, start=local_day(now)).values_list(
        "built_at", flat=True).first()
    if built is not None and at < built - slack:
        ProcessStatMark.objects.create(day=local_day(now))


def _was_closed(event: events.Event) -> bool:
    """Whether the deal was closed before this event: only then may a span hold it (an open
    deal, and one closed just now, is read live anyway)."""
    if event.name == "deal.stage_changed":
        return Stage.objects.filter(pk=event.data.get("from_stage_id"), kind__in=Stage.CLOSED).exists()
    return event.name == "deal.created" or event.subject.closed_at is not None


def on_changed(event: events.Event) -> None:
    """Marks the day of the deal or request the event is about when the rollup may hold it."""
    subject = event.subject
    if isinstance(subject, Conversation):
        _mark(subject.started_at)
        _mark_today(subject.started_at, slack=SLACK)
    elif isinstance(subject, Deal):
        created = [subject.created_at] if _was_closed(event) else []
        if event.name == "deal.created" and subject.lead_id:  # its lead (maybe lost long ago) now converted
            created.append(Lead.objects.filter(pk=subject.lead_id).values_list("created_at", flat=True).first())
        for at in created:
            _mark(at)
            _mark_today(at)


# --- building ---------------------------------------------------------------------------------

def _save(span: str, start: date, rows: dict[tuple, dict], fingerprint: str, now: datetime) -> None:
    """The span's rows and, in the same transaction, its twin without the employee (COARSE: a
    report with no person in the question reads 20-50 times fewer rows); one ProcessStatSpan
    says whether both hold."""
    coarse: dict[tuple, dict] = {}
    for (source, department, _employee, pipeline), counts in rows.items():
        acc = coarse.setdefault((source, department, None, pipeline), dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            acc[name] += counts[name]
    ProcessStat.objects.filter(span__in=(span, COARSE[span]), start=start).delete()
    ProcessStat.objects.bulk_create([
        ProcessStat(span=kind, start=start, source=source or "", department_id=department, employee_id=employee,
                    pipeline_id=pipeline, **counts)
        for kind, found in ((span, rows), (COARSE[span], coarse))
        for (source, department, employee, pipeline), counts in found.items()], batch_size=2000)
    ProcessStatSpan.objects.update_or_create(span=span, start=start,
                                             defaults={"fingerprint": fingerprint, "built_at": now})


def process_build_day(*, day: date, now: datetime | None = None, span: str = ProcessStat.Span.DAY) -> int:
    """(Re)builds one day at `now` (its T: a past day, or today's sums with span TODAY) and
    forgets its marks read before; a past day's month is summed again later. Returns the rows."""
    now = now or timezone.now()
    with transaction.atomic():
        lock(ProcessStatCursor)
        marks = list(ProcessStatMark.objects.filter(day=day).values_list("pk", flat=True))
        period = Period(day, day)
        rows: dict[tuple, dict] = {}
        for _ref, _at, key, counts in process_items(
                user=None, query=ProcessQuery(period, group_by="rollup"), period=period, now=now,
                extra={part: settled(part, now) for part in TIMES}):
            acc = rows.setdefault(key, dict.fromkeys(COUNTS, 0))
            for name, value in counts.items():
                acc[name] += value
        _save(span, day, rows, process_fingerprint(), now)
        if span == ProcessStat.Span.TODAY:  # yesterday's sums
            for model in (ProcessStat, ProcessStatSpan):
                model.objects.filter(span__in=(span, COARSE[span])).exclude(start=day).delete()
        ProcessStatSpan.objects.filter(span=ProcessStat.Span.MONTH, start=month_of(day)[0]).delete()
        if marks:
            ProcessStatMark.objects.filter(pk__in=marks).delete()
    return len(rows)


def process_build_month(*, first: date, now: datetime | None = None) -> bool:
    """Sums a whole past month from its days once every day is built with the fingerprint in
    force and none is marked (a report still reads each day's unsettled rows by the day's T)."""
    first, last = month_of(first)
    if last >= today():
        return False
    with transaction.atomic():
        lock(ProcessStatCursor)
        built = ProcessStatSpan.objects.filter(span=ProcessStat.Span.DAY, start__gte=first, start__lte=last,
                                               fingerprint=process_fingerprint()).count()
        if (built != (last - first).days + 1
                or ProcessStatMark.objects.filter(day__gte=first, day__lte=last).exists()):
            return False
        keys = ("source", "department_id", "employee_id", "pipeline_id")
        rows = {tuple(r[k] for k in keys): {n: r[n] for n in COUNTS} for r in ProcessStat.objects.filter(
            span=ProcessStat.Span.DAY, start__gte=first, start__lte=last).values(*keys).annotate(
            **{n: Sum(n) for n in COUNTS}).order_by()}
        _save(ProcessStat.Span.MONTH, first, rows, process_fingerprint(), now or timezone.now())
    return True


def _first_day() -> date | None:
    firsts = [Deal.objects.aggregate(at=Min("created_at"))["at"], Lead.objects.aggregate(at=Min("created_at"))["at"],
              Conversation.objects.aggregate(at=Min("started_at"))["at"],
              WorkItem.objects.filter(kind=WorkItem.Kind.CALLBACK).aggregate(at=Min("created_at"))["at"]]
    found = [at for at in firsts if at is not None]
    return local_day(min(found)) if found else None


def process_rebuild(*, start: date | None = None, end: date | None = None) -> dict:
    """Builds every past day of [start, end] (default: the first row's day to yesterday) and their
    whole months, all at one T; `manage.py analytics_rollup --rebuild`. Returns counts."""
    start = start or _first_day()
    if start is None:
        return {"days": 0, "months": 0, "rows": 0}
    now = timezone.now()
    return build_days(start=start, end=end, cursor_model=ProcessStatCursor,
                      build_day=lambda day: process_build_day(day=day, now=now),
                      build_month=lambda first: process_build_month(first=first, now=now))


def process_rollup_drain(*, now: datetime | None = None) -> int:
    """The worker's drain: the days that ended, marked days, days built with another fingerprint
    (newest first), then their months. Returns the days built."""
    now = now or timezone.now()
    fingerprint = process_fingerprint()

    def stale(limit: int) -> list[date]:
        return list(ProcessStatSpan.objects.filter(span=ProcessStat.Span.DAY).exclude(fingerprint=fingerprint)
                    .order_by("-start").values_list("start", flat=True)[:limit])

    todo, through = days_to_build(now=now, cursor_model=ProcessStatCursor, mark_model=ProcessStatMark,
                                  first_day=_first_day, stale=stale)
    drain_days(todo=todo, through=through, cursor_model=ProcessStatCursor,
               build_day=lambda day: process_build_day(day=day, now=now),
               build_month=lambda first: process_build_month(first=first, now=now))
    day = local_day(now)
    built = ProcessStatSpan.objects.filter(span=ProcessStat.Span.TODAY, start=day).values_list(
        "built_at", "fingerprint").first()
    if (built is None or now - built[0] >= EVERY or built[1] != fingerprint
            or ProcessStatMark.objects.filter(day=day).exists()):  # not counted as work, as for chats
        process_build_day(day=day, now=now, span=ProcessStat.Span.TODAY)
    return len(todo)


def register() -> None:
    """From AnalyticsConfig.ready: the domains' events and the worker's drain."""
    from okno.core import worker

    for name in ("conversation.changed", "deal.created", "deal.stage_changed", "deal.updated"):
        events.subscribe(name, on_changed, key="analytics.process_rollup")
    worker.register_drain("analytics_process_rollup", process_rollup_drain, idle_sleep=10.0)

