"""Heads' open boards: one Server-Sent Events connection each to the push process, in one asyncio
loop on its own thread; each `work_board` frame's arrival is kept per state change (its `since`)."""

import asyncio
import json
import threading
import time


class BoardListeners:
    def __init__(self, *, port: int, sessions: list[str], user_id: int) -> None:
        self.port, self.sessions, self.user_id = port, sessions, user_id
        self.arrivals: dict[str, list[float]] = {}
        self.connected = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def received(self) -> int:
        with self._lock:
            return sum(len(v) for v in self.arrivals.values())

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        for session in self.sessions:
            asyncio.run_coroutine_threadsafe(self._listen(session), self._loop)
        deadline = time.monotonic() + timeout
        while self.connected < len(self.sessions) and time.monotonic() < deadline and not self.errors:
            time.sleep(0.1)
        if not self.connected:
            raise RuntimeError(f"no stream opened; {self.errors[:3]}")

    async def _listen(self, session: str) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write((f"GET /push/stream HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                          f"Accept: text/event-stream\r\nCookie: sessionid={session}\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head[:60])
            self.connected += 1
            event = b""
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                elif line.startswith(b"data: ") and event == b"work_board":
                    now = time.time()
                    data = json.loads(line[6:])
                    if data.get("user_id") == self.user_id:
                        with self._lock:
                            self.arrivals.setdefault(data["since"], []).append(now)
        except Exception as exc:  # noqa: BLE001 - reported by start() or the bench's row
            self.errors.append(repr(exc))

    async def _shutdown(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class BoardListenersProcess:
    """The same listeners in a process of their own, as the heads' browsers are: in the bench's
    process their loop shared one interpreter lock with the bench's own work and, there, read no
    frame at all (the streams were served: a separate process reads them). Same interface."""

    def __init__(self, *, port: int, sessions: list[str], user_id: int) -> None:
        self.port, self.sessions, self.user_id = port, sessions, user_id
        self.arrivals: dict[str, list[float]] = {}
        self.connected = 0
        self._proc = None

    def start(self, timeout: float = 60.0) -> None:
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.work_listeners", str(self.port),
                                       str(self.user_id)], cwd=root, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
        self._proc.stdin.write(json.dumps(self.sessions) + "\n")
        self._proc.stdin.flush()
        answer = json.loads(self._proc.stdout.readline() or "{}")
        self.connected = answer.get("connected", 0)
        if not self.connected:
            raise RuntimeError(f"no stream opened; {answer.get('errors', [])[:3]}")

    def _ask(self, command: str) -> dict:
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline() or "{}")

    def received(self) -> int:
        return self._ask("count").get("received", 0)

    def close(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        try:
            proc.stdin.write("stop\n")
            proc.stdin.flush()
            self.arrivals = json.loads(proc.stdout.readline() or "{}").get("arrivals", {})
        finally:
            proc.wait(30)


def _main() -> None:
    """`python -m bench.work_listeners PORT USER_ID`: sessions as a JSON list on the first line of
    stdin; answers `{"connected": n}`, then one JSON line per command (`count`, `stop`)."""
    import sys

    port, user_id = int(sys.argv[1]), int(sys.argv[2])
    sessions = json.loads(sys.stdin.readline())
    listeners = BoardListeners(port=port, sessions=sessions, user_id=user_id)
    try:
        listeners.start()
    except RuntimeError:
        pass
    print(json.dumps({"connected": listeners.connected, "errors": listeners.errors[:3]}), flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(json.dumps({"received": listeners.received()}), flush=True)
        elif line.strip() == "stop":
            with listeners._lock:
                arrivals = {k: list(v) for k, v in listeners.arrivals.items()}
            print(json.dumps({"arrivals": arrivals}), flush=True)
            break
    listeners.close()


if __name__ == "__main__":
    _main()
