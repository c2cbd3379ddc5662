"""`manage.py run_worker` as subprocesses (each its own process group), stopped by a finally.

The children get SIGTERM from the kernel if the bench process dies (PR_SET_PDEATHSIG), so none
outlives a run. Logs: var/log/bench-robots-worker<i>.log.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.ingest.procs import _die_with_parent, stop_group

ROOT = Path(__file__).resolve().parent.parent.parent
LOG_DIR = ROOT / "var" / "log"


class Workers:
    def __init__(self, *, smtp_port: int, env: dict | None = None) -> None:
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.robots.worker_settings",
                    "BENCH_SMTP_PORT": str(smtp_port), "LOG_LEVEL": "WARNING", **(env or {})}
        self.live: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        LOG_DIR.mkdir(parents=True, exist_ok=True)

    def start(self, n: int = 1, *, env: dict | None = None, wait: float = 60.0) -> list[subprocess.Popen]:
        """Starts n workers and returns once each has logged that its loop started."""
        started = []
        for _ in range(n):
            path = LOG_DIR / f"bench-robots-worker{len(self.logs)}.log"
            self.logs.append(path)
            with open(path, "wb") as log:
                proc = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT,
                                        env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_die_with_parent)
            self.live.append(proc)
            started.append((proc, path))
        deadline = time.monotonic() + wait
        for proc, path in started:
            while b"worker started" not in path.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start; see {path}")
                time.sleep(0.1)
        return [p for p, _ in started]

    def stop(self, proc: subprocess.Popen, *, sig: int = signal.SIGTERM, grace: float = 30.0) -> None:
        stop_group(proc, sig=sig, grace=grace)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.live):
            self.stop(proc)

    def log_lines(self, needle: str) -> int:
        return sum(path.read_text(errors="replace").count(needle) for path in self.logs if path.exists())
