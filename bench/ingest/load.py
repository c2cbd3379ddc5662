"""The HTTP load: keep-alive connections over plain sockets, requests built in advance.

A pure-Python client on the same two cores as the server: http.client costs several times
more CPU per request than writing prepared bytes and reading the status line and the
Content-Length body, so the client takes as little as possible from the server it measures.
"""

import socket
import threading
import time
from urllib.parse import urlencode

FIRST_NAMES = ("Ольга", "Пётр", "Анна", "Иван", "Мария", "Сергей", "Елена", "Дмитрий")
LAST_NAMES = ("Смирнова", "Иванов", "Кузнецова", "Попов", "Соколова", "Лебедев", "Новикова", "Морозов")


def form_body(n: int, *, run: str, phone_prefix: str) -> bytes:
    """A Tilda-like submission; the phone (new customer) and tranid are unique per n."""
    digits = f"9{phone_prefix}{n:06d}"
    return urlencode({
        "Name": f"{FIRST_NAMES[n % 8]} {LAST_NAMES[n // 8 % 8]}",
        "Phone": f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
        "Email": f"client{n}.{run}@example.ru",
        "Message": f"bench {n}: Здравствуйте, хочу узнать цену и сроки доставки в Казань",
        "utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "spring",
        "formid": "form123456", "tranid": f"{run}:{n}", "page": "https://example.ru/price",
    }).encode()


def request_bytes(path: str, port: int, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: Tilda.cc\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        return sock

    def send(self, data: bytes) -> int:
        """Sends one request and returns the response status (0: the connection failed)."""
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self.sock = self._connect()
                self.sock.sendall(data)
                return self._read()
            except OSError:
                self.close()
                if attempt == 2:
                    return 0
        return 0

    def _read(self) -> int:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 "):
            raise ConnectionError(f"not an HTTP response: {head[:40]!r}")
        status = int(head[9:12])
        length = -1
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length < 0:  # chunked: read to the last chunk
            while not rest.endswith(b"0\r\n\r\n"):
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                rest += chunk
            length = len(rest)
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            rest += chunk
        self.buf = rest[length:]
        return status

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class Drive:
    """`clients` threads each take the next item index until the time or the items run out."""

    def __init__(self, *, items: int, clients: int):
        self.lock = threading.Lock()
        self._next = iter(range(items))
        self.clients = clients
        self.stop_at = 0.0
        self.ready = threading.Barrier(clients + 1)

    def next(self) -> int | None:
        if time.monotonic() >= self.stop_at:
            return None
        with self.lock:
            return next(self._next, None)

    def run(self, client, seconds: float) -> float:
        """Starts the clients together, returns the seconds until the last one finished."""
        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.clients)]
        for t in threads:
            t.start()
        self.stop_at = time.monotonic() + seconds
        began = time.monotonic()
        self.ready.wait()
        for t in threads:
            t.join()
        return time.monotonic() - began


def closed_loop(*, port: int, requests: list[bytes], clients: int, seconds: float) -> dict:
    """`clients` connections each send the next request as soon as the last is answered."""
    drive = Drive(items=len(requests), clients=clients)
    ok: list[int] = []
    failed = [0]

    def client() -> None:
        conn = Conn(port)
        drive.ready.wait()
        mine, bad = [], 0
        while (i := drive.next()) is not None:
            if conn.send(requests[i]) == 200:
                mine.append(i)
            else:
                bad += 1
        conn.close()
        with drive.lock:
            ok.extend(mine)
            failed[0] += bad

    elapsed = drive.run(client, seconds)
    return {"ok": len(ok), "failed": failed[0], "seconds": elapsed, "rate": len(ok) / elapsed,
            "exhausted": len(ok) + failed[0] >= len(requests)}


def open_loop(*, port: int, requests: list[bytes], rate: float, clients: int = 16) -> dict:
    """Sends request i at start + i/rate (whatever the answers take); returns each send time.

    The scheduled time, not the actual one, is the event's start: a server that falls
    behind makes the events wait in the client, and that wait counts in the latency.
    """
    sent_at: list[float] = [0.0] * len(requests)
    status: list[int] = [0] * len(requests)
    t0 = time.time() + 0.2

    def client(j: int) -> None:
        conn = Conn(port)
        for i in range(j, len(requests), clients):
            at = t0 + i / rate
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)
            sent_at[i] = at
            status[i] = conn.send(requests[i])
        conn.close()

    threads = [threading.Thread(target=client, args=(j,), daemon=True) for j in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"sent_at": sent_at, "ok": sum(1 for s in status if s == 200), "failed": sum(1 for s in status if s != 200),
            "send_seconds": time.time() - t0}
