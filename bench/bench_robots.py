"""Robots' deadlines and runs at volume, with the real worker (issue 12).

The set (bench/robots/seed.py, seeded once with bulk inserts, reused): 100,000 open deals (small:
10,000) with 1,000,000 rows waiting days ahead (small: 100,000): five open deadlines and five
pending delayed robot runs per deal. Deadline misses notify the department head (a push and an
e-mail); delayed runs notify the responsible (push + e-mail) or call a webhook endpoint. The
sends go through the outbox to an aiosmtpd sink and a Standard Webhooks receiver on 127.0.0.1 in
this process (bench/robots/sinks.py). Workers are `manage.py run_worker` subprocesses with every
drain registered, their e-mail settings pointed at the sink (bench/robots/worker_settings.py).

1. Fire lag. With the workers idle, 10,000 rows (small: 2,000) are made due within the same
   minute, starting 5 s later: half are deadlines (one each of 5,000 deals), half delayed runs
   (one each of 5,000 other deals). Fired − due from the rows: a deadline's closed_at (missed,
   deal marked overdue, escalation queued, one transaction), a run's finished_at (its push and
   outbox row written). p50 / p99 / max, all and per kind; target p99 < 5 s. Beside it, until
   everything has arrived: the head notified (escalated_at), and e-mails at the SMTP sink and
   webhooks at the receiver, minus the due time. Measured with 2 and then 4 workers on
   PostgreSQL, 1 on SQLite (BENCH_ROBOTS_WORKERS="2,4" overrides).
2. Robot actions per second. 5,000 runs (small: 1,000) of 2,500 deals: each deal's "notify the
   responsible" run (a push and an e-mail) and its webhook run. First the raw claim rate of these
   same rows in this process: claim_batch (100 at a time, as the drain) + a bare UPDATE to done,
   no action. Then the rows are put back and made due at once for one worker: runs executed per
   second (last finished_at) and runs whose e-mail or webhook has arrived per second (last
   arrival at the sink / receiver). The ratio to the raw claim rate is stated.
3. kill -9. 10,000 runs (small: 1,000): 5,000 deals' notify run (push + e-mail) and webhook run,
   all due at once; the worker (outbox lease 5 s) is killed with SIGKILL once a quarter of the
   runs are done, as soon as it is seen to have claimed a batch of runs (a batch executes in one
   transaction), and again when two thirds of the sends have arrived; it is restarted each time.
   Then every e-mail key (X-Okno-Key / Message-ID) and every webhook-id expected must have arrived
   once or more (none lost); raw deliveries and distinct keys are both reported (a repeat under
   the same key is what at-least-once sending does after a kill; a Standard Webhooks receiver
   drops it by webhook-id). Robot runs claimed by a killed worker come back after okno.robots.drains'
   LEASE_SECONDS (30 s at this writing), which sets this part's length.

The rows a part touched are put back before the next part. Run one part: BENCH_ROBOTS_PARTS=lag
(or rate, kill; comma-separated). Worker logs: var/log/bench-robots-worker<i>.log.
"""

import os
import random
import signal
import subprocess
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from bench.robots.seed import PER_DEAL, analyze, reset, seed, set_due
from bench.robots.sinks import SmtpSink, WebhookReceiver
from bench.robots.workers import Workers

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"full": {"deals": 100_000, "due": 10_000, "actions": 5_000, "kill": 10_000},
         "small": {"deals": 10_000, "due": 2_000, "actions": 1_000, "kill": 1_000}}
TARGET_P99_S = 5.0
WINDOW_S = 60.0
START_AFTER_S = 5.0
KILL_LEASE_S = 5


def commit_measured() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--", "bench", "okno/robots", "okno/outbox") else "")


def _row(metric: str, value, target="", ok: bool | None = None) -> dict:
    return {"metric": metric, "value": value, "target": target, "ok": ok}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 3)


def _spread(values: list[float]) -> str:
    return f"{pct(values, 0.5)} / {pct(values, 0.99)} / {round(max(values), 3) if values else None}"


def _wait(condition, *, timeout: float, every: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def _in(qs, field: str, ids: list[int]) -> list:
    """qs filtered by `field__in` chunk by chunk (SQLite's variable limit), as a list of rows."""
    out = []
    for start in range(0, len(ids), 5000):
        out += list(qs.filter(**{f"{field}__in": ids[start:start + 5000]}))
    return out


def _deals(pipeline, rng: random.Random, n: int, *, exclude: set[int] = frozenset()) -> list[int]:
    from okno.deals.models import Deal

    ids = [pk for pk in Deal.objects.filter(pipeline=pipeline).values_list("pk", flat=True) if pk not in exclude]
    return rng.sample(ids, n)


def _runs_of(pipeline, deal_ids: list[int], positions: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(run id, deal id, robot position) of the given action robots' runs of the deals."""
    from okno.robots.models import RobotRun

    qs = RobotRun.objects.filter(robot__pipeline=pipeline, robot__position__in=positions, purpose="action") \
        .values_list("pk", "deal_id", "robot__position")
    return _in(qs, "deal_id", deal_ids)


def _outbox_idle() -> bool:
    from okno.outbox.models import OutboxMessage

    return not OutboxMessage.objects.filter(key__startswith="robotrun-", status="pending").exists()


def _run_id(key: str) -> int | None:
    try:
        return int(key.split("-")[1])
    except (IndexError, ValueError):
        return None


# ---- 1. fire lag ---------------------------------------------------------------------------

def worker_counts() -> list[int]:
    """The fire lag is measured once per count: PostgreSQL 2 and 4 workers, SQLite 1."""
    given = os.environ.get("BENCH_ROBOTS_WORKERS") or ("2" if settings.IS_POSTGRES else "1")
    return [int(n) for n in given.split(",")]


def _fire_lag(pipeline, cfg: dict, workers: Workers, smtp: SmtpSink, hooks: WebhookReceiver, *,
              n_workers: int) -> list[dict]:
    from okno.robots.models import Deadline, RobotRun

    count = cfg["due"]
    rng = random.Random(3)
    deal_ids = _deals(pipeline, rng, count)
    d_deals, r_deals = deal_ids[: count // 2], deal_ids[count // 2:]
    # One deadline (of a robot picked at random) per deal, and one delayed run per other deal.
    by_deal: dict[int, list[int]] = {}
    for pk, deal_id in _in(Deadline.objects.filter(robot__pipeline=pipeline).values_list("pk", "deal_id"),
                           "deal_id", d_deals):
        by_deal.setdefault(deal_id, []).append(pk)
    deadline_ids = [rng.choice(sorted(v)) for v in by_deal.values()]
    runs_by_deal: dict[int, list[int]] = {}
    for pk, deal_id, _pos in _runs_of(pipeline, r_deals, tuple(range(10, 10 + PER_DEAL))):
        runs_by_deal.setdefault(deal_id, []).append(pk)
    run_ids = [rng.choice(sorted(v)) for v in runs_by_deal.values()]
    items = [("d", pk) for pk in deadline_ids] + [("r", pk) for pk in run_ids]
    rng.shuffle(items)
    smtp.deliveries.clear()
    hooks.deliveries.clear()
    procs = workers.start(n_workers)
    started = time.monotonic()
    start = timezone.now() + timedelta(seconds=START_AFTER_S)
    step = WINDOW_S / len(items)
    due = {item: start + timedelta(seconds=i * step) for i, item in enumerate(items)}
    set_due(Deadline, [(pk, at) for (kind, pk), at in due.items() if kind == "d"])
    set_due(RobotRun, [(pk, at) for (kind, pk), at in due.items() if kind == "r"])
    set_at = timezone.now()

    def settled() -> bool:
        if timezone.now() < start + timedelta(seconds=WINDOW_S):
            return False
        return not _in(Deadline.objects.filter(status="open").values_list("pk"), "pk", deadline_ids) \
            and not _in(RobotRun.objects.filter(status="pending").values_list("pk"), "pk", run_ids) \
            and not RobotRun.objects.filter(robot__pipeline=pipeline, purpose="escalation", status="pending").exists() \
            and _outbox_idle()

    finished = _wait(settled, timeout=WINDOW_S + START_AFTER_S + 900)
    seconds = time.monotonic() - started
    for proc in procs:
        workers.stop(proc)
    deadlines = _in(Deadline.objects.values_list("pk", "due_at", "closed_at", "escalated_at", "status"), "pk",
                    deadline_ids)
    runs = _in(RobotRun.objects.values_list("pk", "due_at", "finished_at", "status"), "pk", run_ids)
    d_lag = [(closed - d).total_seconds() for _pk, d, closed, _e, _s in deadlines if closed]
    r_lag = [(fin - d).total_seconds() for _pk, d, fin, _s in runs if fin]
    esc_lag = [(e - d).total_seconds() for _pk, d, _c, e, _s in deadlines if e]
    missed = sum(1 for row in deadlines if row[4] == "missed")
    done = sum(1 for row in runs if row[3] == "done")
    escalations = list(RobotRun.objects.filter(robot__pipeline=pipeline, purpose="escalation")
                       .values_list("pk", "entry", "status"))
    # When each run's e-mail / webhook was due: its own due time, or its missed deadline's.
    deadline_due = {pk: d for pk, d, *_rest in deadlines}
    run_due = {pk: d.timestamp() for pk, d, *_rest in runs}
    for pk, entry, _s in escalations:
        d = deadline_due.get(int(entry.split(":", 1)[1]))
        if d is not None:
            run_due[pk] = d.timestamp()
    mail_lag = [at - run_due[r] for key, at in smtp.deliveries.first_seen().items()
                if (r := _run_id(key)) in run_due]
    hook_lag = [at - run_due[r] for key, at in hooks.deliveries.first_seen().items()
                if (r := _run_id(key)) in run_due]
    all_lag = d_lag + r_lag
    p99 = pct(all_lag, 0.99)
    n_d, n_r = len(deadline_ids), len(run_ids)
    rows = [
        _row("1. due within one minute: deadlines + delayed runs (1 of each deal)", f"{n_d} + {n_r}", count,
             n_d + n_r == count),
        _row("workers (manage.py run_worker, every drain)", n_workers),
        _row("due times written, s before the first is due", round((start - set_at).total_seconds(), 1)),
        _row("deadlines missed / their escalations done", f"{missed} / {sum(1 for e in escalations if e[2] == 'done')}",
             f"{n_d} / {n_d}", missed == n_d and sum(1 for e in escalations if e[2] == "done") == n_d),
        _row("delayed runs done", done, n_r, done == n_r),
        _row("fire lag p50 / p99 / max s, all", _spread(all_lag), f"p99 < {TARGET_P99_S:g}",
             p99 is not None and p99 < TARGET_P99_S and len(all_lag) == count),
        _row("fire lag p50 / p99 / max s, deadlines (closed_at - due_at)", _spread(d_lag)),
        _row("fire lag p50 / p99 / max s, delayed runs (finished_at - due_at)", _spread(r_lag)),
        _row("head notified (escalated_at - due) p50 / p99 / max s", _spread(esc_lag)),
        _row(f"e-mail at the SMTP sink - due p50 / p99 / max s ({len(mail_lag)} e-mails)", _spread(mail_lag)),
        _row(f"webhook at the receiver - due p50 / p99 / max s ({len(hook_lag)} webhooks)", _spread(hook_lag)),
        _row("seconds from workers up to everything sent (window 5 + 60 s)", round(seconds, 1), "", finished),
    ]
    for row in rows[2:]:
        row["metric"] = f"[{n_workers} w] {row['metric']}"
    return rows


# ---- 2. robot actions per second beside the raw claim rate ---------------------------------

def _pairs(pipeline, rng: random.Random, deals: int, exclude: set[int] = frozenset()) -> tuple[list, list]:
    """Each deal's run of robot 0 (notify the responsible) and of robot 1 (webhook)."""
    rows = _runs_of(pipeline, _deals(pipeline, rng, deals, exclude=exclude), (10, 11))
    return [r for r in rows if r[2] == 10], [r for r in rows if r[2] == 11]


def _actions_rate(pipeline, cfg: dict, workers: Workers, smtp: SmtpSink, hooks: WebhookReceiver) -> list[dict]:
    from okno.core.leases import claim_batch
    from okno.robots.drains import LEASE_SECONDS, RUN_BATCH
    from okno.robots.models import RobotRun

    notify, webhook = _pairs(pipeline, random.Random(5), cfg["actions"] // 2)
    ids = [r[0] for r in notify + webhook]
    mine = RobotRun.objects.filter(robot__pipeline=pipeline)
    for part in (ids[i:i + 5000] for i in range(0, len(ids), 5000)):
        mine.filter(pk__in=part).update(run_after=timezone.now() - timedelta(seconds=1))
    analyze()
    from django.db.models import Q

    started = time.perf_counter()
    claimed = 0
    while True:
        got = claim_batch(RobotRun, ready=Q(status=RobotRun.Status.PENDING), limit=RUN_BATCH,
                          lease_seconds=LEASE_SECONDS, order_by="run_after")
        if not got:
            break
        RobotRun.objects.filter(pk__in=got).update(status="done", locked_until=None, finished_at=timezone.now())
        claimed += len(got)
    raw_seconds = time.perf_counter() - started
    far = timezone.now() + timedelta(days=5)
    for part in (ids[i:i + 5000] for i in range(0, len(ids), 5000)):
        mine.filter(pk__in=part).update(status="pending", run_after=far, attempts=0, locked_until=None,
                                        finished_at=None)
    smtp.deliveries.clear()
    hooks.deliveries.clear()
    procs = workers.start(1)
    t0 = time.time()
    for part in (ids[i:i + 5000] for i in range(0, len(ids), 5000)):
        mine.filter(pk__in=part).update(run_after=timezone.now())

    def arrived() -> bool:
        return len(smtp.deliveries.first_seen()) >= len(notify) and len(hooks.deliveries.first_seen()) >= len(webhook)

    complete = _wait(arrived, timeout=900, every=0.2)
    for proc in procs:
        workers.stop(proc)
    runs = _in(RobotRun.objects.values_list("status", "finished_at"), "pk", ids)
    done = sum(1 for s, _f in runs if s == "done")
    last_run = max((f.timestamp() for _s, f in runs if f), default=t0)
    last_sent = max([at for _k, at in smtp.deliveries.items] + [at for _k, at in hooks.deliveries.items], default=t0)
    raw_rate = claimed / raw_seconds
    run_rate = len(ids) / (last_run - t0)
    sent_rate = len(ids) / (last_sent - t0)
    return [
        _row(f"2. runs: {len(notify)} notify (push + e-mail) + {len(webhook)} webhook, done", done, len(ids),
             done == len(ids) and complete),
        _row("raw claim rate rows/s (claim_batch of 100 + bare UPDATE to done, same rows, 1 process)",
             round(raw_rate), "", claimed == len(ids)),
        _row("robot actions/s executed by 1 worker (push + outbox row; last finished_at)", round(run_rate)),
        _row("robot actions/s delivered (e-mail at the sink, webhook at the receiver; last arrival)",
             round(sent_rate)),
        _row("executed / raw claim", f"{run_rate / raw_rate:.1%}"),
        _row("delivered / raw claim", f"{sent_rate / raw_rate:.1%}"),
    ]


# ---- 3. kill -9 twice ----------------------------------------------------------------------

def _kill(pipeline, cfg: dict, workers: Workers, smtp: SmtpSink, hooks: WebhookReceiver) -> list[dict]:
    from okno.outbox.models import OutboxMessage
    from okno.push.models import Push
    from okno.robots.drains import LEASE_SECONDS
    from okno.robots.models import RobotRun

    notify, webhook = _pairs(pipeline, random.Random(11), cfg["kill"] // 2)
    ids = [r[0] for r in notify + webhook]
    responsible = dict(_in(RobotRun.objects.values_list("pk", "deal__responsible_id"), "pk", [r[0] for r in notify]))
    want_mail = {f"robotrun-{pk}-u{responsible[pk]}" for pk, _d, _p in notify}
    want_hook = {f"robotrun-{pk}" for pk, _d, _p in webhook}
    total = len(want_mail) + len(want_hook)
    smtp.deliveries.clear()
    hooks.deliveries.clear()
    env = {"BENCH_OUTBOX_LEASE_SECONDS": str(KILL_LEASE_S)}
    started = time.monotonic()
    proc = workers.start(1, env=env)[0]
    # One due time for all of them: the runs still pending are found through the drain's own
    # partial index (status pending, run_after), fast enough to poll every few milliseconds.
    due = timezone.now()
    mine = RobotRun.objects.filter(robot__pipeline=pipeline)
    for part in (ids[i:i + 5000] for i in range(0, len(ids), 5000)):
        mine.filter(pk__in=part).update(run_after=due)
    waiting = RobotRun.objects.filter(status="pending", run_after=due)
    kills = []

    def runs_done() -> int:
        return len(ids) - waiting.count()

    def mid_batch() -> bool:
        # A quarter of the runs done and a batch claimed but not committed (the drain executes a
        # claimed batch in one transaction): the kill leaves claimed runs leased to a dead worker.
        return runs_done() >= len(ids) // 4 and waiting.filter(locked_until__gt=timezone.now()).exists()

    def mid_send() -> bool:
        return smtp.deliveries.count() + hooks.deliveries.count() >= 2 * total // 3

    for condition in (mid_batch, mid_send):
        _wait(condition, timeout=600, every=0.005)
        workers.stop(proc, sig=signal.SIGKILL)
        sent = smtp.deliveries.count() + hooks.deliveries.count()
        done = runs_done()
        kills.append(f"{done} runs done, {sent} sends arrived")
        proc = workers.start(1, env=env)[0]

    def settled() -> bool:
        return not _in(RobotRun.objects.filter(status="pending").values_list("pk"), "pk", ids) and _outbox_idle()

    finished = _wait(settled, timeout=900)
    time.sleep(2.0)  # anything still in flight arrives
    workers.stop(proc)
    seconds = time.monotonic() - started
    mails = [k for k, _at in smtp.deliveries.items]
    hook_ids = [k for k, _at in hooks.deliveries.items]
    got_mail, got_hook = set(mails), set(hook_ids)
    lost_mail, lost_hook = want_mail - got_mail, want_hook - got_hook
    odd = (got_mail - want_mail) | (got_hook - want_hook)
    runs = _in(RobotRun.objects.values_list("status", "attempts"), "pk", ids)
    statuses = {s: sum(1 for r in runs if r[0] == s) for s in {r[0] for r in runs}}
    reclaimed = sum(1 for _s, a in runs if a > 1)
    resent = len(_in(OutboxMessage.objects.filter(attempts__gt=1).values_list("pk"), "key",
                     sorted(want_mail | want_hook)))
    pushes = len(_in(Push.objects.filter(kind="robot").values_list("pk"), "key",
                     [f"robotrun-{pk}" for pk, _d, _p in notify]))
    ok_mail = not lost_mail and len(got_mail & want_mail) == len(want_mail)
    ok_hook = not lost_hook and len(got_hook & want_hook) == len(want_hook)
    return [
        _row(f"3. kill -9 x{len(kills)} during {len(ids)} runs ({len(notify)} notify + {len(webhook)} webhook), "
             "killed when", "; ".join(kills), "", len(kills) == 2),
        _row("runs by status", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())), f"done {len(ids)}",
             statuses.get("done") == len(ids)),
        _row(f"runs claimed again after a kill (lease {LEASE_SECONDS} s) / outbox rows sent again (lease 5 s)",
             f"{reclaimed} / {resent}"),
        _row("e-mails at the SMTP sink: raw / distinct keys / expected", f"{len(mails)} / {len(got_mail)} / "
             f"{len(want_mail)}", "distinct = expected", ok_mail),
        _row("e-mails lost / doubled (same key twice at the sink)",
             f"{len(lost_mail)} / {len(mails) - len(got_mail)}", "0 / -", not lost_mail),
        _row("webhooks at the receiver: raw / distinct webhook-id / expected", f"{len(hook_ids)} / {len(got_hook)} / "
             f"{len(want_hook)}", "distinct = expected", ok_hook),
        _row("webhooks lost / doubled (same webhook-id twice; the receiver drops the repeat)",
             f"{len(lost_hook)} / {len(hook_ids) - len(got_hook)}", "0 / -", not lost_hook),
        _row("unexpected keys / bad signatures / requests cut off by a kill (not deliveries)",
             f"{len(odd)} / {hooks.deliveries.bad} / {hooks.deliveries.cut}", "0 / 0 / -",
             not odd and not hooks.deliveries.bad),
        _row("pushes (one per notify run, unique per key)", pushes, len(notify), pushes == len(notify)),
        _row("seconds, start to all sent", round(seconds, 1), "", finished),
    ]


def run(*, db: str, scale: str) -> list[dict]:
    from okno.outbox.models import WebhookEndpoint
    from okno.robots.models import Deadline, RobotRun

    cfg = SIZES.get(scale, SIZES["small"])
    parts = set((os.environ.get("BENCH_ROBOTS_PARTS") or "lag,rate,kill").split(","))
    t0 = time.monotonic()
    pipeline, reused = seed(cfg["deals"])
    seed_seconds = time.monotonic() - t0
    reset(pipeline)
    analyze()
    waiting = Deadline.objects.filter(robot__pipeline=pipeline, status="open").count() + RobotRun.objects.filter(
        robot__pipeline=pipeline, status="pending").count()
    rows = [
        _row("commit", commit_measured()),
        _row("open deals", cfg["deals"]),
        _row("pending deadlines + delayed runs", waiting, cfg["deals"] * PER_DEAL * 2,
             waiting == cfg["deals"] * PER_DEAL * 2),
        _row("seed seconds", round(seed_seconds, 1), "reused" if reused else "bulk"),
        _row("load average (1 min) at start, 2 cores", round(os.getloadavg()[0], 1)),
    ]
    with SmtpSink() as smtp, WebhookReceiver() as hooks:
        hook_robot = pipeline.robots.filter(action="webhook").first()
        endpoint = WebhookEndpoint.objects.get(pk=hook_robot.action_params["endpoint_id"])
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=hooks.url, is_active=True, disabled_reason="")
        hooks.httpd.secret = endpoint.secret
        workers = Workers(smtp_port=smtp.port)
        try:
            steps = [(f"lag, {n} workers", partial(_fire_lag, n_workers=n)) for n in worker_counts()
                     if "lag" in parts]
            steps += [(name, part) for name, part in (("rate", _actions_rate), ("kill", _kill)) if name in parts]
            for name, part in steps:
                rows += part(pipeline, cfg, workers, smtp, hooks)
                rows.append(_row(f"load average (1 min) after {name}", round(os.getloadavg()[0], 1)))
                reset(pipeline)
                analyze()
        finally:
            workers.stop_all()
    return rows
