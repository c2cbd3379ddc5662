"""Local HTTP servers for the outbox's tests (127.0.0.1 only): a webhook receiver and fake SMS providers."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Recorder:
    """What a server received, and what it answers next (a queue of (status, body, headers))."""

    def __init__(self, answer: Callable[[dict], tuple[int, str, dict]] | None = None):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, str, dict]] = []
        self.answer = answer
        self.lock = threading.Lock()

    def next_answer(self, request: dict) -> tuple[int, str, dict]:
        with self.lock:
            self.requests.append(request)
            if self.answers:
                return self.answers.pop(0)
        return self.answer(request) if self.answer else (200, "ok", {})


class _Handler(BaseHTTPRequestHandler):
    # Headers and body are two writes: with Nagle's algorithm the body waits 40 ms for an ACK.
    disable_nagle_algorithm = True

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        if len(raw_body) < length:
            # The sender died mid-request (kill -9): nothing was delivered and nothing is
            # answered, so the sender sends it again; a real receiver drops it just the same.
            self.close_connection = True
            return
        body = raw_body.decode()
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        request = {"method": self.command, "path": parts.path, "query": query,
                   "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        status, text, headers = self.server.recorder.next_answer(request)
        raw = text.encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _handle

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the connects of 8 sending threads: each dropped
    # SYN waits a second to be sent again.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # a sender killed mid-request (the kill -9 test) is expected, not worth a traceback


class LocalServer:
    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.recorder = recorder
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def smsru_answer(request: dict) -> tuple[int, str, dict]:
    """SMS.ru as its docs show it (json=1): a send, and a status of a delivered message."""
    q = request["query"]
    if q.get("api_id") != "good-key":
        return 200, json.dumps({"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}), {}
    if request["path"] == "/sms/send":
        return 200, json.dumps({"status": "OK", "status_code": 100, "sms": {q["to"]: {
            "status": "OK", "status_code": 100, "sms_id": "000000-10000001"}}, "balance": 4122.56}), {}
    return 200, json.dumps({"status": "OK", "status_code": 100, "sms": {q["sms_id"]: {
        "status": "OK", "status_code": 103, "cost": 0.5, "status_text": "Сообщение доставлено"}}}), {}


def smsc_answer(request: dict) -> tuple[int, str, dict]:
    """SMSC.ru with fmt=3: {"id", "cnt"} or {"error", "error_code"}; status {"status": 1} is delivered."""
    q = request["query"]
    if q.get("psw") != "good-pass":
        return 200, json.dumps({"error": "authorise error", "error_code": 2}), {}
    if request["path"] == "/sys/send.php":
        return 200, json.dumps({"id": 77, "cnt": 1}), {}
    return 200, json.dumps({"status": 1, "last_date": "03.12.2026 10:00:00", "err": 0}), {}
