"""Calling the site's real WSGI callable (okno.wsgi.application) with a real environ.

Django's test Client enters below okno.wsgi, so it never sees the /hooks/ entry
(okno.inbox.hooks_wsgi); these helpers go through it as granian does.
"""

import io
import sys
from dataclasses import dataclass, field
from urllib.parse import urlencode

from okno.wsgi import application


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Called from start_response, before the body is handed over: what the sender is told about.
    at_start: object = None


def wsgi_call(method: str, path: str, body: bytes = b"", *, query: str = "", headers: dict | None = None,
              remote_addr: str = "127.0.0.1", on_start=None) -> Answer:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "testserver",
        "REMOTE_ADDR": remote_addr, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    answer = Answer(status=0)

    def start_response(status: str, response_headers: list, exc_info=None) -> None:
        answer.status, answer.headers = int(status[:3]), dict(response_headers)
        answer.at_start = on_start() if on_start else None

    chunks = application(environ, start_response)
    try:
        answer.body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer


def post_form(path: str, fields: dict, **kwargs) -> Answer:
    return wsgi_call("POST", path, urlencode(fields).encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})},
                     **kwargs)
