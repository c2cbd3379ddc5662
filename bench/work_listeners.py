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
