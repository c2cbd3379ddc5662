"""What every channel adapter provides; the ingest view and the drain call only this."""

import hashlib
import json
import re

from django.http import HttpRequest, HttpResponse

from okno.inbox.items import InboundItem

OK_BODY = b'{"result": "ok"}'


def ok_response() -> HttpResponse:
    """JsonResponse({"result": "ok"}) without encoding it for every webhook."""
    return HttpResponse(OK_BODY, content_type="application/json")


class Refused(Exception):
    """The request is not from the provider (wrong secret/signature): nothing is stored.

    With keep=True the request is the provider's (its signature holds) but is refused all the
    same (a stale or replayed signed event): stored as rejected, with the reason, and refused."""

    def __init__(self, reason: str, status: int = 403, *, keep: bool = False):
        super().__init__(reason)
        self.status = status
        self.keep = keep


class Malformed(Exception):
    """The stored body cannot be read as the provider's format: the event is kept, marked rejected."""


class UnknownEvent(Exception):
    """A well-formed event of a type we do not handle: kept, acknowledged, marked unknown."""


class SendFailed(Exception):
    def __init__(self, reason: str, *, retry: bool = True):
        super().__init__(reason)
        self.retry = retry


class Ignored(Exception):
    """A well-formed event that carries nothing to record (a probe, a status ping)."""


class ChannelAdapter:
    kind: str = ""
    # Kinds of the settings an administrator gives when creating the channel.
    required_settings: tuple[str, ...] = ()

    def verify(self, request: HttpRequest, channel) -> None:
        """Raises Refused when the request does not prove it comes from the provider."""

    def dedup_key(self, body: bytes, content_type: str) -> str | None:
        """The provider's id of this delivery; by default a hash of the body."""
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def event_type(self, body: bytes, content_type: str) -> str:
        return ""

    def acknowledge(self, request: HttpRequest, channel, event) -> HttpResponse:
        """The answer the provider reads; built without waiting for the worker.

        `event` is the stored event: views_hooks.Received for a new one, the InboundEvent row for
        a delivery already held (the same attribute names)."""
        return ok_response()

    can_reply = False
    # True when the provider posts each event type to its own path under the channel's URL
    # (Mango's events/call, events/summary): the path is stored as the event's type.
    path_events = False

    def record(self, *, channel, item) -> None:
        """Records an item that is not a message (a call fact): adapters of other domains."""
        raise UnknownEvent(f"{self.kind} produced {type(item).__name__}, which it does not record")

    def send(self, channel, conversation, message) -> str:
        """Sends an operator's reply; returns the provider's id of the sent message.

        Raises SendFailed(retry=True) for a temporary failure (network, 5xx, rate limit)."""
        raise SendFailed(f"channel kind {self.kind!r} cannot send replies", retry=False)

    def parse(self, body: bytes, content_type: str, channel) -> list[InboundItem]:
        """Raw body -> what happened. Raises Malformed, UnknownEvent or Ignored."""
        raise NotImplementedError

    def recorded(self, channel, item: InboundItem) -> None:
        """Called once the item's message is newly recorded (in the recording transaction), for
        follow-up work such as fetching media; parsing itself has no side effects, since the
        drain may parse an event twice (its batch path, then the one-by-one path)."""

    def parse_event(self, event) -> list[InboundItem]:
        """The stored event -> items. Override when the body alone lacks something the event row
        has: Jivo sends no timestamps for "accepted" or "finished", so its time of receipt is it."""
        return self.parse(bytes(event.body), event.content_type, event.channel)


# What no vendor's JSON comes near, and what Python's json cannot take: a body nested deeper
# than JSON_MAX_DEPTH (Python's parser raises RecursionError near 1,000 levels, and every later
# walk of the data, such as re-serialising it, would too), or a number longer than
# JSON_MAX_DIGITS (Python refuses to read an integer over 4,300 digits with a ValueError, and
# converting one near the limit costs CPU). Telegram's updates nest about 8 levels, Jivo's 4,
# their ids have at most 20 digits.
JSON_MAX_DEPTH = 100
JSON_MAX_DIGITS = 100
_JSON_START = re.compile(rb"\s*[\[{]")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_LONG_NUMBER = re.compile(rb"\d{%d}" % (JSON_MAX_DIGITS + 1))


def json_hazard(body: bytes) -> str | None:
    """Why this body, if it is JSON, must not be parsed: nested deeper than JSON_MAX_DEPTH or
    holding a number longer than JSON_MAX_DIGITS; None for any other body (JSON or not).

    Cheap for ordinary bodies: two byte counts and one regular-expression search, all in C. Only
    a body with more brackets than the depth allowed, or a long run of digits (which may be
    inside a string), is looked at closely: its strings taken out, then its brackets counted."""
    if not _JSON_START.match(body):
        return None
    long_digits = _LONG_NUMBER.search(body) is not None
    if body.count(b"{") + body.count(b"[") <= JSON_MAX_DEPTH and not long_digits:
        return None
    outside_strings = _JSON_STRING.sub(b'""', body)
    if long_digits and _LONG_NUMBER.search(outside_strings):
        return f"a number longer than {JSON_MAX_DIGITS} digits"
    depth = 0
    for bracket in _NOT_BRACKET.sub(b"", outside_strings):
        depth += 1 if bracket in b"[{" else -1
        if depth > JSON_MAX_DEPTH:
            return f"JSON nested deeper than {JSON_MAX_DEPTH} levels"
    return None


def json_loads(raw: bytes | str):
    """json.loads for what a sender posted: a hazardous body (json_hazard) raises
    json.JSONDecodeError, as any other unreadable JSON does, never RecursionError or ValueError."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    hazard = json_hazard(data)
    if hazard:
        raise json.JSONDecodeError(hazard, raw if isinstance(raw, str) else "", 0)
    try:
        return json.loads(raw)
    except (RecursionError, ValueError) as exc:  # JSONDecodeError is a ValueError too
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError(str(exc)[:200], raw if isinstance(raw, str) else "", 0) from exc


def json_body(body: bytes) -> dict:
    try:
        data = json_loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Malformed("JSON body is not an object")
    return data
