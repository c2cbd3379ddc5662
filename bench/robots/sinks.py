"""Where the robots' sends arrive, on 127.0.0.1 only: an SMTP sink and a webhook receiver.

Both keep one (key, time) per delivery: the e-mail's X-Okno-Key header (its Message-ID is made
from the same key) and the webhook's `webhook-id`, so repeats are counted raw and by distinct
key. The receiver checks each Standard Webhooks signature with the endpoint's secret and answers
200 at once, as a receiver that queues what it gets would.
"""

import base64
import hashlib
import hmac
import socket
import threading
import time
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deliveries:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[str, float]] = []
        self.bad = 0
        self.cut = 0

    def add(self, key: str, ok: bool = True) -> None:
        with self.lock:
            self.items.append((key, time.time()))
            self.bad += not ok

    def count(self) -> int:
        return len(self.items)

    def clear(self) -> None:
        with self.lock:
            self.items = []
            self.bad = 0
            self.cut = 0

    def first_seen(self) -> dict[str, float]:
        seen: dict[str, float] = {}
        for key, at in list(self.items):
            seen.setdefault(key, at)
        return seen


class _SmtpHandler:
    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope):
        headers = self.parser.parsebytes(envelope.content)
        key = headers.get("X-Okno-Key") or headers.get("Message-ID") or ""
        self.deliveries.add(key.strip(), ok=bool(headers.get("Message-ID")))
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on 127.0.0.1 in a thread of this process."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.deliveries = Deliveries()
        self.port = free_port()
        self.controller = Controller(_SmtpHandler(self.deliveries), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the sender was killed mid-request: nothing was delivered
            self.server.deliveries.cut += 1
            return
        msg_id = self.headers.get("webhook-id", "")
        stamp = self.headers.get("webhook-timestamp", "")
        signature = self.headers.get("webhook-signature", "")
        secret = self.server.secret
        ok = False
        if secret:
            key = base64.b64decode(secret.removeprefix("whsec_"))
            mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
            ok = ("v1," + base64.b64encode(mac).decode()) in signature.split()
        self.server.deliveries.add(msg_id, ok=ok)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # a sender killed mid-request (the kill -9 run) is expected


class WebhookReceiver:
    def __init__(self) -> None:
        self.deliveries = Deliveries()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.deliveries = self.deliveries
        self.httpd.secret = ""
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/bench-robots"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
