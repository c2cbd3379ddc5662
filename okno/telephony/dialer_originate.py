"""The auto-dialer's calls (okno/work/dialer.py): Okno rings the customer first and puts the
operator through once the customer answers (progressive dialing), through the line's PBX.

`dial_progressive` answers with the outcome when the PBX says it on the spot (Asterisk), or
`pending` when it comes later from the PBX's own call events (Telphin); the caller maps the
outcome to the item (answered: the operator is on the call; the rest: a retry by rule).

Asterisk (AMI, PROTOCOLS.md 3b; docs.asterisk.org "Originate" and "OriginateResponse"): one short
session logged in with the `call` event class, an `Originate` with `Async: true` whose Channel
dials the customer through the outbound context (`Local/<digits>@<context>`, or the channel's
`dialer_channel` template with {number}) and whose Context/Exten/Priority put the answered
customer through to the operator's extension (`dialer_context`, default the channel's `context`).
Asterisk answers at once that the call is queued, then raises `OriginateResponse` with our
ActionID: `Response: Success` when the customer answered, `Failure` with a `Reason` otherwise.
UNVERIFIED: the Reason codes are Asterisk's last control frame of the dialled channel, not a
documented enum; users of asterisk-java report 3 after the ring timeout (no answer), 5 busy, 8
congestion, 0 and 1 for a failed or refused dial. We read 3 as no answer, 5 as busy and every other
failure as failed (the item is retried by the same rule either way).

Telphin (REST, okno/telephony/adapters/telphin_api.py): the extension's `callback` resource
rings `src_num` first, then connects `dst_num`; for progressive dialing `src_num` is the customer
and `dst_num` the operator's extension. UNVERIFIED: that `src_num` may be an outside number for
an extension's callback (the resource page shows extensions there), and the answer's body. The
outcome is not in the answer: it arrives as Telphin's call events, which make a Call like any
other; the dialer reads it from that Call (okno/work/dialer.py).
"""

import time
from dataclasses import dataclass

from okno.inbox.adapters.base import SendFailed
from okno.telephony.adapters.asterisk import DEFAULT_PORT
from okno.telephony.ami import AmiConnection, AmiError, AmiRefused, ami_login, ami_logoff, field

ANSWERED, NO_ANSWER, BUSY, FAILED, PENDING = "answered", "no_answer", "busy", "failed", "pending"
# A session that says nothing for this long (per read) is down.
AMI_TIMEOUT_SECONDS = 10
# OriginateResponse comes after the ring time; this much more before we stop waiting.
RESPONSE_MARGIN_SECONDS = 15
ASTERISK_REASONS = {"3": NO_ANSWER, "5": BUSY}


@dataclass(frozen=True)
class DialResult:
    outcome: str
    reason: str = ""


def dial_progressive(channel, *, extension: str, number: str, command_id: str, ring_seconds: int) -> DialResult:
    """Rings `number`, and on answer the operator's `extension`; raises SendFailed when the PBX
    cannot be asked at all (unreachable, refused credentials)."""
    if channel.kind == "asterisk":
        return _asterisk(channel, extension=extension, number=number, command_id=command_id,
                         ring_seconds=ring_seconds)
    if channel.kind == "telphin":
        return _telphin(channel, extension=extension, number=number)
    raise SendFailed(f"the {channel.kind} line cannot dial for the auto-dialer", retry=False)


def can_dial(channel) -> bool:
    return channel.kind in ("asterisk", "telphin")


def _asterisk(channel, *, extension: str, number: str, command_id: str, ring_seconds: int) -> DialResult:
    s = channel.settings
    digits = number.lstrip("+")
    context = str(s.get("context") or "from-internal")
    template = str(s.get("dialer_channel") or "Local/{number}@" + context)
    fields = [("Channel", template.format(number=digits)),
              ("Context", str(s.get("dialer_context") or context)), ("Exten", extension), ("Priority", "1"),
              ("CallerID", f'"{digits}" <{digits}>'), ("Timeout", str(ring_seconds * 1000)), ("Async", "true"),
              ("Variable", f"OKNO_COMMAND_ID={command_id}"), ("Variable", "OKNO_DIALER=1")]
    conn = AmiConnection(str(s.get("host") or ""), int(s.get("port") or DEFAULT_PORT), timeout=AMI_TIMEOUT_SECONDS)
    try:
        conn.connect()
        ami_login(conn, username=str(s.get("username") or ""), secret=str(s.get("secret") or ""), events="call")
        answer = conn.response(conn.send("Originate", fields, action_id=command_id))
        if field(answer, "Response").lower() != "success":
            return DialResult(FAILED, f"Asterisk refused the call: {field(answer, 'Message')}"[:300])
        return _originate_response(conn, command_id, deadline=time.monotonic() + ring_seconds + RESPONSE_MARGIN_SECONDS)
    except AmiRefused as exc:
        raise SendFailed(f"Asterisk refused the login: {exc.message}", retry=False) from exc
    except (AmiError, OSError) as exc:
        raise SendFailed(f"Asterisk is unreachable: {exc}") from exc
    finally:
        ami_logoff(conn)


def _originate_response(conn: AmiConnection, command_id: str, *, deadline: float) -> DialResult:
    while (left := deadline - time.monotonic()) > 0:
        for packet in conn.read(timeout=left):
            if field(packet, "Event") != "OriginateResponse" or field(packet, "ActionID") != command_id:
                continue
            if field(packet, "Response").lower() == "success":
                return DialResult(ANSWERED)
            reason = field(packet, "Reason")
            return DialResult(ASTERISK_REASONS.get(reason, FAILED), f"Asterisk: Reason {reason or '?'}")
    return DialResult(FAILED, "Asterisk said nothing of the call in time")


def _telphin(channel, *, extension: str, number: str) -> DialResult:
    from okno.telephony.adapters.telphin_api import telphin_callback_progressive

    telphin_callback_progressive(channel, extension=extension, number=number)
    return DialResult(PENDING, "Telphin queued the call; its outcome comes with its call events")
