"""Mango Office VPBX (API Realtime): signed form posts under the channel's base URL.

Wire format: ../shared/PROTOCOLS.md section 4a (the vendor's PDF "MangoOffice VPBX API" v1.9/1.10).
Mango POSTs `vpbx_api_key`, `sign` and `json` (a JSON text) to `<base>events/call`,
`events/summary`, `events/recording`, ...; `sign = sha256(vpbx_api_key + json + vpbx_api_salt)`
over the json text as received. The answer is read for its status code only.

Mapping to facts (okno.telephony.calls):
- the call is Mango's `entry_id` (stable across the call's legs); a leg is its `call_id`;
- events/call `Appeared` at `location=ivr` starts the call; at `abonent` it rings an extension
  (inbound) or starts an employee's outbound call; `Connected` at `ivr` is the PBX answering,
  at `abonent` a person answering; `Disconnected` ends the leg (1121: busy);
- events/summary (the final event) restates the start, the answer (`talk_time`, 0 = none) and
  the end, and the direction (`call_direction` 0 internal, 1 inbound, 2 outbound);
- events/recording `Completed` with completion code 1000 names the recording.
Ids and times come as strings or numbers (the vendor's own examples use both).
UNVERIFIED: the "ping" the newer "API Коннектор" sends to check a connection (not in the PDF);
the meaning of disconnect reasons beyond those the PDF lists.
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import IO
from urllib.parse import parse_qs, quote, urlencode

from django.http import HttpRequest, HttpResponse

from okno.inbox.adapters.base import Ignored, Malformed, Refused, SendFailed, UnknownEvent, json_loads
from okno.telephony.adapters.base import PbxAdapter
from okno.telephony.calls import CallFact
from okno.telephony.pbx_api import api_base, pbx_call

BUSY_REASONS = {"1121"}  # "вызываемый абонент занят"
API_URL = "https://app.mango-office.ru/vpbx/"
# How long a recording link we make stays valid: the worker downloads at once, a browser sent
# to it by our view starts playing within seconds.
LINK_SECONDS = 600
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def mango_sign(api_key: str, payload: str, api_salt: str) -> str:
    return hashlib.sha256((api_key + payload + api_salt).encode()).hexdigest()


def _fields(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise Malformed(f"form body is not UTF-8: {exc}") from exc
    return {k: v[-1] for k, v in parsed.items()}


def _at(value) -> datetime | None:
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


def _int(value) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def _party(data: dict, name: str) -> dict:
    party = data.get(name)
    return party if isinstance(party, dict) else {}


def _direction(src: dict, dst: dict) -> str:
    if src.get("extension") and dst.get("extension"):
        return "internal"
    return "out" if src.get("extension") else "in"


def call_facts(data: dict) -> list[CallFact]:
    """events/call -> facts."""
    entry, leg = str(data.get("entry_id") or ""), str(data.get("call_id") or "")
    if not entry:
        raise Malformed("events/call without entry_id")
    src, dst = _party(data, "from"), _party(data, "to")
    direction = _direction(src, dst)
    customer = str((dst if direction == "out" else src).get("number") or "")
    employee = str((src if direction == "out" else dst).get("extension") or "")
    line = str(dst.get("line_number") or data.get("line_number") or "")
    common = {"call_id": entry, "at": _at(data.get("timestamp")), "leg": leg, "direction": direction,
              "customer": customer if direction != "internal" else "", "line": line, "seq": _int(data.get("seq"))}
    state, location = str(data.get("call_state") or ""), str(data.get("location") or "")
    if state == "Appeared":
        if location == "abonent" and direction == "in":
            return [CallFact(kind="ring", extension=employee, **common)]
        return [CallFact(kind="start", extension=employee if direction == "out" else "", **common)]
    if state == "Connected":
        if location == "abonent":
            return [CallFact(kind="answer", extension=employee, **common)]
        return [CallFact(kind="ivr", **common)]
    if state == "Disconnected":
        reason = str(data.get("disconnect_reason") or "")
        return [CallFact(kind="end", extension=employee, outcome="busy" if reason in BUSY_REASONS else "", **common)]
    if state == "OnHold":
        return []
    raise UnknownEvent(f"call_state {state!r} is not handled")


def summary_facts(data: dict) -> list[CallFact]:
    """events/summary -> the start, the answer (if any) and the end of the whole call."""
    entry = str(data.get("entry_id") or "")
    if not entry:
        raise Malformed("events/summary without entry_id")
    src, dst = _party(data, "from"), _party(data, "to")
    direction = {"0": "internal", "1": "in", "2": "out"}.get(str(data.get("call_direction")), _direction(src, dst))
    customer = str((dst if direction == "out" else src).get("number") or "") if direction != "internal" else ""
    employee = str((src if direction == "out" else dst).get("extension") or "")
    common = {"call_id": entry, "direction": direction, "customer": customer,
              "line": str(data.get("line_number") or "")}
    facts = [CallFact(kind="start", at=_at(data.get("create_time")),
                      extension=employee if direction == "out" else "", **common)]
    talk = _at(data.get("talk_time"))
    if talk is not None:  # talk_time 0 = nobody talked, whatever entry_result says
        facts.append(CallFact(kind="answer", at=talk, extension=employee, **common))
    reason = str(data.get("disconnect_reason") or "")
    facts.append(CallFact(kind="end", at=_at(data.get("end_time")), **common,
                          outcome="busy" if talk is None and reason in BUSY_REASONS else ""))
    return facts


def recording_facts(data: dict) -> list[CallFact]:
    if str(data.get("recording_state")) != "Completed" or _int(data.get("completion_code") or 1000) != 1000:
        return []
    entry, recording = str(data.get("entry_id") or ""), str(data.get("recording_id") or "")
    if not entry or not recording:
        raise Malformed("events/recording without entry_id or recording_id")
    return [CallFact(call_id=entry, kind="recording", recording=recording, leg=str(data.get("call_id") or ""))]


class MangoAdapter(PbxAdapter):
    kind = "mango"
    required_settings = ("api_key", "api_salt")
    # Mango posts each event type to its own path under the channel's URL.
    path_events = True

    def verify(self, request: HttpRequest, channel) -> None:
        fields = _fields(request.body)
        key, sign, payload = fields.get("vpbx_api_key", ""), fields.get("sign", ""), fields.get("json", "")
        expected_key, salt = str(channel.settings.get("api_key", "")), str(channel.settings.get("api_salt", ""))
        if not expected_key or not hmac.compare_digest(key.encode(), expected_key.encode()):
            raise Refused("Wrong vpbx_api_key", status=401)
        if not hmac.compare_digest(sign.lower().encode(), mango_sign(key, payload, salt).encode()):
            raise Refused("Wrong sign", status=403)

    def acknowledge(self, request: HttpRequest, channel, event) -> HttpResponse:
        return HttpResponse(status=200)  # Mango reads the status code only

    def parse(self, body: bytes, content_type: str, channel) -> list:
        raise Malformed("a Mango event needs its path")  # parse_event has it

    def parse_event(self, event) -> list[CallFact]:
        path = event.event_type.strip("/")
        try:
            data = json_loads(_fields(bytes(event.body)).get("json", ""))
        except json.JSONDecodeError as exc:
            raise Malformed(f"json field is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise Malformed("json field is not an object")
        if path.endswith("events/call"):
            return call_facts(data)
        if path.endswith("events/summary"):
            return summary_facts(data)
        if path.endswith("events/recording"):
            return recording_facts(data)
        if path.startswith("result/") or path.endswith(("events/dtmf", "events/sms")):
            raise Ignored(f"{path}: nothing to record")
        raise UnknownEvent(f"Mango path {path!r} is not handled")

    @staticmethod
    def _keys(channel) -> tuple[str, str]:
        return str(channel.settings.get("api_key", "")), str(channel.settings.get("api_salt", ""))

    def _command(self, channel, path: str, data: dict, **options):
        """A signed form post to Mango's API (`vpbx_api_key`, `sign`, `json`), as Mango signs its own."""
        payload = json.dumps(data, separators=(",", ":"))
        key, salt = self._keys(channel)
        body = urlencode({"vpbx_api_key": key, "sign": mango_sign(key, payload, salt), "json": payload}).encode()
        return pbx_call(f"{api_base(channel, API_URL)}/{path}", vendor="Mango", method="POST", data=body,
                        headers=FORM, **options)

    can_originate = True

    def originate(self, channel, *, extension: str, number: str, command_id: str) -> None:
        """Mango's callback command: the employee's phone rings, then the customer's number.

        UNVERIFIED (not in PROTOCOLS.md; the form of a public client library of the same API,
        dasshit/Python-Mango-Office-API): POST `<api_url>commands/callback` with `vpbx_api_key`,
        `sign` and `json` = {"command_id", "from": {"extension"}, "to_number"}; success answers
        `{"result": 1000}` (Mango's result code for "done").
        """
        answer = self._command(channel, "commands/callback", {
            "command_id": command_id, "from": {"extension": extension}, "to_number": number.lstrip("+")})
        try:
            result = json.loads(answer.body or b"{}").get("result")
        except (ValueError, AttributeError):
            result = None
        if str(result) != "1000":
            raise SendFailed(f"Mango refused the call: {answer.body[:300]!r}", retry=False)

    def recording_link(self, channel, recording_id: str, *, action: str = "play") -> str:
        """PROTOCOLS.md 4a: `<api_url>queries/recording/link/<id>/<action>/<key>/<timestamp>/<sign>`,
        sign = sha256(key + timestamp + recording_id + salt), made here without asking Mango.

        The timestamp is read as the link's expiry (UNVERIFIED: the PDF's wording; public clients
        pass now + 5 min to now + 3 h). UNVERIFIED as well: how an id holding "/" is written in the
        path (we percent-encode it), and that the link works at all: third-party notes say the
        account must switch such links on; `recording_via: "post"` uses the signed API instead."""
        key, salt = self._keys(channel)
        expires = str(int(time.time()) + LINK_SECONDS)
        sign = hashlib.sha256((key + expires + recording_id + salt).encode()).hexdigest()
        return (f"{api_base(channel, API_URL)}/queries/recording/link/{quote(recording_id, safe=':=+@')}/"
                f"{action}/{quote(key, safe='')}/{expires}/{sign}")

    def recording_fetch(self, channel, recording_id: str, sink: IO[bytes], *, max_bytes: int) -> str:
        """The recording's file, through its link, or with `recording_via: "post"` through the signed
        `queries/recording/post` {recording_id, action: "download"}, which answers with a redirect to
        a one-time link on Mango's file store (UNVERIFIED: not in PROTOCOLS.md; third-party notes)."""
        options = {"sink": sink, "max_bytes": max_bytes, "timeout": 30}
        if channel.settings.get("recording_via") == "post":
            answer = self._command(channel, "queries/recording/post",
                                   {"recording_id": recording_id, "action": "download"}, **options)
        else:
            answer = pbx_call(self.recording_link(channel, recording_id, action="download"), vendor="Mango",
                              **options)
        return answer.content_type
