"""Zadarma: NOTIFY_* form posts signed with HMAC-SHA1, and the `zd_echo` check of the URL.

Wire format: ../shared/PROTOCOLS.md section 4b (the vendor's PHP library zadarma/user-api-v1,
lib/Webhook/*.php and Client::encodeSignature). The `Signature` header is
base64(hex(HMAC-SHA1(api_secret, the event's signed fields concatenated))); which fields are
signed depends on the event. Before it sends events Zadarma checks the URL with
`GET ?zd_echo=<random>`, answered with the bare value.

Zadarma's events carry the call's start (`call_start`) but not their own time: an extension
ringing (NOTIFY_INTERNAL), answering (NOTIFY_ANSWER) or the IVR (NOTIFY_IVR) is dated when the
event reached us (InboundEvent.received_at, stored before acknowledging, so the order of
processing does not matter); the end is `call_start + duration`.

Zadarma's API (click-to-call, recordings) is called with the channel's `api_key` and
`api_secret`, signed as the vendor's client signs (zadarma_api_sign); `api_url` overrides
https://api.zadarma.com. A recording is named by NOTIFY_RECORD or a NOTIFY_END/_OUT_END with
`is_recorded=1`, and fetched 40 s later, as Zadarma advises.

UNVERIFIED: `call_start` is "YYYY-MM-DD HH:MM:SS" in the account's time zone (the channel's
`timezone` setting, Europe/Moscow by default); whether `duration` counts from the call's start
(assumed) or from the answer; newer NOTIFY_END fields (`last_internal`, `calltype`).

Replays. The signature covers a few fields only, never `pbx_call_id`: a captured event re-sent
with another `pbx_call_id` was a second call. So a signed event is refused (kept as rejected,
with the reason, answered 403) when
- its `call_start`, the only signed time, is outside the freshness window: more than
  FRESH_SECONDS (10 min) old for a call's first event (NOTIFY_START, NOTIFY_OUT_START, sent as
  the call starts; the 10 minutes cover delivery, Zadarma's retries (their policy is
  UNVERIFIED) and clock skew), more than LONGEST_CALL_SECONDS (4 h) + FRESH_SECONDS old for the
  events later in a call (IVR, INTERNAL, ANSWER, END, OUT_END: a call's end comes as late as the
  call is long), or more than SKEW_SECONDS (2 min) ahead of our clock;
- or its signature already came with another `pbx_call_id` within that window
  (okno.telephony.replays: the events of one call sign the same fields, so they share it).
NOTIFY_RECORD signs `pbx_call_id` itself and carries no time: it is taken as it is (a replay
names the same call and recording again). Since `call_start` is read in the channel's
`timezone`, a wrong time zone makes every event "stale": the refusal says so, and the events are
kept (rejected) to be retried once the setting is fixed.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import IO
from urllib.parse import parse_qs, quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from okno.inbox.adapters.base import Ignored, Malformed, Refused, SendFailed, UnknownEvent
from okno.telephony.adapters.base import PbxAdapter
from okno.telephony.calls import CallFact
from okno.telephony.pbx_api import api_base, json_answer, pbx_call

API_URL = "https://api.zadarma.com"
# The shortest link lifetime Zadarma grants (180 s to 60 days, 1800 by default): a link is
# fetched at once by the worker, or played at once by the browser our view sends to it.
LINK_LIFETIME_SECONDS = 180

# The fields each event signs, in order (getSignatureString() of the vendor's library).
SIGNED = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_IVR": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
# The freshness window of signed events (see the module's docstring).
FRESH_SECONDS = 10 * 60
SKEW_SECONDS = 2 * 60
LONGEST_CALL_SECONDS = 4 * 3600
CALL_FIRST_EVENTS = ("NOTIFY_START", "NOTIFY_OUT_START")
FAILED = {"failed", "no money", "unallocated number", "no limit", "no day limit", "line limit", "no money, no limit"}


def zadarma_signature(secret: str, fields: dict[str, str], event: str) -> str:
    signed = "".join(fields.get(name, "") for name in SIGNED.get(event, ()))
    digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def _php_query(params: dict[str, str]) -> str:
    """PHP's http_build_query (RFC 1738), which the vendor's client signs: "+" for a space, "~" encoded."""
    return "&".join(f"{quote_plus(k, safe='')}={quote_plus(str(v), safe='')}".replace("~", "%7E")
                    for k, v in params.items())


def zadarma_api_sign(key: str, secret: str, method: str, params: dict[str, str]) -> tuple[str, str]:
    """The query string and the `Authorization` header of a call to Zadarma's API.

    From the vendor's own client (zadarma/user-api-v1, lib/Client.php): `format=json` is added to
    the parameters, they are sorted by name and built as a PHP query string, and
    Authorization = `<key>:` + base64(hex(HMAC-SHA1(secret, method + query + md5_hex(query)))),
    `method` being the path with the version, e.g. "/v1/pbx/record/request/"."""
    query = _php_query(dict(sorted({**params, "format": "json"}.items())))
    signed = method + query + hashlib.md5(query.encode()).hexdigest()
    digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha1).hexdigest()
    return query, f"{key}:{base64.b64encode(digest.encode()).decode()}"


def zadarma_api(channel, method: str, params: dict[str, str], *, refusal_retry: bool = False) -> dict:
    """A signed GET to Zadarma's API; its JSON when `status` is "success", else SendFailed
    (retried when `refusal_retry`: a recording asked for too early is refused until it is ready)."""
    key, secret = str(channel.settings.get("api_key") or ""), str(channel.settings.get("api_secret") or "")
    if not key or not secret:
        raise SendFailed("the Zadarma channel needs api_key and api_secret to use Zadarma's API", retry=False)
    query, authorization = zadarma_api_sign(key, secret, method, params)
    answer = pbx_call(f"{api_base(channel, API_URL)}{method}?{query}", vendor="Zadarma",
                      headers={"Authorization": authorization})
    data = json_answer(answer, vendor="Zadarma")
    if data.get("status") != "success":
        raise SendFailed(f"Zadarma refused: {str(data.get('message') or data)[:300]}", retry=refusal_retry)
    return data


def current_time() -> datetime:
    """The clock the freshness window is checked against (tests set it)."""
    return timezone.now()


def _fields(body: bytes) -> dict[str, str]:
    try:
        return {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError as exc:
        raise Malformed(f"form body is not UTF-8: {exc}") from exc


def _outcome(disposition: str) -> str:
    disposition = disposition.strip().lower()
    if disposition == "answered":
        return "answered"
    if disposition == "busy":
        return "busy"
    return "failed" if disposition in FAILED else ""


class ZadarmaAdapter(PbxAdapter):
    kind = "zadarma"
    required_settings = ("api_secret",)
    # "we recommend you to download the recorded file in 40 seconds after the notification"
    recording_delay_seconds = 40

    def probe(self, request: HttpRequest, channel) -> HttpResponse:
        echo = request.GET.get("zd_echo", "")
        if not echo:
            return HttpResponse("zd_echo expected", status=400, content_type="text/plain")
        return HttpResponse(echo[:200], content_type="text/plain")

    def verify(self, request: HttpRequest, channel) -> None:
        fields = _fields(request.body)
        event = fields.get("event", "")
        if event not in SIGNED:
            return  # an event we do not know is stored and marked unknown; nothing in it is used
        expected = zadarma_signature(str(channel.settings.get("api_secret", "")), fields, event)
        if not hmac.compare_digest(request.headers.get("Signature", "").encode(), expected.encode()):
            raise Refused("Wrong Signature", status=403)
        if event == "NOTIFY_RECORD":
            return  # pbx_call_id is signed; no time to check
        now = current_time()
        stale = self._staleness(event, fields, channel, now)
        if stale:
            raise Refused(stale, status=403, keep=True)
        from okno.telephony.replays import signature_call

        call_id = fields.get("pbx_call_id", "")
        first = signature_call(channel=channel, signature=expected, call_id=call_id, now=now,
                               keep_seconds=LONGEST_CALL_SECONDS + FRESH_SECONDS + SKEW_SECONDS)
        if first != call_id:
            raise Refused(f"Signature already used by call {first[:100]!r}, not {call_id[:100]!r}: a replay",
                          status=403, keep=True)

    def _staleness(self, event: str, fields: dict[str, str], channel, now: datetime) -> str:
        """Why a signed event's `call_start` is outside the freshness window ("" when inside)."""
        start = self._start(fields.get("call_start", ""), channel)
        if start is None:
            return f"call_start {fields.get('call_start', '')[:40]!r} is not a time (YYYY-MM-DD HH:MM:SS)"
        oldest = FRESH_SECONDS if event in CALL_FIRST_EVENTS else LONGEST_CALL_SECONDS + FRESH_SECONDS
        age = (now - start).total_seconds()
        if -SKEW_SECONDS <= age <= oldest:
            return ""
        zone = channel.settings.get("timezone") or "Europe/Moscow"
        when = f"{-age / 60:.0f} min ahead of" if age < 0 else f"{age / 60:.0f} min behind"
        return (f"{event}'s call_start {fields['call_start'][:40]} ({zone}) is {when} our clock, outside the "
                f"window of {oldest // 60} min: a stale or replayed event, or the channel's timezone is wrong")

    def event_type(self, body: bytes, content_type: str) -> str:
        try:
            return _fields(body).get("event", "")
        except Malformed:
            return ""

    def parse(self, body: bytes, content_type: str, channel) -> list:
        raise Malformed("a Zadarma event needs its time of receipt")  # parse_event has it

    def parse_event(self, event) -> list[CallFact]:
        f = _fields(bytes(event.body))
        kind, call_id = f.get("event", ""), f.get("pbx_call_id", "")
        if kind not in SIGNED:
            raise UnknownEvent(f"Zadarma event {kind!r} is not handled")
        if not call_id:
            raise Malformed(f"{kind} without pbx_call_id")
        if kind == "NOTIFY_RECORD":
            return [CallFact(call_id=call_id, kind="recording", recording=f.get("call_id_with_rec", ""))]
        start = self._start(f.get("call_start", ""), event.channel)
        out = kind.startswith("NOTIFY_OUT_")
        common = {"call_id": call_id, "direction": "out" if out else "in",
                  "customer": f.get("destination" if out else "caller_id", ""),
                  "line": "" if out else f.get("called_did", ""), "extension": f.get("internal", "")}
        if kind in ("NOTIFY_START", "NOTIFY_OUT_START"):
            return [CallFact(kind="start", at=start, **{**common, "extension": common["extension"] if out else ""})]
        if kind == "NOTIFY_IVR":
            return [CallFact(kind="ivr", at=event.received_at, **{**common, "extension": ""})]
        if kind == "NOTIFY_INTERNAL":
            return [CallFact(kind="ring", at=event.received_at, leg=common["extension"], **common)]
        if kind == "NOTIFY_ANSWER":
            # `destination` is whom the caller reached; for an inbound call that is our side.
            return [CallFact(kind="answer", at=event.received_at, leg=common["extension"],
                             **{**common, "customer": f.get("caller_id", "")})]
        if kind in ("NOTIFY_END", "NOTIFY_OUT_END"):
            try:
                duration = int(f.get("duration") or 0)
            except ValueError as exc:
                raise Malformed(f"duration is not a number: {f.get('duration')!r}") from exc
            end = start + timedelta(seconds=duration) if start else event.received_at
            facts = [CallFact(kind="start", at=start, **{**common, "extension": common["extension"] if out else ""}),
                     CallFact(kind="end", at=end, outcome=_outcome(f.get("disposition", "")), **common)]
            if f.get("is_recorded") == "1" and f.get("call_id_with_rec"):
                # The same recording NOTIFY_RECORD names: whichever comes first queues its fetch.
                facts.append(CallFact(call_id=call_id, kind="recording", recording=f["call_id_with_rec"]))
            return facts
        raise Ignored(f"{kind}: nothing to record")

    @staticmethod
    def _start(value: str, channel) -> datetime | None:
        try:
            zone = ZoneInfo(str(channel.settings.get("timezone") or "Europe/Moscow"))
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("Europe/Moscow")
        try:
            return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
        except ValueError:
            return None

    can_originate = True

    def originate(self, channel, *, extension: str, number: str, command_id: str) -> None:
        """Zadarma's callback: `GET /v1/request/callback/?from=<extension>&to=<number>`, signed.

        From the vendor's client (Api::requestCallback, examples/callback.php): `from` is "your
        phone/SIP number, the PBX extension number or the PBX scenario", rung first; `to` the
        number called, digits only. Success is `{"status": "success", "from", "to", "time"}`.
        Zadarma takes no id of ours: the call reaches the card through NOTIFY_OUT_START/END.
        UNVERIFIED: that a bare extension ("101") is accepted as `from` without `sip`."""
        digits = "".join(ch for ch in number if ch.isdigit())
        zadarma_api(channel, "/v1/request/callback/", {"from": extension, "to": digits})

    def recording_link(self, channel, recording_id: str) -> str:
        """`GET /v1/pbx/record/request/?call_id=<call_id_with_rec>` (Api::getPbxRecord): a link to
        the file, valid `lifetime` seconds (`link`; `links` when asked by pbx_call_id)."""
        data = zadarma_api(channel, "/v1/pbx/record/request/",
                           {"call_id": recording_id, "lifetime": str(LINK_LIFETIME_SECONDS)}, refusal_retry=True)
        links = data.get("links") if isinstance(data.get("links"), list) else []
        link = data.get("link") or (links[0] if links else "")
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            raise SendFailed(f"Zadarma gave no link to recording {recording_id}")
        return link

    def recording_fetch(self, channel, recording_id: str, sink: IO[bytes], *, max_bytes: int) -> str:
        answer = pbx_call(self.recording_link(channel, recording_id), vendor="Zadarma", sink=sink,
                          max_bytes=max_bytes, timeout=30)
        return answer.content_type
