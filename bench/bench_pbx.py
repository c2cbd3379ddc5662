"""Telephony (issue 5): PBX event ingest beside the raw insert rate, and screen-pop latency.

1. Ingest: granian serving okno.wsgi (2 workers x 4 threads, as bench_ingest's default), 8
   keep-alive clients POSTing signed Mango `events/call` and Zadarma `NOTIFY_START` webhooks
   for a fixed time; rate = stored + acknowledged per second (checked against the rows). Beside
   it, in the same run, the raw single-row INSERT + COMMIT rate of bench_ingest.
2. Screen pop: web + one `run_worker` + the push process (ASGI); 500 employees, each with an
   extension and a signed-in session, hold a Server-Sent Events stream open. Mango rings one
   employee's extension per call, new customers, at a fixed rate; latency = the webhook's
   scheduled send time -> the pop frame read on that employee's connection. Target p99 < 1 s.

Run: `make bench` or `.venv/bin/python -m bench bench_pbx --db postgres --scale small`.
"""

import statistics
import time

from bench.ingest.load import closed_loop, open_loop
from bench.ingest.procs import Procs, free_port
from bench.ingest.scenarios import Bench, _pct
from bench.pbx.listeners import Listeners
from bench.pbx.payloads import customer_number, mango_ring, zadarma_start

SCALES = {
    # 5 calls/s: a 500-seat call centre where each operator takes a call every 100 s, at peak.
    "full": {"raw_seconds": 8, "ingest_seconds": 8, "employees": 500, "pop_rate": 5, "pop_seconds": 60},
    "small": {"raw_seconds": 3, "ingest_seconds": 3, "employees": 100, "pop_rate": 10, "pop_seconds": 5},
}
CLIENTS = 8
LAYOUT = (2, 4)
POP_P99_TARGET = 1.0


def _row(metric: str, value, target: str = "", ok: bool | None = None) -> dict:
    return {"metric": metric, "value": value, "target": target, "ok": ok}


class PbxBench:
    """Channels and employees of this run, made through the ORM like an administrator would."""

    def __init__(self, base: Bench) -> None:
        from okno.inbox.models import Channel

        self.base = base
        self.run = base.run
        self.mango = Channel.objects.create(kind="mango", name=f"bench mango {self.run}", department=base.department,
                                           settings={"api_key": f"key{self.run}", "api_salt": f"salt{self.run}"})
        self.zadarma = Channel.objects.create(kind="zadarma", name=f"bench zadarma {self.run}",
                                             department=base.department,
                                             settings={"api_key": "k", "api_secret": f"secret{self.run}"})
        base.channels += [self.mango, self.zadarma]

    def numbers(self, count: int) -> range:
        first = self.base.next_n
        self.base.next_n += count
        return range(first, first + count)

    def employees(self, count: int) -> list[tuple[str, str]]:
        """`count` managers with extensions 2000.. on the Mango line: (extension, session key)."""
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        from okno.people.models import User
        from okno.telephony.models import PbxExtension

        out = []
        for i in range(count):
            user, _ = User.objects.get_or_create(username=f"bench-pbx-{i}", defaults={
                "department": self.base.department, "role": User.Role.MANAGER, "first_name": f"Оператор {i}"})
            code = str(2000 + i)
            PbxExtension.objects.update_or_create(channel=self.mango, code=code, defaults={"user": user})
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            out.append((code, session.session_key))
        return out

    def ingest(self, channel, port: int, seconds: float, build) -> dict:
        from okno.inbox.models import InboundEvent

        reqs = [build(channel, port, n=n, run=self.run, run_prefix=self.base.prefix)
                for n in self.numbers(int(seconds * 5000))]
        closed_loop(port=port, requests=reqs[:200], clients=CLIENTS, seconds=1.0)  # warm-up
        InboundEvent.objects.filter(channel=channel).delete()
        res = closed_loop(port=port, requests=reqs[200:], clients=CLIENTS, seconds=seconds)
        res["stored"] = InboundEvent.objects.filter(channel=channel).count()
        InboundEvent.objects.filter(channel=channel).delete()
        return res


def run(*, db: str, scale: str) -> list[dict]:
    cfg = SCALES[scale]
    procs = Procs()
    base = Bench()
    bench = PbxBench(base)
    rows: list[dict] = []
    try:
        _ingest(bench, procs, cfg, rows)
        _screen_pop(bench, procs, cfg, rows)
    finally:
        procs.close()
        base.close()
    return rows


def _ingest(bench: PbxBench, procs: Procs, cfg: dict, rows: list[dict]) -> None:
    raw = bench.base.raw(seconds=cfg["raw_seconds"], clients=CLIENTS)["rate"]
    port = free_port()
    web = procs.web(port=port, workers=LAYOUT[0], threads=LAYOUT[1])
    rows.append(_row(f"raw INSERT+COMMIT rows/s ({CLIENTS} threads)", round(raw)))
    for name, channel, build in (
        ("Mango events/call", bench.mango,
         lambda ch, p, **kw: mango_ring(ch, p, extension="101", **kw)),
        ("Zadarma NOTIFY_START", bench.zadarma, zadarma_start),
    ):
        res = bench.ingest(channel, port, cfg["ingest_seconds"], build)
        rows.append(_row(f"{name} ingest req/s (granian {LAYOUT[0]}x{LAYOUT[1]}), share of raw",
                         f"{res['rate']:.0f} ({res['rate'] / raw:.0%})", "stored == acknowledged",
                         res["stored"] == res["ok"] and res["failed"] == 0))
    procs.stop(web)


def _screen_pop(bench: PbxBench, procs: Procs, cfg: dict, rows: list[dict]) -> None:
    employees = bench.employees(cfg["employees"])
    web_port, push_port = free_port(), free_port()
    procs.web(port=web_port, workers=LAYOUT[0], threads=LAYOUT[1])
    procs.push(port=push_port)
    procs.worker(name="worker-pbx")
    listeners = Listeners(port=push_port, sessions=[session for _code, session in employees])
    listeners.start()
    try:
        # Warm-up: a few rings through web, worker and push before anything is timed.
        _ring(bench, listeners, employees, web_port, rate=10, count=20)
        count = cfg["pop_rate"] * cfg["pop_seconds"]
        lat, lost = _ring(bench, listeners, employees, web_port, rate=cfg["pop_rate"], count=count)
    finally:
        listeners.close()
    p99 = _pct(lat, 0.99)
    rows.append(_row(f"screen pop p50/p99 s, {len(employees)} employees connected, {cfg['pop_rate']} calls/s",
                     f"{_pct(lat, 0.5)}/{p99}" + (f" lost {lost}" if lost else ""), f"p99 < {POP_P99_TARGET:g}",
                     p99 is not None and p99 < POP_P99_TARGET and lost == 0))
    rows.append(_row("screen pop mean s / pops", f"{statistics.mean(lat):.3f} / {len(lat)}" if lat else "-"))


def _ring(bench: PbxBench, listeners: Listeners, employees: list, port: int, *, rate: int,
          count: int) -> tuple[list[float], int]:
    ns = list(bench.numbers(count))
    reqs = [mango_ring(bench.mango, port, n=n, run=bench.run, run_prefix=bench.base.prefix,
                       extension=employees[i % len(employees)][0]) for i, n in enumerate(ns)]
    sent = open_loop(port=port, requests=reqs, rate=rate, clients=8)
    deadline = time.monotonic() + 30
    numbers = [customer_number(bench.base.prefix, n) for n in ns]
    while time.monotonic() < deadline and any(num not in listeners.arrived for num in numbers):
        time.sleep(0.1)
    lat = [listeners.arrived[num] - sent["sent_at"][i] for i, num in enumerate(numbers) if num in listeners.arrived]
    return lat, count - len(lat)
