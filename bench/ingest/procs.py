"""The web server and the worker as subprocesses, each in its own process group.

Every start goes through `Procs`, whose `close()` (called from a finally) stops the groups:
SIGTERM, then SIGKILL after a grace period. The children also get SIGTERM from the kernel
when the bench process dies, even by SIGKILL (PR_SET_PDEATHSIG), so none outlives the run.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
# As scripts/demo.sh and docs/setup.md run it: connections beyond the threads queue for a thread
# instead of waiting unread (a keep-alive client over the limit would otherwise starve).
BACKPRESSURE = 32
LOG_DIR = ROOT / "var" / "log"


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def stop_group(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
    """Signals the process's group (granian's and the worker's children too), then SIGKILL after `grace`."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

class Procs:
    def __init__(self) -> None:
        self.live: list[subprocess.Popen] = []
        LOG_DIR.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(LOG_DIR / f"bench-ingest-{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, "LOG_LEVEL": "ERROR", **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_die_with_parent)
        log.close()
        self.live.append(proc)
        return proc

    def web(self, *, port: int, workers: int, threads: int) -> subprocess.Popen:
        proc = self.start(f"web-{port}", [
            str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--backpressure", str(BACKPRESSURE),
            "--no-ws", "--log-level", "warning", "okno.wsgi:application"])
        return self._answering(proc, port)

    def push(self, *, port: int) -> subprocess.Popen:
        """The push process (ASGI) as scripts/demo.sh runs it: it holds every open page's stream."""
        proc = self.start(f"push-{port}", [
            str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--backlog", "4096", "--backpressure", "4096", "--no-ws", "--log-level", "warning",
            "okno.push.asgi:application"])
        return self._answering(proc, port)

    def _answering(self, proc: subprocess.Popen, port: int) -> subprocess.Popen:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"granian exited with {proc.returncode}; see {LOG_DIR}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if s.recv(12).startswith(b"HTTP/1.1"):
                        return proc
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("granian did not answer within 30 s")

    def worker(self, *, name: str = "worker", env: dict | None = None) -> subprocess.Popen:
        # Warnings kept: the worker names a drain that held the others up (okno.core.worker).
        return self.start(name, [sys.executable, "manage.py", "run_worker"], {"LOG_LEVEL": "WARNING", **(env or {})})

    def stop(self, proc: subprocess.Popen, *, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
        stop_group(proc, sig=sig, grace=grace)
        if proc in self.live:
            self.live.remove(proc)

    def close(self) -> None:
        for proc in list(self.live):
            self.stop(proc)
