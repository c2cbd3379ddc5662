"""The calls report over a year of calls, through the rollup: server time p50/p95 of every report
(this month, quarter and year; by employee, department, line and day; against the previous
period) beside the raw GROUP BY over the calls and the live computation, in the same run; then
50 heads refreshing reports while webhooks are ingested, beside each alone.

Sizes (issue 16): full is 10,000,000 calls on PostgreSQL and 1,000,000 on SQLite, 500 employees,
a year up to today; small is 50,000 (`python -m bench bench_analytics --scale small`). The calls
are written by the database itself (bench/analytics_seed.py, minutes for 10M); a database that
already holds the set is reused, and so is its rollup unless BENCH_ANALYTICS_REBUILD=1.

1. Seed, then `rollup_rebuild` timed (what `manage.py analytics_rollup --rebuild` does after an
   upgrade, and what the worker does after a threshold change).
2. Reports through Django's test client (routing, session, scope, the rollup's reads, today live,
   JSON), for an administrator, a head and a manager; beside them the raw GROUP BY (calls and
   talk per employee, one SQL statement, no Django) over the same month, quarter and year, and
   the live computation (rollup bypassed) of two of them.
3. Load (bench/analytics_load.py): granian + a worker as bench_ingest runs them; webhook ingest
   alone, 50 heads' report refreshes alone, then both at once.
The commit measured is recorded as a row; results in bench/results/bench_analytics.json.
"""

import gc
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.analytics_seed import seed_calls
from okno.analytics.models_rollup import CallStat, CallStatCursor, CallStatMark, CallStatSpan
from okno.inbox.models import Channel
from okno.people.models import Department, User
from okno.telephony.models import Call

SIZES = {"full": {"postgresql": 10_000_000, "sqlite": 1_000_000}, "small": {"postgresql": 50_000, "sqlite": 50_000}}
SAMPLES = {"full": 30, "small": 8}
LIVE_SAMPLES = {"full": 3, "small": 3}
WARMUP = 2
TARGET_MS = 100
PAGE_MS = 300  # the brief's bound on a page's server time
EMPLOYEES, DEPARTMENTS, HEADS = 500, 20, 50
TAG = "bench-analytics"
CHANNEL = f"{TAG} sql"  # the calls of analytics_seed (an earlier ORM-seeded set is replaced)
ROOT = Path(__file__).resolve().parent.parent


def commit_measured() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bench/bench_analytics.py",
                "bench/analytics_seed.py", "bench/analytics_load.py", "okno/analytics")
    return head + ("+dirty" if dirty else "")


def _people() -> dict:
    deps = [Department.objects.get_or_create(name=f"{TAG} {i}")[0] for i in range(DEPARTMENTS)]
    users = list(User.objects.filter(username__startswith=f"{TAG}-m").order_by("pk"))
    if len(users) < EMPLOYEES:
        User.objects.bulk_create([User(username=f"{TAG}-m{i}", first_name="Менеджер", last_name=str(i),
                                       role=User.Role.MANAGER, department=deps[i % DEPARTMENTS])
                                  for i in range(len(users), EMPLOYEES)])
        users = list(User.objects.filter(username__startswith=f"{TAG}-m").order_by("pk"))
    heads = list(User.objects.filter(username__startswith=f"{TAG}-h").order_by("pk"))
    if len(heads) < HEADS:
        User.objects.bulk_create([User(username=f"{TAG}-h{i}", first_name="Руководитель", last_name=str(i),
                                       role=User.Role.HEAD, department=deps[i % DEPARTMENTS])
                                  for i in range(len(heads), HEADS)])
        heads = list(User.objects.filter(username__startswith=f"{TAG}-h").order_by("pk"))
    admin, _ = User.objects.get_or_create(username=f"{TAG}-admin", defaults={"role": User.Role.ADMIN})
    return {"departments": deps, "users": users, "admin": admin, "heads": heads}


def _seed(n: int, people: dict) -> bool:
    """The calls, unless the database holds exactly this set already; returns whether reused."""
    channel, _ = Channel.objects.get_or_create(kind="mango", name=CHANNEL)
    if Call.objects.filter(channel=channel).count() == n and Call.objects.count() == n:
        return True
    with connection.cursor() as cur:
        # The benchmark's own database: nothing but its calls and their rollup lives here.
        for model in (CallStat, CallStatSpan, CallStatMark, CallStatCursor):
            cur.execute(f"DELETE FROM {model._meta.db_table}")
        if connection.vendor == "postgresql":
            cur.execute("TRUNCATE telephony_call CASCADE")
        else:
            cur.execute("DELETE FROM telephony_callleg")
            cur.execute("DELETE FROM telephony_call")
    lines = {d.pk: f"+749511100{i:02d}" for i, d in enumerate(people["departments"])}
    employees = [(u.pk, u.department_id, lines[u.department_id]) for u in people["users"]]
    began = time.monotonic()
    seed_calls(n=n, channel_id=channel.pk, employees=employees, progress=lambda done: print(
        f"bench_analytics: {done:,} calls, {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True))
    with connection.cursor() as cur:
        cur.execute("ANALYZE" if connection.vendor == "postgresql" else "ANALYZE telephony_call")
    return False


def _rollup(reused: bool) -> tuple[float | None, int]:
    from okno.analytics.rollup import Settings, rollup_rebuild

    fresh = CallStatSpan.objects.filter(span=CallStat.Span.DAY, fingerprint=Settings().fingerprint).count()
    if reused and fresh >= 364 and not os.environ.get("BENCH_ANALYTICS_REBUILD"):
        return None, CallStat.objects.count()
    began = time.monotonic()
    rollup_rebuild()
    seconds = time.monotonic() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE analytics_callstat")
    return seconds, CallStat.objects.count()


def _today_sums(today: date) -> tuple[float, int]:
    """Today's settled calls summed as the worker does every minute (okno.analytics.rollup_today),
    as at 20:00, when the seeded working day (9:00-20:00, whatever the clock says now) ends: the
    report then reads live the calls of the last callback window + 10 minutes (the ones a call
    back or a late fact may still change), as it would during the day."""
    from django.db.models import Q

    from okno.analytics.models_rollup import CallStat as Stat
    from okno.analytics.rollup_today import rollup_build_today

    evening = datetime(today.year, today.month, today.day, 20, tzinfo=ZoneInfo(settings.TIME_ZONE))
    began = time.monotonic()
    rollup_build_today(now=evening)
    seconds = round(time.monotonic() - began, 2)
    span = CallStatSpan.objects.get(span=Stat.Span.TODAY, start=today)
    pending = [int(pk) for pk in span.pending.split(",") if pk]
    lo = datetime(today.year, today.month, today.day, tzinfo=ZoneInfo(settings.TIME_ZONE))
    live = Call.objects.filter(Q(started_at__gte=span.through) | Q(pk__in=pending), started_at__gte=lo).count()
    return seconds, live


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)


def _time(samples: int, request, warmup: int = WARMUP) -> list[float]:
    out = []
    for i in range(samples + warmup):
        started = time.perf_counter()
        response = request()
        elapsed = time.perf_counter() - started
        if getattr(response, "status_code", 200) != 200:
            raise RuntimeError(f"reply {response.status_code}: {response.content[:300]!r}")
        if i >= warmup:
            out.append(elapsed)
    return out


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def periods(today: date) -> dict[str, tuple[date, date]]:
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return {"month": (today.replace(day=1), today), "quarter": (quarter, today),
            "year": (today.replace(month=1, day=1), today)}


def _raw_group_by(start: date, end: date):
    tz = ZoneInfo(settings.TIME_ZONE)
    lo = datetime(start.year, start.month, start.day, tzinfo=tz)
    hi = datetime(end.year, end.month, end.day, tzinfo=tz) + timedelta(days=1)

    def run():
        with connection.cursor() as cur:
            cur.execute("SELECT employee_id, COUNT(*), SUM(talk_seconds) FROM telephony_call "
                        "WHERE started_at >= %s AND started_at < %s GROUP BY employee_id", [lo, hi])
            cur.fetchall()
    return run


def bypassed(module, name: str, report):
    """A run of `report()` with `module.name` (a rollup's reader) answering None: the report
    computed live, the rollup bypassed (in process: the API has no such switch)."""
    def run():
        real = getattr(module, name)
        setattr(module, name, lambda **kw: None)
        try:
            report()
        finally:
            setattr(module, name, real)
    return run


def _live(user: User, start: date, end: date, group_by: str):
    from okno.analytics import rollup_read
    from okno.analytics.calls_report import CallsQuery, Period, calls_report

    return bypassed(rollup_read, "rollup_accumulate", lambda: calls_report(user=user, query=CallsQuery(
        Period(start, end), group_by=group_by, compare="previous")))


def _measure(label: str, samples: int, request, target: int | None, warmup: int = WARMUP) -> list[dict]:
    times = _time(samples, request, warmup)
    p95 = pct(times, 0.95)
    return [{"metric": f"{label} p50 ms", "value": pct(times, 0.5), "target": "", "ok": None},
            {"metric": f"{label} p95 ms", "value": p95, "target": f"< {target}" if target else "",
             "ok": (p95 < target) if target else None}]


def run(*, db: str, scale: str) -> list[dict]:
    vendor = connection.vendor
    n, samples = SIZES[scale][vendor], SAMPLES[scale]
    if os.environ.get("BENCH_ANALYTICS_CALLS"):  # a size between small and full (profiling, a short window)
        n = int(os.environ["BENCH_ANALYTICS_CALLS"])
    t0 = time.monotonic()
    people = _people()
    reused = _seed(n, people)
    seed_seconds = time.monotonic() - t0
    rebuild_seconds, stat_rows = _rollup(reused)
    today = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))
    today_build, today_live = _today_sums(today)
    spans = periods(today)
    admin, head = _client(people["admin"]), _client(people["heads"][0])
    manager = _client(people["users"][0])
    api = "/api/v1/analytics/calls"
    rows = [
        {"metric": "commit", "value": commit_measured(), "target": "", "ok": None},
        {"metric": "calls", "value": Call.objects.count(), "target": f"{n:,}", "ok": None},
        {"metric": "seed seconds", "value": round(seed_seconds, 1), "target": "reused" if reused else "INSERT..SELECT",
         "ok": None},
        {"metric": "rollup rebuild seconds (all days and months)",
         "value": round(rebuild_seconds, 1) if rebuild_seconds is not None else "reused", "target": "", "ok": None},
        {"metric": "rollup rows", "value": stat_rows, "target": "", "ok": None},
        {"metric": "today's calls (read live)", "value": Call.objects.filter(
            started_at__gte=datetime(today.year, today.month, today.day, tzinfo=ZoneInfo(settings.TIME_ZONE))).count(),
         "target": "", "ok": None},
    ]
    rows += [{"metric": "today's sums: build seconds (the worker, every minute)", "value": today_build, "target": "",
              "ok": None},
             {"metric": "today's calls read live beside the sums (the last 40 minutes of the day)", "value": today_live,
              "target": "", "ok": None}]
    gc.collect()
    gc.freeze()
    for name, (start, end) in spans.items():
        for group_by in ("employee", "department", "line", "day"):
            params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by, "compare": "previous"}
            rows += _measure(f"API, {name} by {group_by} vs previous", samples,
                             lambda p=params: admin.get(api, p), TARGET_MS)
        rows += _measure(f"raw GROUP BY employee, {name}", samples, _raw_group_by(start, end), None)
    month, quarter, year = spans["month"], spans["quarter"], spans["year"]
    rows += _measure("API, a head, quarter by employee vs previous", samples, lambda: head.get(api, {
        "from": quarter[0].isoformat(), "to": quarter[1].isoformat(), "group_by": "employee", "compare": "previous"}),
        TARGET_MS)
    rows += _measure("API, a manager, year by day vs previous", samples, lambda: manager.get(api, {
        "from": year[0].isoformat(), "to": year[1].isoformat(), "group_by": "day", "compare": "previous"}), TARGET_MS)
    heat = "/api/v1/analytics/calls/heatmap"
    rows += _measure("API, heat map, year", samples, lambda: admin.get(heat, {
        "from": year[0].isoformat(), "to": year[1].isoformat()}), TARGET_MS)
    rows += _measure("API, a head, heat map, quarter", samples, lambda: head.get(heat, {
        "from": quarter[0].isoformat(), "to": quarter[1].isoformat()}), TARGET_MS)
    rows += _measure("API, a manager, heat map, year", samples, lambda: manager.get(heat, {
        "from": year[0].isoformat(), "to": year[1].isoformat()}), TARGET_MS)
    # The page: the table, both charts' series by day and the heat maps, in one server answer.
    rows += _measure("page /reports/calls/, year by employee vs previous", samples, lambda: admin.get(
        "/reports/calls/", {"from": year[0].isoformat(), "to": year[1].isoformat(), "group_by": "employee",
                            "compare": "previous"}), PAGE_MS)
    rows += _measure("live computation (no rollup), month by employee vs previous", LIVE_SAMPLES[scale],
                     _live(people["admin"], *month, "employee"), None, warmup=1)
    rows += _measure("live computation (no rollup), year by department vs previous", LIVE_SAMPLES[scale],
                     _live(people["admin"], *year, "department"), None, warmup=0)  # 30 s each
    gc.unfreeze()
    if not os.environ.get("BENCH_ANALYTICS_NO_LOAD"):
        from bench.analytics_load import heads_under_ingest

        rows += heads_under_ingest(scale=scale, heads=people["heads"], spans=spans)
    rows.append({"metric": "load average during run", "value": round(os.getloadavg()[0], 1), "target": "2 cores",
                 "ok": None})
    return rows
