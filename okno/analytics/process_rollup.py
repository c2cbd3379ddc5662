"""Building the process report's rollup (okno.analytics.models_rollup.ProcessStat): each past day's
rows per (source, department, employee, pipeline), and each whole past month's summed from its
days; process_rollup_read.py reads them beside the live rest.

The report counts the rows created in the period as they stand now (a cohort), so a deal created
in March changes the March figures whenever it moves. How the rollup stays right
(docs/analytics.md, "The process report's rollup"):
- A day is built by the report's own computation (process_report.process_items, keyed by every
  grouping at once) at a moment T (the span's `built_at`), with the rows *settled* at T: deals
  and leads closed before T or created AGE before it, callbacks closed before T, requests that
  started SLACK before T. A day is built again once its rows are AGE old. A report reads the
  others live: the deals, leads and callbacks the span lists as left out (`pending`, by id) and
  the rows that came after T (`since`). A row that settles later (a deal won, a lead converted, a
  callback done) is still listed, so it stays live until its day is rebuilt: no event is needed.
- What changes a row a span may hold marks its day (ProcessStatMark), read live until rebuilt:
  `deal.stage_changed` and `deal.updated` of a deal closed before or older than AGE (a deal
  reopened or moved on; its responsible, department or source edited), `deal.created` (a deal
  recorded as already closed; a lead converted long after it was lost), `lead.converted`,
  `lead.lost` and the internal `lead.updated` (reassigned, a robots' deadline missed: a lead's
  lateness) of a lead older than AGE, and the inbox's internal `conversation.changed` (a
  request's late reply, end or spam mark).
- Today's settled rows are summed the same way every minute (span TODAY); a change to a row they
  may hold marks today (one query: only for a row created before they were built).
- A request's department is its operator's else its channel's and its source its channel's name;
  the pipelines' stage kinds decide processing and pauses; the settings decide what is unanswered:
  the fingerprint holds all of them, so a change makes every span unread until rebuilt.
"""

import hashlib
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone

from okno.analytics.models_rollup import (
    ProcessStat,
    ProcessStatCursor,
    ProcessStatMark,
    ProcessStatRow,
    ProcessStatRowMark,
    ProcessStatSpan,
)
from okno.analytics.periods import Period, ids_q
from okno.analytics.process_report import COUNTS, ProcessQuery, process_items
from okno.analytics.rollup import build_days, days_to_build, drain_days, local_day, lock, month_of, today
from okno.analytics.services import analytics_settings_get
from okno.core import events
from okno.deals.models import Deal, Lead, Stage
from okno.inbox.models import Channel, Conversation
from okno.people.models import User
from okno.work.models import WorkItem

# 2: open deals and leads older than AGE are held (settled) too. 3: the left-out deals and leads
# have facts (ProcessStatRow); a span of 2 has none. 4: year-to-date spans.
VERSION = 4
# The filters a built span's moment T splits the rows by, and each one's time field (what a day
# is by). A request settles SLACK after it started: its reply, end and last lines arrive by then
# in the normal course, and a change after that marks its day.
TIMES = {"deals": "created_at", "leads": "created_at", "callbacks": "created_at", "requests": "started_at",
         "form_spam": "received_at"}
SLACK = timedelta(minutes=10)
# A deal or a lead settles AGE after it was created even while open: most close within hours, the
# rest (long deliveries, the stale deals and leads every CRM has) would otherwise be read live by
# every report for ever. Their later moves and edits mark their day (every deal write publishes an
# event; a lead's close, reassignment and missed deadline do), so a day is built again once all
# its rows are that old (`ripe_at`).
AGE = timedelta(days=1)
RIPE_LOOKBACK = timedelta(days=30)
# Today's sums are built again this often by the worker.
EVERY = timedelta(seconds=60)


def process_fingerprint() -> str:
    """What the built figures depend on besides the rows: the settings and one statement per
    report (as four querysets, their compiling and round trips were 2-3 ms of every report)."""
    conf = analytics_settings_get()
    users, channel_table, stage_table = User._meta.db_table, Channel._meta.db_table, Stage._meta.db_table
    sql = (f"SELECT 0, id, department_id, NULL, CAST(NULL AS INTEGER) FROM {users} "
           f"UNION ALL SELECT 1, id, department_id, name, CAST(NULL AS INTEGER) FROM {channel_table} "
           f"UNION ALL SELECT 2, id, pipeline_id, kind, position FROM {stage_table}")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        found = cursor.fetchall()
    people = {pk: dep for tag, pk, dep, _t, _n in found if tag == 0}
    channels = {pk: dep for tag, pk, dep, _t, _n in found if tag == 1}
    names = sorted((pk, name) for tag, pk, _d, name, _n in found if tag == 1)
    stages = sorted((pk, pipeline, position, kind) for tag, pk, pipeline, kind, position in found if tag == 2)
    text = (f"process|{VERSION}|{settings.TIME_ZONE}|{conf.unanswered_min_stay_seconds}|"
            f"{conf.unanswered_counts_offline}|{sorted(people.items())}|{sorted(channels.items())}|{names}|{stages}")
    return hashlib.sha1(text.encode()).hexdigest()


def since(part: str, at: datetime) -> datetime:
    """From when on (by TIMES[part]) a part's rows are not in the span built at `at`: those that
    came after its build; requests SLACK before it."""
    return at - SLACK if part == "requests" else at


def settled(part: str, at: datetime) -> Q:
    """The rows the span built at `at` holds: those that can no longer change in the normal course
    (a change that still comes marks their day)."""
    if part in ("requests", "form_spam"):
        return Q(**{f"{TIMES[part]}__lt": since(part, at)})
    if part in ("deals", "leads"):
        return Q(closed_at__lt=at) | Q(created_at__lt=at - AGE)
    return Q(closed_at__lt=at)


# The parts whose rows left out of a span are listed by id in it (ProcessStatSpan.pending).
MODELS = {"deals": Deal, "leads": Lead, "callbacks": WorkItem}
COARSE = {ProcessStat.Span.DAY: ProcessStat.Span.DAY_DEPARTMENT,
          ProcessStat.Span.MONTH: ProcessStat.Span.MONTH_DEPARTMENT,
          ProcessStat.Span.TODAY: ProcessStat.Span.TODAY_DEPARTMENT,
          ProcessStat.Span.YEAR: ProcessStat.Span.YEAR_DEPARTMENT}
PEOPLE = {ProcessStat.Span.DAY: ProcessStat.Span.DAY_PEOPLE,
          ProcessStat.Span.MONTH: ProcessStat.Span.MONTH_PEOPLE,
          ProcessStat.Span.TODAY: ProcessStat.Span.TODAY_PEOPLE,
          ProcessStat.Span.YEAR: ProcessStat.Span.YEAR_PEOPLE}
# Each span's twins, each keeping some of the key (source, department, employee, pipeline).
TWINS = {span: ((COARSE[span], lambda s, d, e, p: (s, d, None, p)), (PEOPLE[span], lambda s, d, e, p: ("", d, e, None)))
         for span in COARSE}


def pending(at: datetime, lo: datetime, hi: datetime) -> dict[str, list[int]]:
    """The deals, leads and callbacks created in [lo, hi) that the span built at `at` leaves out:
    settled()'s complement, listed once at the build. A report reads them live by id in one
    query per part, however many days and build moments the period spans (looking them up per
    build moment through the closed_at indexes was a query per day and part)."""
    out = {}
    for part, model in MODELS.items():
        rows = model.objects.filter(created_at__gte=lo, created_at__lt=hi)
        if part == "callbacks":
            rows = rows.filter(kind=WorkItem.Kind.CALLBACK)
        else:  # deals and leads: the young ones still open (none on a day built ripe)
            rows = rows.filter(created_at__gte=at - AGE)
        out[part] = sorted(rows.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=at)).order_by()
                           .values_list("pk", flat=True))
    return out


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


def _mark_row(part: str, pk: int | None) -> None:
    """A young deal or lead changed: its facts (ProcessStatRow), if a span left it out, are stale
    until the worker computes them again; reports read it live meanwhile. No query first: most
    such rows have facts."""
    if pk is not None:
        ProcessStatRowMark.objects.create(part=part, row_id=pk)


def _held(event: events.Event) -> bool:
    """Whether a span may hold the deal: it was closed before this event, or it is older than AGE
    (a young open deal, and one closed just now, is read live anyway)."""
    if event.subject.created_at < timezone.now() - AGE:
        return True
    if event.name == "deal.stage_changed":
        return Stage.objects.filter(pk=event.data.get("from_stage_id"), kind__in=Stage.CLOSED).exists()
    return event.name == "deal.created" or event.subject.closed_at is not None


def on_changed(event: events.Event) -> None:
    """Marks the day of the deal or request the event is about when the rollup may hold it."""
    subject = event.subject
    if isinstance(subject, Conversation):
        _mark(subject.started_at)
        _mark_today(subject.started_at, slack=SLACK)
    elif isinstance(subject, Lead):
        # lead.converted and .lost close an open lead, held once old; lead.updated (reassigned, a
        # robots' deadline missed) may also be of a lead closed before its day was built.
        if subject.created_at < timezone.now() - AGE or (event.name == "lead.updated" and subject.closed_at):
            _mark(subject.created_at)
            _mark_today(subject.created_at)
        else:
            _mark_row("leads", subject.pk)
    elif isinstance(subject, Deal):
        if _held(event):
            _mark(subject.created_at)
            _mark_today(subject.created_at)
        else:
            _mark_row("deals", subject.pk)
        if event.name == "deal.created" and subject.lead_id:  # its lead (maybe lost long ago) now converted
            at = Lead.objects.filter(pk=subject.lead_id).values_list("created_at", flat=True).first()
            if at is not None and at >= timezone.now() - AGE:
                _mark_row("leads", subject.lead_id)
            else:
                _mark(at)
                _mark_today(at)


# --- building ---------------------------------------------------------------------------------

def _save(span: str, start: date, rows: dict[tuple, dict], fingerprint: str, now: datetime,
          left_out: dict | None = None, facts: list | None = None) -> None:
    """The span's rows and, in the same transaction, its twins (TWINS: without the employee, a
    report with no person in the question reads 20-50 times fewer rows; without the source and
    pipeline, one by employee or department 5-20 times fewer); one ProcessStatSpan says whether
    all hold."""
    found = [(span, rows)]
    for kind, key in TWINS[span]:
        twin: dict[tuple, dict] = {}
        for (source, department, employee, pipeline), counts in rows.items():
            acc = twin.setdefault(key(source, department, employee, pipeline), dict.fromkeys(COUNTS, 0))
            for name in COUNTS:
                acc[name] += counts[name]
        found.append((kind, twin))
    ProcessStat.objects.filter(span__in=[kind for kind, _rows in found], start=start).delete()
    ProcessStat.objects.bulk_create([
        ProcessStat(span=kind, start=start, source=source or "", department_id=department, employee_id=employee,
                    pipeline_id=pipeline, **counts)
        for kind, held in found
        for (source, department, employee, pipeline), counts in held.items()], batch_size=2000)
    ProcessStatRow.objects.filter(span=span, start=start).delete()
    ProcessStatRow.objects.bulk_create(facts or [], batch_size=2000)
    ProcessStatSpan.objects.update_or_create(span=span, start=start, defaults={
        "fingerprint": fingerprint, "built_at": now,
        "pending": json.dumps(left_out, separators=(",", ":")) if left_out and any(left_out.values()) else ""})


# The parts whose left-out rows have facts (ProcessStatRow), by the kind of their items' refs.
# Callbacks have none: whether an open one is late depends on the moment of the report.
FACTS = {"deal": "deals", "lead": "leads"}
REFRESH_BATCH = 5000


def _facts(span: str, day: date, ids: dict[str, list[int]], now: datetime) -> list[ProcessStatRow]:
    """The facts of the deals and leads `ids` created on `day`, as they stand now: the report's
    own computation, one item per row."""
    extra = {part: ids_q(MODELS[part], "id", found) if found else None for part, found in ids.items()}
    if all(q is None for q in extra.values()):
        return []
    period = Period(day, day)
    return [ProcessStatRow(span=span, start=day, part=FACTS[kind], row_id=pk, source=source or "",
                           department_id=department, employee_id=employee, pipeline_id=pipeline, **counts)
            for (kind, pk), _at, (source, department, employee, pipeline), counts in process_items(
                user=None, query=ProcessQuery(period, group_by="rollup"), period=period, now=now, parts=tuple(extra),
                extra=extra)]


def process_refresh_rows(*, now: datetime | None = None) -> int:
    """The worker's: the facts of the deals and leads marked changed computed again, and the marks
    read deleted, in one transaction (a change committed meanwhile leaves its mark for the next
    round). Returns the marks read."""
    now = now or timezone.now()
    with transaction.atomic():
        lock(ProcessStatCursor)
        marks = list(ProcessStatRowMark.objects.order_by("pk").values_list("pk", "part", "row_id")[:REFRESH_BATCH])
        if not marks:
            return 0
        marked: dict[str, set[int]] = {}
        for _pk, part, row_id in marks:
            marked.setdefault(part, set()).add(row_id)
        stale = ProcessStatRow.objects.filter(
            Q(*[Q(part=part, row_id__in=sorted(ids)) for part, ids in marked.items()], _connector=Q.OR))
        where: dict[tuple, dict[str, list[int]]] = {}
        for span, start, part, row_id in stale.values_list("span", "start", "part", "row_id"):
            where.setdefault((span, start), {p: [] for p in FACTS.values()})[part].append(row_id)
        stale.delete()
        ProcessStatRow.objects.bulk_create([fact for (span, start), ids in where.items()
                                            for fact in _facts(span, start, ids, now)], batch_size=2000)
        ProcessStatRowMark.objects.filter(pk__in=[pk for pk, _part, _row in marks]).delete()
    return len(marks)


def process_build_day(*, day: date, now: datetime | None = None, span: str = ProcessStat.Span.DAY) -> int:
    """(Re)builds one day at `now` (its T: a past day, or today's sums with span TODAY) and
    forgets its marks read before; a past day's month is summed again later. Returns the rows."""
    now = now or timezone.now()
    with transaction.atomic():
        lock(ProcessStatCursor)
        marks = list(ProcessStatMark.objects.filter(day=day).values_list("pk", flat=True))
        period = Period(day, day)
        # What it leaves out is listed first, and kept out of the sums: a row that closes between
        # the two reads then stays listed (read the other way round, it fell in neither).
        left_out = pending(now, *period.bounds())
        extra = {part: settled(part, now) for part in TIMES}
        for part, ids in left_out.items():
            if ids:
                extra[part] &= ~ids_q(MODELS[part], "id", ids)
        rows: dict[tuple, dict] = {}
        for _ref, _at, key, counts in process_items(
                user=None, query=ProcessQuery(period, group_by="rollup"), period=period, now=now, extra=extra):
            acc = rows.setdefault(key, dict.fromkeys(COUNTS, 0))
            for name, value in counts.items():
                acc[name] += value
        facts = _facts(span, day, {part: left_out[part] for part in FACTS.values()}, now)
        _save(span, day, rows, process_fingerprint(), now, left_out, facts)
        if span == ProcessStat.Span.TODAY:  # yesterday's sums
            for model in (ProcessStat, ProcessStatSpan, ProcessStatRow):
                model.objects.filter(span__in=(span, COARSE[span], PEOPLE[span])).exclude(start=day).delete()
        ProcessStatSpan.objects.filter(span=ProcessStat.Span.MONTH, start=month_of(day)[0]).delete()
        ProcessStatSpan.objects.filter(span=ProcessStat.Span.YEAR, start__gte=month_of(day)[0],
                                       start__year=day.year).delete()
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
        rows = _summed(ProcessStat.Span.DAY, first, last)
        _save(ProcessStat.Span.MONTH, first, rows, process_fingerprint(), now or timezone.now())
        _build_years(first, now or timezone.now())
    return True


def _summed(span: str, first: date, last: date) -> dict[tuple, dict]:
    """The rows of the `span` spans starting in [first, last], summed per full key: a month from
    its days, a year to date from its months."""
    keys = ("source", "department_id", "employee_id", "pipeline_id")
    return {tuple(r[k] for k in keys): {n: r[n] for n in COUNTS} for r in ProcessStat.objects.filter(
        span=span, start__gte=first, start__lte=last).values(*keys).annotate(
        **{n: Sum(n) for n in COUNTS}).order_by()}


def _build_years(first: date, now: datetime) -> None:
    """The year-to-date spans of `first`'s month and of the year's later months built, each the
    sum of its year's month spans up to it, while every one of those is built with the
    fingerprint in force (a day built again removed them: process_build_day)."""
    fingerprint = process_fingerprint()
    months = set(ProcessStatSpan.objects.filter(
        span=ProcessStat.Span.MONTH, start__year=first.year, fingerprint=fingerprint).values_list("start", flat=True))
    january = first.replace(month=1)
    if any(date(first.year, m, 1) not in months for m in range(1, first.month + 1)):
        return
    month = first
    while month in months:
        rows = _summed(ProcessStat.Span.MONTH, january, month)
        _save(ProcessStat.Span.YEAR, month, rows, fingerprint, now)
        if month.month == 12:
            break
        month = month.replace(month=month.month + 1)


def _first_day() -> date | None:
    firsts = [Deal.objects.aggregate(at=Min("created_at"))["at"], Lead.objects.aggregate(at=Min("created_at"))["at"],
              Conversation.objects.aggregate(at=Min("started_at"))["at"],
              WorkItem.objects.filter(kind=WorkItem.Kind.CALLBACK).aggregate(at=Min("created_at"))["at"]]
    found = [at for at in firsts if at is not None]
    # From its year's first day: the first month then gets a span of its own, not a day each,
    # and the first year its year-to-date spans.
    return local_day(min(found)).replace(month=1, day=1) if found else None


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


def ripe_at(day: date) -> datetime:
    """When every deal and lead created on `day` is older than AGE: a build from then holds the
    open ones."""
    after = day + timedelta(days=1)
    return datetime(after.year, after.month, after.day, tzinfo=ZoneInfo(settings.TIME_ZONE)) + AGE


def _ripe(now: datetime) -> list[date]:
    """The last weeks' days built before they were ripe and ripe now, newest first. An older one
    (the worker stopped for weeks) stays as built: still right, its open rows read live."""
    recent = ProcessStatSpan.objects.filter(span=ProcessStat.Span.DAY, start__gte=local_day(now) - RIPE_LOOKBACK)
    return [day for day, built_at in recent.order_by("-start").values_list("start", "built_at")
            if built_at < ripe_at(day) <= now]


def process_rollup_drain(*, now: datetime | None = None) -> int:
    """The worker's drain: the days that ended, marked days, days built with another fingerprint
    (newest first), then their months. Returns the days built."""
    now = now or timezone.now()
    fingerprint = process_fingerprint()

    def stale(limit: int) -> list[date]:
        other = list(ProcessStatSpan.objects.filter(span=ProcessStat.Span.DAY).exclude(fingerprint=fingerprint)
                     .order_by("-start").values_list("start", flat=True)[:limit])
        return other + [d for d in _ripe(now) if d not in other][:limit - len(other)]

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
    return len(todo) + process_refresh_rows(now=now)


def register() -> None:
    """From AnalyticsConfig.ready: the domains' events and the worker's drain."""
    from okno.core import worker

    for name in ("conversation.changed", "deal.created", "deal.stage_changed", "deal.updated", "lead.converted",
                 "lead.lost", "lead.updated"):
        events.subscribe(name, on_changed, key="analytics.process_rollup")
    worker.register_drain("analytics_process_rollup", process_rollup_drain, idle_sleep=10.0)

