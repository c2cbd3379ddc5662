"""Telphin: extension events (dial-in, dial-out, answer, hangup) as form fields, by POST or GET.

Wire format: ../shared/PROTOCOLS.md section 4c (partly verified). Telphin's page "События
внутреннего номера" (ringme-confluence 1901921397) documents the subscription (`url`,
`event_type`, `method` GET or POST) and that the data is application/x-www-form-urlencoded, in the
query string of a GET or the body of a POST; and the fields `EventType` and `CallID` ("не
меняется при переадресациях"). Everything else is UNVERIFIED (an English mirror, ucom4b
18743379, and Telphin's integration guide): `CallerIDNum`, `CallerIDName`, `CalledDID` (the public
number the call came in on), `CalledNumber` (on dial-in: the extension rung; on dial-out: the
number dialled), `CallerExtension` / `CalledExtension` (`prefix*ext@domain`), `CallFlow` (IN/OUT),
`SubCallID` (one leg), `CallStatus` (CALLING; on hangup ANSWER, BUSY, NOANSWER, CANCEL,
CONGESTION, CHANUNAVAIL), `Bridged` (yes/no, only on hangups of IVR and queue extensions: did a
person take the call anywhere in the PBX), `Transfered`, `RemoteNumber`, `EventTime`,
`Duration`, `RecID`.

Authenticity: Telphin documents no signature, and a subscription is only a URL. The channel's
URL token is the shared secret (unguessable, rotated with the channel's secret). An
administrator who wants a second factor sets `secret_param` in the channel's settings and adds
`?<secret_param>=<channel secret>` to the subscription URL (or sends a header of that name);
then a request without it is refused (403) and nothing is stored. The parameter is cut from a
GET's stored query string, so the secret never lands in an event's body.

Mapping to facts (okno.telephony.calls), the call being `CallID`:
- dial-in: the call starts (inbound; customer `RemoteNumber`, else `CallerIDNum`; line
  `CalledDID`) and the extension in `CalledExtension`/`CalledNumber` rings on leg `SubCallID`;
- dial-out: the call starts (outbound, customer `CalledNumber`, the extension in
  `CallerExtension`); one marked `Transfered=yes` is a leg of a call already under way, so it
  adds nothing (the transfer's target reports its own dial-in and answer);
- answer: the extension answers its leg;
- hangup: its leg ends (CallStatus BUSY: busy; ANSWER: answered). A hangup carrying `Bridged`
  comes from the IVR or a queue and speaks for the whole call: yes = a person answered, no =
  nobody did (missed, unless a leg said busy). It names no employee: the IVR is not one.
  calls.py ends a call at any end fact, so a leg's NOANSWER hangup while the IVR rings the next
  extension makes the call missed for a moment (a callback opens, and closes when it is answered).
- `RecID` on a hangup names the call's recording.
Direction comes from the event type (dial-in, dial-out), else from `CallFlow`; an event that
states neither leaves the direction to the call's other events.

Time: `EventTime` is, per a third-party integration quoting Telphin's docs, microseconds since
1970 (UNVERIFIED); unix seconds, milliseconds and "YYYY-MM-DD HH:MM:SS" (the channel's `timezone`,
Europe/Moscow by default) are read too, and an event without a readable time is dated when it
reached us (InboundEvent.received_at, stored before acknowledging). `Duration` (per SubCallID)
is not used: each event carries its own time, and whether Duration includes ringing is unknown.
UNVERIFIED as well: what Telphin expects back (we answer 200 with an empty body) and whether it
retries.

Click-to-call and recordings go through Telphin's REST API (okno.telephony.adapters.telphin_api).
"""

import hmac
from datetime import UTC, datetime, timedelta
from typing import IO
from urllib.parse import parse_qs, unquote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse

from okno.inbox.adapters.base import Ignored, Malformed, Refused, UnknownEvent
from okno.telephony.adapters.base import PbxAdapter
from okno.telephony.adapters.telphin_api import telphin_callback, telphin_record
from okno.telephony.calls import CallFact

CALL_EVENTS = ("dial-in", "dial-out", "answer", "hangup")
MESSAGE_EVENTS = ("message-in", "message-out")  # SMS through the PBX: kept, not a call
STATUS_OUTCOMES = {"BUSY": "busy", "ANSWER": "answered"}
# 10**14 µs is 1973 and 10**14 s is far beyond any date: a 15+ digit EventTime can only be
# microseconds; 12-14 digits are milliseconds (10**11 ms is 1973, 10**11 s the year 5138).
MICROSECONDS_FROM, MILLISECONDS_FROM = 10**14, 10**11
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _fields(body: bytes) -> dict[str, str]:
    try:
        return {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError as exc:
        raise Malformed(f"form data is not UTF-8: {exc}") from exc


def telphin_extension(value: str) -> str:
    """The extension in Telphin's `prefix*ext@domain` (`13596*106@sipproxy.telphin.ru` -> `106`)."""
    value = value.strip().partition("@")[0]
    return value.partition("*")[2] if "*" in value else value


def telphin_time(value: str, zone: ZoneInfo) -> datetime | None:
    """EventTime as an aware UTC datetime, or None when it is not in a form we know."""
    value = value.strip()
    if value.isdigit():
        number = int(value)
        if number >= MICROSECONDS_FROM:
            return EPOCH + timedelta(microseconds=number)
        if number >= MILLISECONDS_FROM:
            return EPOCH + timedelta(milliseconds=number)
        return EPOCH + timedelta(seconds=number) if number > 0 else None
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            # UTC, so that facts of one call compare as text (calls._order sorts isoformat strings)
            return datetime.strptime(value, layout).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    return None


def _zone(channel) -> ZoneInfo:
    try:
        return ZoneInfo(str(channel.settings.get("timezone") or "Europe/Moscow"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


def _number(value: str) -> str:
    """A customer's number; an extension (`13596*101`, `101@domain`) is not one."""
    value = value.strip()
    return "" if "*" in value or "@" in value else value


def telphin_facts(f: dict[str, str], *, at: datetime) -> list[CallFact]:
    """One Telphin event's fields -> the facts it states about its call."""
    kind = f.get("EventType", "").strip().lower()
    call_id = f.get("CallID", "").strip()
    if not call_id:
        raise Malformed(f"{kind} without CallID")
    transferred = f.get("Transfered", "").strip().lower() == "yes"
    if kind == "dial-out" and transferred:
        return []
    flow = {"dial-in": "in", "dial-out": "out"}.get(kind) or {"IN": "in", "OUT": "out"}.get(
        f.get("CallFlow", "").strip().upper(), "")
    if transferred:
        flow = ""  # a leg of a call already under way: the call's first events say which way it went
    if flow == "out":
        extension, customer, line = telphin_extension(f.get("CallerExtension", "")), f.get("CalledNumber", ""), ""
    elif flow == "in":
        extension = telphin_extension(f.get("CalledExtension") or f.get("CalledNumber", ""))
        customer, line = f.get("RemoteNumber") or f.get("CallerIDNum", ""), f.get("CalledDID", "")
    else:
        extension = telphin_extension(f.get("CalledExtension") or f.get("CallerExtension", ""))
        customer, line = "", ""
    common = {"call_id": call_id, "at": at, "direction": flow, "customer": _number(customer), "line": line.strip()}
    leg = f.get("SubCallID", "").strip()
    if kind == "dial-in":
        return [CallFact(kind="start", **common),
                CallFact(kind="ring", leg=leg, extension=extension, **common)]
    if kind == "dial-out":
        return [CallFact(kind="start", extension=extension, **common)]
    if kind == "answer":
        return [CallFact(kind="answer", leg=leg, extension=extension, **common)]
    bridged = f.get("Bridged", "").strip().lower()
    if bridged:
        facts = [CallFact(kind="end", outcome="answered" if bridged == "yes" else "", **common)]
    else:
        status = f.get("CallStatus", "").strip().upper()
        facts = [CallFact(kind="end", leg=leg, extension=extension, outcome=STATUS_OUTCOMES.get(status, ""),
                          **common)]
    recording = f.get("RecID", "").strip()
    if recording:
        facts.append(CallFact(call_id=call_id, kind="recording", recording=recording, leg=leg))
    return facts


class TelphinAdapter(PbxAdapter):
    kind = "telphin"
    # A hangup's RecID may name a file still being written (UNVERIFIED how long that takes).
    recording_delay_seconds = 30

    def _secret_param(self, channel) -> str:
        return str(channel.settings.get("secret_param") or "").strip()

    def verify(self, request: HttpRequest, channel) -> None:
        name = self._secret_param(channel)
        if not name:
            return  # the channel's unguessable URL is the shared secret
        given = request.GET.get(name) or request.headers.get(name) or ""
        if not hmac.compare_digest(given.encode(), channel.secret.encode()):
            raise Refused(f"Wrong or missing {name}", status=403)

    def query_body(self, request: HttpRequest, channel) -> bytes:
        """A GET subscription's event: the query string as sent, less our secret parameter."""
        query = request.META.get("QUERY_STRING", "")
        name = self._secret_param(channel)
        if name:
            query = "&".join(p for p in query.split("&") if unquote_plus(p.partition("=")[0]) != name)
        try:
            return query.encode("iso-8859-1")  # WSGI hands over the raw bytes decoded as latin-1 (PEP 3333)
        except UnicodeEncodeError:
            return query.encode()

    def event_type(self, body: bytes, content_type: str) -> str:
        try:
            return _fields(body).get("EventType", "")
        except Malformed:
            return ""

    def acknowledge(self, request: HttpRequest, channel, event) -> HttpResponse:
        return HttpResponse(status=200)  # what Telphin reads is UNVERIFIED; a bare 200 says "got it"

    def parse(self, body: bytes, content_type: str, channel) -> list:
        raise Malformed("a Telphin event needs its time of receipt")  # parse_event has it

    def parse_event(self, event) -> list[CallFact]:
        f = _fields(bytes(event.body))
        if "EventType" not in f:
            raise Malformed("no EventType: not a Telphin event")
        kind = f["EventType"].strip().lower()
        if kind in MESSAGE_EVENTS:
            raise Ignored(f"{kind}: an SMS, not a call")
        if kind not in CALL_EVENTS:
            raise UnknownEvent(f"Telphin event {kind!r} is not handled")
        at = telphin_time(f.get("EventTime", ""), _zone(event.channel)) or event.received_at
        return telphin_facts(f, at=at)

    can_originate = True

    def originate(self, channel, *, extension: str, number: str, command_id: str) -> None:
        telphin_callback(channel, extension=extension, number=number)

    def recording_fetch(self, channel, recording_id: str, sink: IO[bytes], *, max_bytes: int) -> str:
        return telphin_record(channel, recording_id, sink, max_bytes=max_bytes)
