"""bench_analytics_reports' year of orders, leads and callbacks for the process report (its
requests are the chats of bench/chats_seed.py). Bulk inserts of rows whose every value is a
function of the row number (the same set on both databases):

- deals: one pipeline (new, confirmed, paused, won, lost), created over 9:00-20:00 of the 365 days
  up to today; 60 % confirmed 5-15 minutes after and won the next day, 10 % paused for an hour on
  the way, 10 % paused and lost in pause, 10 % lost at once, 10 % confirmed and won two days
  later. Those of the last three days are still open where their path has not ended, and 1 % of
  the older ones were never closed (the stale deals every CRM has);
- leads: 40 % converted and 60 % lost two hours after they came, the last two days' and 1 %
  of the older ones still open; 10 % with a missed robots' deadline;
- callbacks: due 30 minutes after, closed 10-60 minutes after (late past 30), the last day's open.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from okno.deals.models import Deal, DealStageChange, Lead, Pipeline, Stage
from okno.robots.models import Robot
from okno.robots.models_runs import Deadline
from okno.work.models import WorkItem

BATCH = 5000
SOURCES = ["Сайт", "Маркетплейс", "Реклама", "Телефон", ""]


def _pipeline(tag: str) -> tuple[Pipeline, list[Stage]]:
    pipeline, made = Pipeline.objects.get_or_create(name=f"{tag} Заказы")
    if made:
        Stage.objects.bulk_create([Stage(pipeline=pipeline, name=name, kind=kind, position=i) for i, (name, kind) in
                                   enumerate([("Новый", "open"), ("Подтверждён", "open"), ("Пауза", "paused"),
                                              ("Выполнен", "won"), ("Отменён", "lost")])])
    return pipeline, list(pipeline.stages.order_by("position"))


def _moment(base: datetime, i: int, per_day: int) -> datetime:
    return base + timedelta(days=i // per_day, seconds=9 * 3600 + (i % per_day) * 11 * 3600 // per_day)


def _path(i: int) -> list[tuple[int, int]]:
    """(seconds after creation, stage position) of deal i's moves."""
    kind = i % 10
    if kind < 6:
        return [(300 + i % 600, 1), (86400, 3)]
    if kind == 6:
        return [(300 + i % 600, 1), (3600, 2), (7200, 1), (86400, 3)]
    if kind == 7:
        return [(600, 2), (86400, 4)]
    if kind == 8:
        return [(3600, 4)]
    return [(300 + i % 600, 1), (2 * 86400, 3)]


def seed_process(*, deals: int, leads: int, callbacks: int, tag: str, contact_id: int, employees: list[tuple[int, int]],
                 progress=None) -> None:
    """Deals, leads and callbacks of the year; `employees`: (user id, department id), 500 of them."""
    stamped = [Lead._meta.get_field("created_at"), WorkItem._meta.get_field("created_at")]
    for field in stamped:  # the rows carry their own creation times (auto_now_add would write now)
        field.auto_now_add = False
    try:
        _seed(deals, leads, callbacks, tag, contact_id, employees, progress)
    finally:
        for field in stamped:
            field.auto_now_add = True


def _seed(deals, leads, callbacks, tag, contact_id, employees, progress) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(timezone=tz)
    first = today - timedelta(days=364)
    base = datetime(first.year, first.month, first.day, tzinfo=tz)
    now = timezone.now()
    recent = datetime(today.year, today.month, today.day, tzinfo=tz) - timedelta(days=3)
    pipeline, stages = _pipeline(tag)
    per_day = -(-deals // 365)
    for lo in range(0, deals, BATCH):
        rows, changes = [], []
        for i in range(lo, min(deals, lo + BATCH)):
            at = _moment(base, i, per_day)
            user, dep = employees[(i * 104729) % len(employees)]
            moves = [(at + timedelta(seconds=s), p) for s, p in _path(i)]
            if at >= recent or i % 100 == 99:
                moves = [(t, p) for t, p in moves if t < now and stages[p].kind not in Stage.CLOSED]
            last = stages[moves[-1][1]] if moves else stages[0]
            closed = moves[-1][0] if moves and last.kind in Stage.CLOSED else None
            rows.append(Deal(pipeline=pipeline, stage=last, contact_id=contact_id, title=f"Заказ {i}",
                             responsible_id=user, department_id=dep, source=SOURCES[i % len(SOURCES)],
                             stage_entered_at=moves[-1][0] if moves else at, closed_at=closed, created_at=at,
                             updated_at=at))
            changes.append([(None, 0, at)] + [(prev, p, t) for (prev, (t, p)) in zip([0] + [p for _t, p in moves],
                                                                                   moves, strict=False)])
        with transaction.atomic():
            made = Deal.objects.bulk_create(rows)
            DealStageChange.objects.bulk_create([
                DealStageChange(deal=deal, from_stage=stages[f] if f is not None else None, to_stage=stages[p], at=t,
                                via="robot") for deal, path in zip(made, changes, strict=True) for f, p, t in path])
        if progress:
            progress("deals", min(deals, lo + BATCH))
    robot = Robot.objects.filter(for_leads=True, kind=Robot.Kind.DEADLINE).first() or Robot.objects.create(
        kind=Robot.Kind.DEADLINE, for_leads=True, within="PT15M")
    lead_recent = datetime(today.year, today.month, today.day, tzinfo=tz) - timedelta(days=2)
    per_day = -(-leads // 365)
    for lo in range(0, leads, BATCH):
        rows = []
        for i in range(lo, min(leads, lo + BATCH)):
            at = _moment(base, i, per_day)
            user, dep = employees[(i * 7919) % len(employees)]
            status = (Lead.Status.IN_WORK if (at >= lead_recent or i % 100 == 42) else
                      Lead.Status.CONVERTED if i % 10 < 4 else Lead.Status.LOST)
            closed = at + timedelta(hours=2) if status in (Lead.Status.CONVERTED, Lead.Status.LOST) else None
            rows.append(Lead(contact_id=contact_id, source=SOURCES[i % len(SOURCES)], status=status, assignee_id=user,
                             department_id=dep, created_at=at, updated_at=at, closed_at=closed))
        with transaction.atomic():
            made = Lead.objects.bulk_create(rows)
            Deadline.objects.bulk_create([
                Deadline(robot=robot, lead=lead, due_at=lead.created_at + timedelta(minutes=15),
                         run_after=lead.created_at + timedelta(minutes=15), status=Deadline.Status.MISSED,
                         closed_at=lead.created_at + timedelta(minutes=15), created_at=lead.created_at)
                for n, lead in enumerate(made) if (lo + n) % 10 == 3])
        if progress:
            progress("leads", min(leads, lo + BATCH))
    per_day = -(-callbacks // 365)
    last_day = datetime(today.year, today.month, today.day, tzinfo=tz)
    for lo in range(0, callbacks, BATCH):
        rows = []
        for i in range(lo, min(callbacks, lo + BATCH)):
            at = _moment(base, i, per_day)
            user, dep = employees[(i * 31) % len(employees)]
            closed = None if at >= last_day else at + timedelta(minutes=10 + (i * 13) % 50)
            rows.append(WorkItem(kind=WorkItem.Kind.CALLBACK, number=f"+7495{i % 1_000_000:07d}", assignee_id=user,
                                 department_id=dep, due_at=at + timedelta(minutes=30), created_at=at, closed_at=closed,
                                 status=WorkItem.Status.OPEN if closed is None else WorkItem.Status.DONE))
        WorkItem.objects.bulk_create(rows)
        if progress:
            progress("callbacks", min(callbacks, lo + BATCH))
