"""The calls report over a year of calls: server time p50/p95 beside a raw GROUP BY in the same run.

N calls (full: 10,000,000 on PostgreSQL and 1,000,000 on SQLite, as issue 16 asks; small: 20,000)
of 500 employees in 20 departments over the year up to today, in the company's working hours,
inbound 70 % (of which 15 % missed), with a few hundred thousand customer numbers so that missed
calls are called back. Seeded with bulk inserts under a channel of this benchmark's own; a
database that already holds the set is reused.

Timed through Django's test client (routing, session, the report's queries, JSON or the page's
template), for an administrator:
- the API, this month by employee against the previous month;
- the API, the whole year by department against the previous year;
- the API, this month by day;
- the page (table, charts' data, a by-day query for the line chart), this month by employee;
and for a head of one department, this month by employee. Beside them, in the same run, the raw
GROUP BY the report is built on: calls and talk time per employee over the same month and year,
one SQL statement through a cursor, no Django. The commit measured is recorded as a row.

The report is computed live (no rollup): its time grows with the calls in the period, and the
issue's target (p95 < 100 ms at 10M calls) is not met by a year's report without a rollup
(docs/analytics.md says how one would come). The figures say by how much.
"""

import gc
import os
import random
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from okno.inbox.models import Channel
from okno.people.models import Department, User
from okno.telephony.models import Call

SIZES = {"full": {"postgresql": 10_000_000, "sqlite": 1_000_000}, "small": {"postgresql": 20_000, "sqlite": 20_000}}
SAMPLES = {"full": 50, "small": 10}
WARMUP = 3
TARGET_MS = 100
PAGE_TARGET_MS = 300
EMPLOYEES, DEPARTMENTS = 500, 20
TAG = "bench-analytics"
ROOT = Path(__file__).resolve().parent.parent
BATCH = 10_000


def commit_measured() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bench", "okno/analytics")
    return head + ("+dirty" if dirty else "")


def _people() -> dict:
    deps = [Department.objects.get_or_create(name=f"{TAG} {i}")[0] for i in range(DEPARTMENTS)]
    users = list(User.objects.filter(username__startswith=f"{TAG}-m").order_by("pk"))
    if len(users) < EMPLOYEES:
        User.objects.bulk_create([User(username=f"{TAG}-m{i}", first_name="Менеджер", last_name=str(i),
                                       role=User.Role.MANAGER, department=deps[i % DEPARTMENTS])
                                  for i in range(len(users), EMPLOYEES)])
        users = list(User.objects.filter(username__startswith=f"{TAG}-m").order_by("pk"))
    admin, _ = User.objects.get_or_create(username=f"{TAG}-admin", defaults={"role": User.Role.ADMIN})
    head, _ = User.objects.get_or_create(username=f"{TAG}-head",
                                         defaults={"role": User.Role.HEAD, "department": deps[0]})
    return {"departments": deps, "users": users, "admin": admin, "head": head}


def _seed(n: int, people: dict) -> bool:
    channel, _ = Channel.objects.get_or_create(kind="mango", name=TAG)
    have = Call.objects.filter(channel=channel).count()
    if have >= n:
        return True
    rnd = random.Random(16)
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    first = today - timedelta(days=364)
    users = people["users"]
    batch = []
    for i in range(have, n):
        day = first + timedelta(days=rnd.randrange(365))
        at = datetime(day.year, day.month, day.day, rnd.randrange(9, 20), rnd.randrange(60), rnd.randrange(60),
                      tzinfo=tz)
        employee = rnd.choice(users)
        direction = "in" if rnd.random() < 0.7 else "out"
        answered = rnd.random() >= (0.15 if direction == "in" else 0.3)
        wait = rnd.randrange(0, 60)
        talk = rnd.randrange(0, 600) if answered else 0
        answered_at = at + timedelta(seconds=wait) if answered else None
        batch.append(Call(
            channel=channel, pbx_call_id=f"{TAG}-{i}", direction=direction,
            outcome="answered" if answered else "missed", customer_number=f"+7495{rnd.randrange(300_000):07d}",
            line=f"+7495111000{rnd.randrange(5)}", employee_id=employee.pk, department_id=employee.department_id,
            started_at=at, answered_at=answered_at,
            ended_at=(answered_at + timedelta(seconds=talk)) if answered else at + timedelta(seconds=wait),
            wait_seconds=wait, talk_seconds=talk))
        if len(batch) >= BATCH:
            Call.objects.bulk_create(batch)
            batch = []
    if batch:
        Call.objects.bulk_create(batch)
    return False


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)


def _time(samples: int, request) -> list[float]:
    out = []
    for i in range(samples + WARMUP):
        started = time.perf_counter()
        response = request()
        elapsed = time.perf_counter() - started
        if getattr(response, "status_code", 200) != 200:
            raise RuntimeError(f"reply {response.status_code}: {response.content[:300]!r}")
        if i >= WARMUP:
            out.append(elapsed)
    return out


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _raw_group_by(start: datetime, end: datetime):
    def run():
        with connection.cursor() as cur:
            cur.execute("SELECT employee_id, COUNT(*), SUM(talk_seconds) FROM telephony_call "
                        "WHERE started_at >= %s AND started_at < %s GROUP BY employee_id", [start, end])
            cur.fetchall()
    return run


def run(*, db: str, scale: str) -> list[dict]:
    vendor = connection.vendor
    n, samples = SIZES[scale][vendor], SAMPLES[scale]
    t0 = time.monotonic()
    people = _people()
    reused = _seed(n, people)
    seed_seconds = time.monotonic() - t0
    if vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE telephony_call")
    today = timezone.localdate()
    month = {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}
    year = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    tz = ZoneInfo(settings.TIME_ZONE)

    def bounds(p):
        start = datetime.fromisoformat(p["from"]).replace(tzinfo=tz)
        return start, datetime.fromisoformat(p["to"]).replace(tzinfo=tz) + timedelta(days=1)

    admin, head = _client(people["admin"]), _client(people["head"])
    api = "/api/v1/analytics/calls"
    gc.collect()
    gc.freeze()
    rows = [
        {"metric": "commit", "value": commit_measured(), "target": "", "ok": None},
        {"metric": "calls", "value": Call.objects.count(), "target": f"{n:,}", "ok": None},
        {"metric": "seed seconds", "value": round(seed_seconds, 1), "target": "reused" if reused else "bulk",
         "ok": None},
    ]
    cases = [
        ("API, month by employee vs previous", lambda: admin.get(api, {**month, "group_by": "employee",
                                                                        "compare": "previous"}), TARGET_MS),
        ("API, year by department vs previous", lambda: admin.get(api, {**year, "group_by": "department",
                                                                         "compare": "previous"}), TARGET_MS),
        ("API, month by day", lambda: admin.get(api, {**month, "group_by": "day"}), TARGET_MS),
        ("API, head, month by employee", lambda: head.get(api, {**month, "group_by": "employee"}), TARGET_MS),
        ("page, month by employee vs previous", lambda: admin.get("/reports/calls/", {**month, "compare": "previous"}),
         PAGE_TARGET_MS),
        ("raw GROUP BY employee, month", _raw_group_by(*bounds(month)), None),
        ("raw GROUP BY employee, year", _raw_group_by(*bounds(year)), None),
    ]
    for label, request, target in cases:
        times = _time(samples, request)
        p95 = pct(times, 0.95)
        rows.append({"metric": f"{label} p50 ms", "value": pct(times, 0.5), "target": "", "ok": None})
        rows.append({"metric": f"{label} p95 ms", "value": p95, "target": f"< {target}" if target else "",
                     "ok": (p95 < target) if target else None})
    gc.unfreeze()
    rows.append({"metric": "load average during run", "value": round(os.getloadavg()[0], 1), "target": "2 cores",
                 "ok": None})
    return rows
