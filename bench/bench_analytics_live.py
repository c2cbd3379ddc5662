"""Live reports' freshness (issue 16): with 50 calls a second ending, how long from a call's end to
(a) its push reaching a subscribed client and (b) the call being in the report that client
re-fetches; beside it the raw baseline, how long until a plain COUNT over the calls sees it.

Calls are started beforehand (start and ring facts); the timed phase sends only their end
facts ("answered", as a PBX reporting the end says) through telephony's own `call_fact_record`
(call.finished, the live subscriber, the push after the commit), at RATE a second for SECONDS,
from DRIVERS processes at once on PostgreSQL (as several ingest workers take webhooks), one on SQLite.
In other threads of the same process:

- a client as the push process serves one: polls the pushes every OKNO_PUSH_POLL_SECONDS (the
  hub's query), and on its user's push waits the push's wait_ms and runs the calls report (today,
  by employee) as the page's re-fetch does; each call's freshness is the time from its end's
  commit to the end of the first re-fetch whose total counts it;
- the baseline: a COUNT of today's finished calls, polled in a loop.

Full: 50 calls/s for 60 s, 100 employees; small: 50 calls/s for 10 s. Targets: p99 < 2 s for the
push and for the report. Results in bench/results/bench_analytics_live.json with the commit.
"""

import math
import multiprocessing
import os
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.utils import timezone

from okno.analytics import live
from okno.analytics.calls_report import CallsQuery, calls_report
from okno.analytics.live import PUSH_KIND, report_viewer_watch
from okno.analytics.periods import Period
from okno.inbox.models import Channel
from okno.people.models import Department, User
from okno.push.models import Push
from okno.push.services import push_latest_id, pushes_after
from okno.telephony.calls import CallFact, call_fact_record
from okno.telephony.models import Call, PbxExtension

ROOT = Path(__file__).resolve().parent.parent
RATE = 50
DRIVERS = int(os.environ.get("BENCH_LIVE_DRIVERS", "4"))  # processes ending calls at once (PostgreSQL)
POLL = 0.1  # the push hub's default interval (OKNO_PUSH_POLL_SECONDS)


def commit_measured() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bench/bench_analytics_live.py",
                "okno/analytics/live.py")
    return head + ("+dirty" if dirty else "")


def pct(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)


def _setup(employees: int) -> tuple[Channel, list[User], User]:
    from django.contrib.auth.hashers import make_password

    run = int(time.time())
    dep = Department.objects.create(name=f"bench-live-{run}")
    pwd = make_password(None)
    admin = User.objects.create(username=f"bench-live-admin-{run}", role=User.Role.ADMIN, password=pwd)
    users = User.objects.bulk_create([User(username=f"bench-live-{run}-{n}", department=dep, password=pwd)
                                      for n in range(employees)])
    channel = Channel.objects.create(kind="mango", name=f"bench-live-{run}", department=dep)
    PbxExtension.objects.bulk_create([PbxExtension(channel=channel, code=str(1000 + n), user=u)
                                      for n, u in enumerate(users)])
    return channel, users, admin


def _in_threads(n: int, work) -> None:
    """work(k) for k in range(n) threads at once, each with its own database connection."""
    def one(k: int) -> None:
        try:
            work(k)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _start_calls(channel: Channel, users: list[User], n: int, drivers: int) -> list[tuple[str, str]]:
    now = timezone.now() - timedelta(minutes=5)
    calls = [(f"live-{channel.pk}-{i}", str(1000 + i % len(users))) for i in range(n)]

    def start(k: int) -> None:
        for i in range(k, n, drivers):
            call_id, ext = calls[i]
            call_fact_record(channel=channel, fact=CallFact(call_id=call_id, kind="start", at=now, direction="in",
                                                            customer=f"+7916{i:07d}", leg=f"{call_id}.1"))
            # Ringing, not answered: "ongoing" until its end says who answered (an answered call
            # counts only once it has ended, as a ringing one).
            call_fact_record(channel=channel, fact=CallFact(call_id=call_id, kind="ring", at=now,
                                                            leg=f"{call_id}.1", extension=ext))

    _in_threads(drivers, start)
    return calls


def _end_calls(k: int, drivers: int, calls: list[tuple[str, str]], channel_id: int, go, start_at, out) -> None:
    """A forked process: ends calls k, k + drivers, ... each at its time (RATE a second from the
    shared start), and tells when each end committed."""
    from django.db import connections

    connections.close_all()
    channel = Channel.objects.get(pk=channel_id)
    go.wait()
    started = start_at.value  # time.monotonic() is one clock for every process (CLOCK_MONOTONIC)
    try:
        for i in range(k, len(calls), drivers):
            call_id, ext = calls[i]
            due = started + i / RATE
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            call_fact_record(channel=channel, fact=CallFact(call_id=call_id, kind="end", at=timezone.now(),
                                                            leg=f"{call_id}.1", extension=ext, outcome="answered"))
            out.put(time.time())
    finally:
        connections.close_all()


def _today_finished(admin: User) -> int:
    today = timezone.localdate()
    report = calls_report(user=admin, query=CallsQuery(period=Period(today, today), group_by="employee"),
                          with_callbacks=False)
    return report["totals"]["calls"]


def run(*, db: str, scale: str) -> list[dict]:
    seconds = 60 if scale == "full" else 10
    employees = 100 if scale == "full" else 30
    channel, users, admin = _setup(employees)
    total = RATE * seconds
    # Several PBX webhooks at once, as the ingest's workers take them: one process ending calls one
    # by one reaches 50 a second only if each end takes under 20 ms. SQLite takes one writer at a time.
    drivers = DRIVERS if connection.vendor == "postgresql" else 1
    calls = _start_calls(channel, users, total, drivers)
    report_viewer_watch(user=admin)
    live.live_forget()
    base_finished = _today_finished(admin)
    base_raw = Call.objects.exclude(outcome=Call.Outcome.ONGOING).count()
    ended: list[float] = []  # commit time of the i-th end
    pushes: list[float] = []  # push created -> seen by the client
    fetches: list[float] = []
    fresh: list[float] = []
    raw_seen: list[float] = []
    done = threading.Event()

    def client() -> None:
        last_id, covered = push_latest_id(), 0

        def refetch() -> None:
            nonlocal covered
            started = time.perf_counter()
            counted = _today_finished(admin) - base_finished
            now = time.time()
            fetches.append(time.perf_counter() - started)
            while covered < min(counted, len(ended)):
                fresh.append(now - ended[covered])
                covered += 1

        try:
            while not (done.is_set() and covered >= len(ended)):
                time.sleep(POLL)
                found = [d for d in pushes_after(last_id) if d.user_id == admin.pk]
                if not found:
                    if done.is_set():  # no push is coming: what is left was never announced
                        refetch()
                        break
                    continue
                last_id = found[-1].id
                for d in found:
                    created = Push.objects.filter(pk=d.id).values_list("created_at", flat=True).first()
                    if created is not None:
                        pushes.append(max(0.0, time.time() - created.timestamp()))
                # The page waits for the end of the push's second, then re-fetches (live.js).
                time.sleep(min(2.0, found[-1].payload.get("wait_ms", 0) / 1000))
                refetch()
        finally:
            connection.close()

    def raw() -> None:
        seen = 0
        try:
            give_up = None
            while not done.is_set() or seen < len(ended):
                if done.is_set():
                    give_up = give_up or time.monotonic() + 10
                    if time.monotonic() > give_up:
                        break
                counted = Call.objects.exclude(outcome=Call.Outcome.ONGOING).count() - base_raw
                now = time.time()
                while seen < min(counted, len(ended)):
                    raw_seen.append(now - ended[seen])
                    seen += 1
                time.sleep(0.05)
        finally:
            connection.close()

    # The ends come from DRIVERS processes (as several ingest workers take PBX webhooks: threads of
    # one process shared its one core), forked before this process starts its threads.
    ctx = multiprocessing.get_context("fork")
    go, start_at, out = ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
    connection.close()
    procs = [ctx.Process(target=_end_calls, args=(k, drivers, calls, channel.pk, go, start_at, out), daemon=True)
             for k in range(drivers)]
    for proc in procs:
        proc.start()
    threads = [threading.Thread(target=client, daemon=True), threading.Thread(target=raw, daemon=True)]
    for t in threads:
        t.start()
    started = start_at.value = time.monotonic()
    go.set()
    for _ in range(total):  # in the order the ends committed: the report counts them in that order
        ended.append(out.get(timeout=300))
    for proc in procs:
        proc.join(timeout=60)
    elapsed = time.monotonic() - started
    rate = total / elapsed
    time.sleep(2.5)
    done.set()
    for t in threads:
        t.join(timeout=30)
    sent = Push.objects.filter(kind=PUSH_KIND, user=admin).count()
    rows = [
        {"metric": "commit measured", "value": commit_measured(), "target": "", "ok": None},
        {"metric": "calls ended", "value": total, "target": "", "ok": None},
        {"metric": "processes ending calls", "value": drivers, "target": "", "ok": None},
        {"metric": "end rate achieved, calls/s", "value": round(rate, 1), "target": f"{RATE}",
         "ok": rate >= RATE * 0.9},
        {"metric": "pushes to the viewer", "value": sent, "target": f"<= {math.ceil(elapsed) + 1} (one a second)",
         "ok": sent <= math.ceil(elapsed) + 1},
        {"metric": "push created -> client p50 ms", "value": pct(pushes, 0.5), "target": "", "ok": None},
        {"metric": "push created -> client p99 ms", "value": pct(pushes, 0.99), "target": "< 2000",
         "ok": bool(pushes) and pct(pushes, 0.99) < 2000},
        {"metric": "call end -> in the re-fetched report p50 ms", "value": pct(fresh, 0.5), "target": "", "ok": None},
        {"metric": "call end -> in the re-fetched report p99 ms", "value": pct(fresh, 0.99), "target": "< 2000",
         "ok": len(fresh) == total and pct(fresh, 0.99) < 2000},
        {"metric": "calls counted by a re-fetch", "value": len(fresh), "target": f"{total}", "ok": len(fresh) == total},
        {"metric": "report re-fetch p50 ms", "value": pct(fetches, 0.5), "target": "", "ok": None},
        {"metric": "report re-fetch p95 ms", "value": pct(fetches, 0.95), "target": "", "ok": None},
        {"metric": "raw: call end -> in a COUNT p99 ms", "value": pct(raw_seen, 0.99), "target": "", "ok": None},
    ]
    return rows
