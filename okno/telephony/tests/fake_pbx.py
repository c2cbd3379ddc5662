"""A local stand-in for a PBX's HTTP API (Mango, Zadarma, Telphin): no network in tests.

It records every request and answers by path prefix: first from answers queued for that prefix
(`queue`), then from a standing answer (`serve`), else 404. An answer is (status, headers, body).
"""

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# A few bytes that read as MP3 (an ID3v2 tag, then an MPEG frame header) and as WAV.
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x10\x00\x00\x00\x01\x00\x01\x00" + b"\x00" * 300


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def json(self):
        return json.loads(self.body or b"null")


def as_json(status: int, data) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def audio(data: bytes = MP3, content_type: str = "audio/mpeg") -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": content_type}, data


class FakePbx:
    def __init__(self):
        self.requests: list[Seen] = []
        self.queued: dict[str, deque] = {}
        self.standing: dict[str, tuple[int, dict, bytes]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = Seen(self.command, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                            {k.lower(): v for k, v in self.headers.items()}, body)
                fake.requests.append(seen)
                status, headers, raw = fake.answer_for(parts.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value.replace("{base}", fake.url))
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer_for(self, path: str) -> tuple[int, dict, bytes]:
        for prefix in sorted(self.queued, key=len, reverse=True):
            if path.startswith(prefix) and self.queued[prefix]:
                return self.queued[prefix].popleft()
        for prefix in sorted(self.standing, key=len, reverse=True):
            if path.startswith(prefix):
                return self.standing[prefix]
        return as_json(404, {"error": "not found"})

    def queue(self, prefix: str, *answers: tuple[int, dict, bytes]) -> None:
        self.queued.setdefault(prefix, deque()).extend(answers)

    def serve(self, prefix: str, answer: tuple[int, dict, bytes]) -> None:
        self.standing[prefix] = answer

    def to(self, prefix: str) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def start(self) -> "FakePbx":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
