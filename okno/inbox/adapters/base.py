"""What every channel adapter provides; the ingest view and the drain call only this."""

import hashlib
import json
import re
import sys

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
    # True when the sender's phones and e-mails are what they typed (a web form, a chat's pre-chat
    # fields): anyone can type a stranger's number, so they find a card but never merge two
    # (contacts.identify.Identity.typed). A PBX's caller id, an e-mail's From and a messenger's
    # own ids are the provider's.
    identity_typed = False
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


_JSON_START = re.compile(rb"\s*[\[{]")


def _json_error(exc: Exception) -> str | None:
    """What a hostile JSON text made Python's json raise, in words; None for any other error."""
    if isinstance(exc, RecursionError):
        # Python's parser recurses per level and gives up near sys.getrecursionlimit() (1,000).
        return "JSON nested too deep to read"
    if isinstance(exc, ValueError) and not isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        # An integer over sys.get_int_max_str_digits() (4,300) digits is refused: converting
        # one costs CPU quadratic in its length.
        return f"a number longer than {sys.get_int_max_str_digits()} digits"
    return None


def json_hazard(body: bytes) -> str | None:
    """Why this body, when it is JSON, cannot be read by Python's json at all (nested too deep,
    an integer too long), which raises RecursionError or ValueError, not JSONDecodeError, where
    the adapters parse it; None for any other body, JSON, malformed JSON or not JSON.

    One parse, in C (a 2 KB chat event: ~15 us; 1 MB: ~10 ms); a RecursionError comes within
    the first 1,000 levels, whatever the body's depth."""
    if not _JSON_START.match(body):
        return None
    try:
        json.loads(body)
    except (RecursionError, ValueError) as exc:
        return _json_error(exc)
    return None


def json_loads(raw: bytes | str):
    """json.loads for what a sender posted: JSON too deep or with an integer too long raises
    json.JSONDecodeError with the reason, as any other unreadable JSON does (never RecursionError
    or a bare ValueError, which every caller would have to know of)."""
    try:
        return json.loads(raw)
    except (RecursionError, ValueError) as exc:
        reason = _json_error(exc)
        if reason is None:
            raise
        raise json.JSONDecodeError(reason, raw if isinstance(raw, str) else "", 0) from exc


def json_body(body: bytes) -> dict:
    try:
        data = json_loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Malformed("JSON body is not an object")
    return data
