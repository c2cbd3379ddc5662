"""bench_analytics' load part: 50 heads refreshing reports while webhooks are ingested.

bench_ingest's machinery: granian serving okno.wsgi (2 workers x 4 threads, its default layout)
and one `run_worker`, started and stopped by bench.ingest.procs.Procs; the ingest is its
closed-loop Tilda-form POSTs from 8 keep-alive clients (bench.ingest.scenarios.Bench.ingest),
the rate counted from the rows stored. The heads are 50 more keep-alive connections, each a
signed-in head (session cookie) whose open report refreshes every REFRESH seconds (this month,
quarter or year, by employee, day or line, against the previous period, in turn), starting
spread over the first interval; a refresh that is late goes at once. Latency is send to answer.
Three runs of the same length: ingest alone, heads alone, both.
"""

import threading
import time
from urllib.parse import urlencode

from django.test import Client

from bench.ingest.load import Conn
from bench.ingest.procs import Procs, free_port
from bench.ingest.scenarios import Bench

SECONDS = {"full": 15, "small": 3}
LAYOUT = (2, 4)
# A live report refreshes when calls end, at most every 2 s (issue 16's freshness): 50 heads are
# then 25 reports a second. (Back to back, with no pause, they measure only the queue: 50 / rate.)
REFRESH = 2.0
INGEST_CLIENTS = 8


def _row(metric: str, value, target: str = "", ok: bool | None = None) -> dict:
    return {"metric": metric, "value": value, "target": target, "ok": ok}


def _requests(port: int, heads, spans) -> list[list[bytes]]:
    per_head = []
    for head in heads:
        client = Client()
        client.force_login(head)
        cookie = client.cookies["sessionid"].value
        mine = []
        for start, end in spans.values():
            for group_by in ("employee", "day", "line"):
                query = urlencode({"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by,
                                   "compare": "previous"})
                mine.append(f"GET /api/v1/analytics/calls?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                            f"Cookie: sessionid={cookie}\r\n\r\n".encode())
        per_head.append(mine)
    return per_head


def _heads_loop(port: int, per_head: list[list[bytes]], seconds: float) -> dict:
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    ready = threading.Barrier(len(per_head) + 1)
    stop_at = [0.0]

    def head(reqs: list[bytes], offset: int) -> None:
        conn, mine, bad, i = Conn(port), [], 0, offset
        ready.wait()
        due = time.monotonic() + REFRESH * offset / len(per_head)
        while (now := time.monotonic()) < stop_at[0]:
            if due > now:
                time.sleep(due - now)
            due += REFRESH
            began = time.perf_counter()
            status = conn.send(reqs[i % len(reqs)])
            if status == 200:
                mine.append(time.perf_counter() - began)
            else:
                bad += 1
            i += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            failed[0] += bad

    threads = [threading.Thread(target=head, args=(reqs, j), daemon=True) for j, reqs in enumerate(per_head)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    ready.wait()
    for t in threads:
        t.join()
    ordered = sorted(latencies)

    def pct(q: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else None

    return {"requests": len(ordered), "failed": failed[0], "rate": len(ordered) / seconds, "p50": pct(0.5),
            "p95": pct(0.95)}


def heads_under_ingest(*, scale: str, heads, spans) -> list[dict]:
    seconds = SECONDS[scale]
    procs, bench = Procs(), Bench()
    rows: list[dict] = []
    try:
        port = free_port()
        procs.web(port=port, workers=LAYOUT[0], threads=LAYOUT[1])
        procs.worker()
        per_head = _requests(port, heads, spans)
        _heads_loop(port, per_head, 1.0)  # warm-up: imports, connections
        alone = bench.ingest(port=port, clients=INGEST_CLIENTS, seconds=seconds)
        reports = _heads_loop(port, per_head, seconds)
        both: dict = {}
        runner = threading.Thread(target=lambda: both.update(_heads_loop(port, per_head, seconds)), daemon=True)
        runner.start()
        together = bench.ingest(port=port, clients=INGEST_CLIENTS, seconds=seconds)
        runner.join()
        rows += [
            _row("ingest alone, events/s", round(alone["rate"], 1), f"{INGEST_CLIENTS} clients, stored "
                 f"{alone['stored']}"),
            _row("ingest with 50 heads refreshing, events/s", round(together["rate"], 1),
                 f"stored {together['stored']}"),
            _row("50 heads alone, report p50 ms", reports["p50"], f"{reports['requests']} answers, "
                 f"{reports['failed']} failed"),
            _row("50 heads alone, report p95 ms", reports["p95"]),
            _row("50 heads during ingest, report p50 ms", both.get("p50"),
                 f"{both.get('requests')} answers, {both.get('failed')} failed"),
            _row("50 heads during ingest, report p95 ms", both.get("p95")),
        ]
    finally:
        procs.close()
    return rows
