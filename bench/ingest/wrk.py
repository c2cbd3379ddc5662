"""The ingest load through wrk, the load generator of record for the ingest rate.

The server, PostgreSQL and the load generator share this machine's two cores, so whatever CPU
the load generator takes is taken from what it measures. The bench's Python client (load.py)
costs about 65-90 us of CPU per request; wrk (C, one event loop, bodies read by its Lua script
from a file) about 55, the rest of it the Lua string handling. A provider's webhook sender runs
on the provider's machines, so the lighter the load generator, the closer the figure is to a
server's in production. The Python client is still run beside it for the figures before.
"""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk.lua")


def require() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: run `make bench-deps` (Debian's wrk)")


def closed_loop(*, port: int, path: str, bodies: list[bytes], connections: int, seconds: int) -> dict:
    """`connections` keep-alive connections, each sending the next body when the last is answered.

    One wrk thread: its Lua state walks the bodies in order, so each is sent once (two threads
    would each send the whole list). wrk counts the answers that arrived before the time ran
    out; requests still in flight then (at most one per connection) may be stored unanswered."""
    require()
    with tempfile.NamedTemporaryFile("wb", prefix="okno-bench-", suffix=".bodies") as fh:
        fh.write(b"\n".join(bodies) + b"\n")
        fh.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(SCRIPT),
             f"http://127.0.0.1:{port}", "--", fh.name, path],
            capture_output=True, text=True, timeout=seconds + 60, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
    summary = json.loads(lines[-1])
    elapsed = summary["us"] / 1e6
    ok = summary["requests"] - summary["non2xx"]
    failed = summary["non2xx"] + sum(summary[k] for k in ("connect", "read", "write", "timeout"))
    return {"ok": ok, "failed": failed, "seconds": elapsed, "rate": ok / elapsed,
            "exhausted": summary["requests"] >= len(bodies)}
