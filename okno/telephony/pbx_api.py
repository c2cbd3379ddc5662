"""Requests we make to a PBX's own API (click-to-call, recordings): one transport for every vendor.

urllib with a socket timeout, and one mapping of what goes wrong to SendFailed: unreachable, a
timeout, 408, 429 or 5xx are temporary (retry=True); any other refusal is final and keeps a short
excerpt of the PBX's answer, which says why. A body can be copied into a file (`sink`) in chunks
under a size limit, so a long recording never sits whole in the worker's memory.

Redirects are followed (Mango answers a recording request with a redirect to its file store), but
an `Authorization` header is dropped when a redirect leaves the host: a bearer token is for the
PBX's API, not for wherever it sends us.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO
from urllib.parse import urlsplit

from okno.inbox.adapters.base import SendFailed

# A PBX that has not said a word in this long is down (per socket operation, not the whole download).
TIMEOUT_SECONDS = 15
# An API's JSON answer: anything longer is not one.
ANSWER_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024
EXCERPT_CHARS = 300


class PbxRefused(SendFailed):
    """The PBX answered with an HTTP error status (kept, so a caller can react to 401)."""

    def __init__(self, reason: str, *, status: int, retry: bool):
        super().__init__(reason, retry=retry)
        self.status = status


@dataclass(frozen=True)
class PbxAnswer:
    status: int
    content_type: str  # lower case, without parameters; "" when the PBX named none
    headers: Message
    body: bytes = b""  # empty when the body went to a sink
    size: int = 0


class _RedirectKeepingSecrets(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


_opener = urllib.request.build_opener(_RedirectKeepingSecrets)


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return f": {text[:EXCERPT_CHARS]}" if text else ""


def _content_type(headers: Message) -> str:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _read(response, *, vendor: str, sink: IO[bytes] | None, max_bytes: int) -> PbxAnswer:
    status, headers = response.status, response.headers
    if sink is None:
        body = response.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise SendFailed(f"{vendor} answered more than {max_bytes} bytes", retry=False)
        return PbxAnswer(status, _content_type(headers), headers, body, len(body))
    size = 0
    while chunk := response.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise SendFailed(f"{vendor} sent a file over {max_bytes} bytes", retry=False)
        try:
            sink.write(chunk)
        except OSError as exc:  # our disk, not the PBX: say so rather than "unreachable"
            raise SendFailed(f"could not keep {vendor}'s file: {exc}") from exc
    return PbxAnswer(status, _content_type(headers), headers, b"", size)


def pbx_call(url: str, *, vendor: str, method: str = "GET", data: bytes | None = None,
             headers: dict[str, str] | None = None, sink: IO[bytes] | None = None,
             max_bytes: int = ANSWER_BYTES, timeout: float = TIMEOUT_SECONDS) -> PbxAnswer:
    """One request to a PBX's API; raises SendFailed (PbxRefused for an HTTP error status).

    `vendor` names the PBX in errors, which people read on the request or the call. Errors never
    carry the URL: some PBXes sign their links with the API key in the path (Mango)."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _opener.open(request, timeout=timeout) as response:
            return _read(response, vendor=vendor, sink=sink, max_bytes=max_bytes)
    except urllib.error.HTTPError as exc:
        try:
            excerpt = _excerpt(exc.read(EXCERPT_CHARS))
        except OSError:
            excerpt = ""
        raise PbxRefused(f"{vendor} answered {exc.code}{excerpt}", status=exc.code,
                         retry=exc.code >= 500 or exc.code in (408, 429)) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SendFailed(f"{vendor} is unreachable: {reason}") from exc


def json_answer(answer: PbxAnswer, *, vendor: str) -> dict:
    """The answer's JSON object; a PBX that answers 2xx with something else has refused."""
    try:
        data = json.loads(answer.body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SendFailed(f"{vendor} answered something that is not JSON{_excerpt(answer.body)}", retry=False)
    return data


def api_base(channel, default: str) -> str:
    """The PBX's API root: the channel's `api_url` setting (tests point it at a local fake server)."""
    return str(channel.settings.get("api_url") or default).rstrip("/")
