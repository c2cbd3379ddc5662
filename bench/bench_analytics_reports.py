"""The chats and process reports over a large company's year, through their rollups: server time
p50/p95 of every report (this month, quarter and year; by each grouping; against the previous
period) for an administrator, a head and a manager, beside the live computation (the rollup
bypassed) in the same run.

Sizes: full is 1,000,000 chats a year on PostgreSQL (2,740 a day, with 2.8 messages each: a
500-operator chat team) and 200,000 on SQLite; small is 20,000. The chats are written by the
database itself (bench/chats_seed.py); a database that already holds the set is reused, and so is
its rollup unless BENCH_ANALYTICS_REBUILD=1. Today's chats are read live beside the rollup, as
the report does during the day.

The process report's year (bench/process_seed.py): 200,000 orders (deals, 3.4 stage changes
each), 300,000 leads and 100,000 callbacks on PostgreSQL, a fifth of that on SQLite, and the
chats above as its requests.
"""

import gc
import os
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench.bench_analytics import _client, _measure, _people, bypassed, commit_measured, periods
from bench.chats_seed import seed_chats
from okno.analytics.models_rollup import (
    ChatStat,
    ChatStatCursor,
    ChatStatMark,
    ChatStatSpan,
    ProcessStat,
    ProcessStatCursor,
    ProcessStatMark,
    ProcessStatSpan,
)
from okno.contacts.models import Contact
from okno.inbox.models import Channel, Conversation

SIZES = {"full": {"postgresql": 1_000_000, "sqlite": 200_000}, "small": {"postgresql": 20_000, "sqlite": 20_000}}
# Deals, leads and callbacks as a share of the chats.
PROCESS = {"deals": 0.2, "leads": 0.3, "callbacks": 0.1}
SAMPLES = {"full": 30, "small": 8}
TARGET_MS = 100
PAGE_MS = 300
TAG = "bench-reports"


def _channels(people: dict) -> list[int]:
    deps = [people["departments"][0], people["departments"][1], None]
    return [Channel.objects.get_or_create(kind="jivo", name=f"{TAG} jivo {i}", defaults={"department": dep})[0].pk
            for i, dep in enumerate(deps)]


def _seed(n: int, people: dict) -> bool:
    """The chats, unless the database holds exactly this set already; returns whether reused."""
    channels = _channels(people)
    chats = Conversation.objects.filter(kind=Conversation.Kind.CHAT)
    if chats.filter(channel_id__in=channels).count() == n and chats.count() == n:
        return True
    with connection.cursor() as cur:
        for model in (ChatStat, ChatStatSpan, ChatStatMark, ChatStatCursor):
            cur.execute(f"DELETE FROM {model._meta.db_table}")
        cur.execute("DELETE FROM inbox_message")
        cur.execute("DELETE FROM inbox_conversation")
    contact = Contact.objects.filter(first_name=TAG).first() or Contact.objects.create(first_name=TAG)
    began = time.monotonic()
    seed_chats(n=n, contact_id=contact.pk, channels=channels, employees=[u.pk for u in people["users"]],
               progress=lambda done: print(f"bench_analytics_reports: {done:,} chats, "
                                           f"{time.monotonic() - began:.0f} s", file=sys.stderr, flush=True))
    with connection.cursor() as cur:
        cur.execute("ANALYZE" if connection.vendor == "postgresql" else "ANALYZE inbox_message")
    return False


def _seed_process(n: int, people: dict) -> bool:
    """The process report's deals, leads and callbacks, unless held already; returns whether reused."""
    from bench.process_seed import seed_process
    from okno.deals.models import Deal, DealStageChange, Lead
    from okno.robots.models_runs import Deadline
    from okno.work.models import WorkItem

    sizes = {part: int(n * share) for part, share in PROCESS.items()}
    if (Deal.objects.count(), Lead.objects.count(), WorkItem.objects.count()) == (
            sizes["deals"], sizes["leads"], sizes["callbacks"]):
        return True
    with connection.cursor() as cur:
        for model in (ProcessStat, ProcessStatSpan, ProcessStatMark, ProcessStatCursor, Deadline, DealStageChange,
                      Deal, Lead, WorkItem):
            cur.execute(f"DELETE FROM {model._meta.db_table}")
    contact = Contact.objects.filter(first_name=TAG).first()
    began = time.monotonic()
    seed_process(**sizes, tag=TAG, contact_id=contact.pk,
                 employees=[(u.pk, u.department_id) for u in people["users"]],
                 progress=lambda part, done: print(f"bench_analytics_reports: {done:,} {part}, "
                                                   f"{time.monotonic() - began:.0f} s", file=sys.stderr, flush=True))
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return False


def _process_rollup(reused: bool) -> float | None:
    from okno.analytics.process_rollup import process_fingerprint, process_rebuild

    return _rebuilt(reused, ProcessStat, ProcessStatSpan, process_fingerprint(), process_rebuild)


def _process_today(moment: datetime) -> float:
    """Today's settled rows summed as the worker does every minute, at the moment the chats' today
    part is measured at (bench: _today_sums)."""
    from okno.analytics.process_rollup import process_build_day

    began = time.monotonic()
    process_build_day(day=moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date(), now=moment,
                      span=ProcessStat.Span.TODAY)
    seconds = round(time.monotonic() - began, 2)
    if connection.vendor == "postgresql":  # autovacuum's analyze of the rewritten facts (it is off here)
        with connection.cursor() as cur:
            cur.execute("ANALYZE analytics_processstatrow, analytics_processstatrowmark")
    return seconds


def _rollup(reused: bool) -> float | None:
    from okno.analytics.chats_rollup import chats_fingerprint, chats_rebuild

    return _rebuilt(reused, ChatStat, ChatStatSpan, chats_fingerprint(), chats_rebuild)


def _rebuilt(reused: bool, stat, spans, fingerprint: str, rebuild) -> float | None:
    """A rollup's rebuild timed, unless the reused set has it built already (BENCH_ANALYTICS_REBUILD=1:
    always); then VACUUM ANALYZE, as autovacuum would soon: the rows the rebuild replaced are dead,
    and the planner needs the new counts."""
    fresh = spans.objects.filter(span="day", fingerprint=fingerprint).count()
    if reused and fresh >= 364 and not os.environ.get("BENCH_ANALYTICS_REBUILD"):
        return None
    began = time.monotonic()
    rebuild()
    seconds = time.monotonic() - began
    if connection.vendor == "postgresql":  # autovacuum's work, done now (a rebuild leaves every old row dead)
        with connection.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {stat._meta.db_table}")
    return seconds


def _today_sums(midnight: datetime) -> tuple[float, int]:
    """Today's settled chats summed as the worker does every minute, as at the moment today's last
    seeded chat starts (whatever the clock says now): the report then reads live the chats of the
    last 10 minutes and those left out (not finished 10 minutes before), as during the day."""
    from django.db.models import Max, Q

    from okno.analytics.chats_rollup import chats_build_today

    last = Conversation.objects.filter(started_at__gte=midnight).aggregate(at=Max("started_at"))["at"]
    evening = last or midnight + timedelta(hours=20)
    began = time.monotonic()
    chats_build_today(now=evening)
    seconds = round(time.monotonic() - began, 2)
    span = ChatStatSpan.objects.get(span=ChatStat.Span.TODAY, start=midnight.date())
    pending = [int(pk) for pk in span.pending.split(",") if pk]
    live = Conversation.objects.filter(Q(started_at__gte=span.through) | Q(pk__in=pending),
                                       started_at__gte=midnight).count()
    return seconds, live


def _live(user, start, end, group_by: str):
    from okno.analytics import chats_rollup_read
    from okno.analytics.chats_report import ChatsQuery, Period, chats_report

    return bypassed(chats_rollup_read, "chats_rollup_accumulate", lambda: chats_report(user=user, query=ChatsQuery(
        Period(start, end), group_by=group_by, compare="previous")))


def _process_live(user, start, end, group_by: str):
    from okno.analytics import process_rollup_read
    from okno.analytics.process_report import Period, ProcessQuery, process_report

    return bypassed(process_rollup_read, "process_rollup_accumulate", lambda: process_report(
        user=user, query=ProcessQuery(Period(start, end), group_by=group_by, compare="previous")))


def _left_out(year: tuple) -> str:
    import json

    counts = dict.fromkeys(("deals", "leads", "callbacks"), 0)
    for text in ProcessStatSpan.objects.filter(span__in=("day", "dayp"), start__gte=year[0]).values_list(
            "pending", flat=True):
        for part, ids in (json.loads(text) if text else {}).items():
            counts[part] += len(ids)
    return ", ".join(f"{n:,}" for n in counts.values())


def _process_rows(samples: int, spans: dict, people: dict) -> list[dict]:
    from okno.deals.models import Deal

    admin, head, manager = _client(people["admin"]), _client(people["heads"][0]), _client(people["users"][0])
    api = "/api/v1/analytics/process"
    rows = [{"metric": "process: deals, leads, callbacks", "value": f"{Deal.objects.count():,}, "
             f"{people['leads']:,}, {people['callbacks']:,}", "target": "", "ok": None},
            {"metric": "process: deals still open", "value": Deal.objects.filter(closed_at=None).count(),
             "target": "", "ok": None},
            {"metric": "process: deals, leads, callbacks the year's spans leave out (deals and leads summed "
                       "from their facts, callbacks read live by id)",
             "value": _left_out(spans["year"]), "target": "", "ok": None}]
    for name, (start, end) in spans.items():
        for group_by in ("source", "department", "employee", "pipeline"):
            params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by, "compare": "previous"}
            rows += _measure(f"process API, {name} by {group_by} vs previous", samples,
                             lambda p=params: admin.get(api, p), TARGET_MS)
    quarter, year = spans["quarter"], spans["year"]
    rows += _measure("process API, a head, quarter by employee vs previous", samples, lambda: head.get(api, {
        "from": quarter[0].isoformat(), "to": quarter[1].isoformat(), "group_by": "employee", "compare": "previous"}),
        TARGET_MS)
    rows += _measure("process API, a manager, year by source vs previous", samples, lambda: manager.get(api, {
        "from": year[0].isoformat(), "to": year[1].isoformat(), "group_by": "source", "compare": "previous"}),
        TARGET_MS)
    rows += _measure("page /reports/process/, year by source vs previous", samples, lambda: admin.get(
        "/reports/process/", {"from": year[0].isoformat(), "to": year[1].isoformat(), "group_by": "source",
                              "compare": "previous"}), PAGE_MS)
    rows += _measure("process live computation (no rollup), month by source vs previous", 1,
                     _process_live(people["admin"], *spans["month"], "source"), None, warmup=0)
    return rows


def run(*, db: str, scale: str) -> list[dict]:
    n, samples = SIZES[scale][connection.vendor], SAMPLES[scale]
    if os.environ.get("BENCH_ANALYTICS_CHATS"):
        n = int(os.environ["BENCH_ANALYTICS_CHATS"])
    t0 = time.monotonic()
    people = _people()
    reused = _seed(n, people)
    seed_seconds = time.monotonic() - t0
    rebuild_seconds = _rollup(reused)
    process_reused = _seed_process(n, people)
    process_seconds = _process_rollup(process_reused)
    from okno.deals.models import Lead
    from okno.work.models import WorkItem

    people.update(leads=Lead.objects.count(), callbacks=WorkItem.objects.count())
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(timezone=tz)
    spans = periods(today)
    admin, head, manager = _client(people["admin"]), _client(people["heads"][0]), _client(people["users"][0])
    api = "/api/v1/analytics/chats"
    midnight = datetime(today.year, today.month, today.day, tzinfo=tz)
    rows = [
        {"metric": "commit", "value": commit_measured(), "target": "", "ok": None},
        {"metric": "chats", "value": Conversation.objects.count(), "target": f"{n:,}", "ok": None},
        {"metric": "seed seconds", "value": round(seed_seconds, 1), "target": "reused" if reused else "INSERT..SELECT",
         "ok": None},
        {"metric": "chats rollup rebuild seconds (all days and months)",
         "value": round(rebuild_seconds, 1) if rebuild_seconds is not None else "reused", "target": "", "ok": None},
        {"metric": "chats rollup rows", "value": ChatStat.objects.count(), "target": "", "ok": None},
        {"metric": "today's chats (read live)", "value": Conversation.objects.filter(started_at__gte=midnight).count(),
         "target": "", "ok": None},
    ]
    today_build, today_live = _today_sums(midnight)
    rows += [{"metric": "today's sums: build seconds (the worker, every minute)", "value": today_build, "target": "",
              "ok": None},
             {"metric": "today's chats read live beside the sums (the last 20 minutes)", "value": today_live,
              "target": "",
              "ok": None}]
    gc.collect()
    gc.freeze()
    for name, (start, end) in spans.items():
        for group_by in ("employee", "department", "channel", "day"):
            params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by, "compare": "previous"}
            rows += _measure(f"chats API, {name} by {group_by} vs previous", samples,
                             lambda p=params: admin.get(api, p), TARGET_MS)
    month, quarter, year = spans["month"], spans["quarter"], spans["year"]
    rows += _measure("chats API, a head, quarter by employee vs previous", samples, lambda: head.get(api, {
        "from": quarter[0].isoformat(), "to": quarter[1].isoformat(), "group_by": "employee", "compare": "previous"}),
        TARGET_MS)
    rows += _measure("chats API, a manager, year by day vs previous", samples, lambda: manager.get(api, {
        "from": year[0].isoformat(), "to": year[1].isoformat(), "group_by": "day", "compare": "previous"}), TARGET_MS)
    rows += _measure("page /reports/chats/, year by employee vs previous", samples, lambda: admin.get(
        "/reports/chats/", {"from": year[0].isoformat(), "to": year[1].isoformat(), "group_by": "employee",
                            "compare": "previous"}), PAGE_MS)
    rows += _measure("chats live computation (no rollup), month by employee vs previous", 3,
                     _live(people["admin"], *month, "employee"), None, warmup=1)
    rows += _measure("chats live computation (no rollup), year by department vs previous", 1,
                     _live(people["admin"], *year, "department"), None, warmup=0)
    span = ChatStatSpan.objects.get(span=ChatStat.Span.TODAY, start=today)
    rows.append({"metric": "process: today's sums build seconds (the worker, every minute)",
                 "value": _process_today(span.built_at), "target": "", "ok": None})
    rows.append({"metric": "process rollup rebuild seconds (all days and months)",
                 "value": round(process_seconds, 1) if process_seconds is not None else "reused", "target": "",
                 "ok": None})
    rows += _process_rows(samples, spans, people)
    gc.unfreeze()
    rows.append({"metric": "load average during run", "value": round(os.getloadavg()[0], 1), "target": "2 cores",
                 "ok": None})
    return rows
