"""Asterisk over AMI: the call-flow events `run_ami` stores, turned into call facts; Originate.

Wire format: ../shared/PROTOCOLS.md section 3b and okno.telephony.ami. There is no webhook: the
listener (okno.telephony.ami_listener) logs in to the PBX, stores each call-flow event as an
InboundEvent of the channel (body: the event's fields as JSON, a repeated key as a list), and the
inbox drain hands it to `parse_event` here, like any channel's event.

Which channel is whose. Every AMI event describes a channel by a snapshot (`Channel`,
`Uniqueid`, `Linkedid`, `CallerIDNum`, `ConnectedLineNum`, `Exten`, `ChannelState`...;
DialBegin/DialEnd add the dialled one prefixed `Dest`). A channel whose name matches the
channel's `extension_pattern` setting is an employee's phone and the pattern's group is the
extension (default: `PJSIP/101-0000002a`, `SIP/101-...`, `IAX2/101-...` with 2 to 6 digits);
`Local/...` channels are dialplan plumbing and say nothing of their own; anything else is a trunk,
the customer's side. The call is `Linkedid`, the Uniqueid of the channel that started it, shared by
every channel it made; a channel that is its call's first (Uniqueid = Linkedid) started it.

Mapping to facts (okno.telephony.calls), one call per Linkedid, one leg per employee channel
(its Uniqueid):
- Newchannel of the first channel: a trunk's is an inbound call (customer `CallerIDNum`, line
  the dialled `Exten` unless `s`); an employee's is theirs, outbound when the dialled `Exten` is a
  phone number, internal when it is something else (another extension);
- Newstate Up of an inbound call's first channel: the PBX answered it itself (the Answer of a
  greeting, IVR or queue) -> "ivr". When a person's answer brought the channel up, the "ivr" fact
  lands beside that answer and changes nothing;
- DialBegin to an employee: their phone rings ("ring" on its leg). DialEnd ANSWER: they answered;
  BUSY: busy; NOANSWER, CANCEL, CHANUNAVAIL, CONGESTION, ...: their leg ended unanswered. A dial of
  an employee channel that starts its own call (Originate, click-to-call) is the PBX calling the
  employee to place a call: it starts an outbound call, and their picking up is not an answer;
- DialBegin from an employee to a trunk: an outbound call to the dialled number; DialEnd ANSWER:
  the customer answered; BUSY: busy; CHANUNAVAIL/CONGESTION: failed;
- BridgeEnter of an employee channel: they are talking (an answer on their leg: it also covers
  pick-ups and transfers that dial nobody);
- Hangup: the end of the channel's leg (`Cause` 17, "User busy": busy), or of the call for a trunk;
- Cdr (cdr_manager): the PBX's own summary, undated (see below): direction, customer and the
  disposition of that record; `LastApplication` VoiceMail on a record nobody answered: voicemail;
  `UserField` holding `AMDSTATUS=MACHINE`: an answering machine (below);
- VarSet of `AMDSTATUS` (set by the AMD() application, docs.asterisk.org "AMD": MACHINE, HUMAN,
  NOTSURE, HANGUP): MACHINE -> "machine" (an answering machine took the outbound call; the others
  say nothing). VarSet of `VMSTATUS` (set by VoiceMail(): SUCCESS, USEREXIT, FAILED) -> the call
  reached our voicemail ("machine" fact, outcome voicemail). VarSet events are of the `dialplan`
  class: the manager user needs `read = call,cdr,dialplan` for them. UNVERIFIED: that every set of
  a channel variable raises VarSet (Asterisk 12+ documents it for shared and gosub-local variables;
  asterisk-java reads it for any); so the dialplan may instead say it explicitly with
  `UserEvent(OknoAMD,AMDSTATUS: ${AMDSTATUS})` (class `user`): a UserEvent carrying an
  `AMDSTATUS` or `VMSTATUS` field is read the same way. Either may come from a `Local/` channel
  (an auto-dialer's Originate runs AMD there): its Linkedid still names the call.
Times: an event's `Timestamp` (manager.conf `timestampevents = yes`), else the time the listener
read it (InboundEvent.received_at, stored per event). Turning `timestampevents` on is better: the
PBX's clock, to the microsecond, whatever the listener's delays. The `Uniqueid` itself is
`[systemname-]<epoch seconds>.<counter>` (e.g. `1705314600.1`): the channel's creation second on the
PBX's clock. It is not used as a time (whole seconds, and a second clock beside the events').

Cdr events are not dated: cdr_manager prints StartTime/AnswerTime/EndTime in the PBX's local time
with no zone, and a wrong guess of the zone would move a call by hours; the live events date the
call. Since Asterisk 12 one call makes several CDRs (one per pair of parties, docs.asterisk.org
"CDR Specification"); we read each for what it states: an ANSWERED record with an employee's
channel as its destination says that employee answered. UNVERIFIED: that ANSWERED with a
destination channel means the destination answered (not the IVR's Answer of the first channel),
and that `UniqueID` is the call's first channel (no Linkedid unless cdr_manager.conf maps one; a
`Linkedid` field is preferred when present).

Old Asterisk (1.8, 11) events carry no Linkedid: the event's own Uniqueid is its call, which is
right for the channel that started the call and makes each other channel of such a call a call of
its own; live tracking needs Asterisk 12 or later. UNVERIFIED: that a dial started by Originate
carries no caller snapshot (PROTOCOLS.md 3b); either way it is read as the PBX ringing the employee.
UNVERIFIED as well: an attended transfer's consultation call has a Linkedid of its own (an internal
call of its own here); Asterisk gives a bridge's channels its oldest Linkedid when the transfer
joins them, but whether the target's BridgeEnter already shows it is not known: if not, the
target's leg of the main call has only its end.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from django.http import HttpRequest

from okno.core.phones import try_normalize_phone
from okno.inbox.adapters.base import Malformed, Refused, SendFailed, json_loads
from okno.telephony.adapters.base import PbxAdapter
from okno.telephony.ami import AmiConnection, AmiError, AmiRefused, Packet, ami_login, ami_logoff, field
from okno.telephony.calls import CallFact

DEFAULT_PORT = 5038
DEFAULT_EXTENSION_PATTERN = r"^(?:PJSIP|SIP|IAX2)/(\d{2,6})-[0-9a-fA-F]+$"
# The events the call flow needs; the listener stores only these (Newstate only when a call's
# first channel comes Up), so the chatty rest (Newexten, VarSet, RTCP...) never reaches the database.
KEPT_EVENTS = frozenset({"Newchannel", "Newstate", "DialBegin", "DialEnd", "BridgeEnter", "Hangup", "Cdr",
                         "VarSet", "UserEvent"})
# The channel variables that say a machine took the call (VarSet only for these: every Set() of the
# dialplan raises one). AMDSTATUS values other than MACHINE (HUMAN, NOTSURE, HANGUP) say nothing.
MACHINE_VARIABLES = ("AMDSTATUS", "VMSTATUS")
# A record's last application that is our voicemail (as cdr_csv reads lastapp).
VOICEMAIL_APPS = frozenset({"voicemail", "vm"})
# Q.850 cause 17, "User busy".
BUSY_CAUSES = {"17"}
UNKNOWN = {"", "<unknown>", "<Unknown>"}
UP_STATE = "6"  # ChannelState of "Up"
TIMEOUT_SECONDS = 10


def ami_event_wanted(packet: Packet) -> bool:
    """Whether the listener keeps this event (it costs a row and a drain pass when kept)."""
    name = field(packet, "Event")
    if name not in KEPT_EVENTS:
        return False
    if name in ("VarSet", "UserEvent"):
        return _machine_said(packet) is not None
    if field(packet, "Channel").startswith("Local/") and not field(packet, "DestChannel"):
        return False  # dialplan plumbing; a Local channel's dial of a real phone is kept
    if name == "Newstate":
        linked = field(packet, "Linkedid")
        return _is_up(packet, "") and (not linked or linked == field(packet, "Uniqueid"))
    return True


def ami_event_body(packet: Packet) -> bytes:
    return json.dumps(packet, ensure_ascii=False, separators=(",", ":")).encode()


def ami_dedup_key(body: bytes) -> str:
    """The event's own fields, hashed: Asterisk formats an event once for every session (manager.c
    appends one text to the queue all sessions read), so two listeners on one PBX store it once."""
    return "ami:" + hashlib.sha256(body).hexdigest()


@lru_cache(maxsize=32)
def compiled_extension_pattern(text: str) -> re.Pattern:
    """The channel's `extension_pattern` (live events and cdr_csv alike), compiled and checked."""
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise ValueError(f"extension_pattern {text!r} is not a regular expression: {exc}") from exc
    if pattern.groups < 1:
        raise ValueError(f"extension_pattern {text!r} needs a group for the extension")
    return pattern


def _value(packet: Packet, key: str) -> str:
    value = field(packet, key)
    return "" if value in UNKNOWN else value


def _machine_said(packet: Packet) -> str | None:
    """What a VarSet or UserEvent says of a machine: "machine", "voicemail", "" (a variable we read
    that says nothing, e.g. AMDSTATUS=HUMAN), or None when it is about something else."""
    if field(packet, "Event") == "VarSet":
        name = field(packet, "Variable").strip().upper()
        values = {name: field(packet, "Value")} if name in MACHINE_VARIABLES else {}
    else:
        values = {n: field(packet, n) for n in MACHINE_VARIABLES if field(packet, n)}
    if not values:
        return None
    if values.get("AMDSTATUS", "").strip().upper() == "MACHINE":
        return "machine"
    if "VMSTATUS" in values:
        return "voicemail"  # VoiceMail() ran on the call, whatever its status: the caller reached it
    return ""


def _is_up(packet: Packet, prefix: str) -> bool:
    return (field(packet, f"{prefix}ChannelState") == UP_STATE
            or field(packet, f"{prefix}ChannelStateDesc").lower() == "up")


@dataclass(frozen=True)
class _Chan:
    name: str
    uniqueid: str
    linkedid: str
    caller: str  # CallerIDNum
    connected: str  # ConnectedLineNum: the other party
    exten: str  # where in the dialplan it is: the dialled number on a call's first channel
    extension: str  # the employee's extension when it is an employee's phone
    local: bool

    @property
    def first(self) -> bool:
        """It started its call (old Asterisk without Linkedid: taken as so)."""
        return not self.linkedid or self.linkedid == self.uniqueid

    @property
    def trunk(self) -> bool:
        return not self.extension and not self.local


def _chan(packet: Packet, prefix: str, pattern: re.Pattern) -> _Chan | None:
    name, uniqueid = field(packet, f"{prefix}Channel"), field(packet, f"{prefix}Uniqueid")
    if not name and not uniqueid:
        return None
    match = pattern.match(name)
    return _Chan(name=name, uniqueid=uniqueid, linkedid=field(packet, f"{prefix}Linkedid"),
                 caller=_value(packet, f"{prefix}CallerIDNum"), connected=_value(packet, f"{prefix}ConnectedLineNum"),
                 exten=_value(packet, f"{prefix}Exten"), extension=match.group(1) if match else "",
                 local=name.startswith("Local/"))


def _dialled(number: str) -> dict:
    """What an employee dialled says of the call: a phone number is an outbound call to it;
    anything else but `s` (the dialplan's start, said before anything is dialled) is internal."""
    if not number or number == "s":
        return {}
    if try_normalize_phone(number) is not None:
        return {"direction": "out", "customer": number}
    return {"direction": "internal"}


def _at(packet: Packet, received_at: datetime | None) -> datetime | None:
    stamp = field(packet, "Timestamp")
    if stamp:
        try:
            return datetime.fromtimestamp(float(stamp), tz=UTC)
        except (ValueError, OverflowError, OSError):
            pass
    return received_at


def ami_event_facts(packet: Packet, *, received_at: datetime | None,
                    extension_pattern: str = DEFAULT_EXTENSION_PATTERN) -> list[CallFact]:
    """One stored AMI event -> the facts it states (see the module's docstring)."""
    pattern = compiled_extension_pattern(extension_pattern or DEFAULT_EXTENSION_PATTERN)
    name = field(packet, "Event")
    if name == "Cdr":
        return _cdr_facts(packet, pattern)
    chan, dest = _chan(packet, "", pattern), _chan(packet, "Dest", pattern)
    call_id = (chan.linkedid or chan.uniqueid) if chan else ""
    call_id = call_id or ((dest.linkedid or dest.uniqueid) if dest else "")
    if not call_id:
        raise Malformed(f"{name or 'an event'} without Linkedid or Uniqueid")

    def fact(kind: str, on: _Chan | None = None, **values) -> CallFact:
        if on is not None and on.extension:
            values = {"leg": on.uniqueid, "extension": on.extension, **values}
        return CallFact(call_id=call_id, kind=kind, at=_at(packet, received_at), **values)

    if name in ("DialBegin", "DialEnd"):
        return _dial_facts(name, field(packet, "DialStatus").upper(), chan, dest, fact)
    if name in ("VarSet", "UserEvent"):
        said = _machine_said(packet)
        return [fact("machine", outcome=said)] if said else []
    if chan is None or chan.local:
        return []
    if name == "Newchannel" and chan.first:
        if chan.extension:
            return [fact("start", chan, **_dialled(chan.exten))]
        line = chan.exten if chan.exten != "s" else ""
        return [fact("start", direction="in", customer=chan.caller, line=line)]
    if name == "Newstate" and chan.first and chan.trunk and _is_up(packet, ""):
        return [fact("ivr", direction="in")]
    if name == "BridgeEnter" and chan.extension:
        if field(packet, "BridgeType").lower() in ("parking", "holding"):
            return []  # a parked or held call is nobody talking
        return [fact("answer", chan)]
    if name == "Hangup":
        busy = "busy" if field(packet, "Cause") in BUSY_CAUSES else ""
        if chan.extension:
            said = (_dialled(chan.exten) or _dialled(chan.connected)) if chan.first else {}
            return [fact("end", chan, outcome=busy, **said)]
        if chan.first:
            return [fact("end", direction="in", customer=chan.caller)]
        return [fact("end", outcome=busy)]
    return []


def _dial_facts(name: str, status: str, chan: _Chan | None, dest: _Chan | None, fact) -> list[CallFact]:
    if dest is None or dest.local:
        return []  # into the dialplan again: the real phone's own dial tells
    begin = name == "DialBegin"
    if dest.extension:
        if chan is None or dest.first:
            # The PBX calls an employee to place a call (Originate): their picking up is not an
            # answer; the call is answered when the customer's side is (the next dial).
            if begin:
                return [fact("start", dest, **{**_dialled(dest.exten), "direction": "out"})]
            return [] if status == "ANSWER" else [fact("end", dest)]
        internal = {"direction": "internal"} if chan.extension and chan.first else {}
        if begin:
            return [fact("ring", dest, **internal)]
        if status == "ANSWER":
            return [fact("answer", dest)]
        return [fact("end", dest, outcome="busy" if status == "BUSY" else "")]
    # The dialled channel is a trunk: the customer's side of an outbound call, or an inbound call
    # forwarded out (a mobile), whose answer is someone answering and whose failures say nothing.
    if chan is None or (chan.trunk and chan.first):
        return [fact("answer")] if status == "ANSWER" else []
    said = _dialled(chan.exten) if chan.extension and chan.first else {}
    if begin:
        return [fact("start", chan, **said)] if chan.extension else []
    if status == "ANSWER":
        return [fact("answer", chan)]
    outcome = {"BUSY": "busy", "CHANUNAVAIL": "failed", "CONGESTION": "failed"}.get(status, "")
    return [fact("end", chan, outcome=outcome)]


def _cdr_facts(packet: Packet, pattern: re.Pattern) -> list[CallFact]:
    call_id = field(packet, "Linkedid") or field(packet, "LinkedID") or field(packet, "UniqueID")
    if not call_id:
        raise Malformed("Cdr without UniqueID")
    party_a, party_b = field(packet, "Channel"), field(packet, "DestinationChannel")
    if party_a.startswith("Local/"):
        return []
    a, b = pattern.match(party_a), pattern.match(party_b)
    disposition = field(packet, "Disposition").upper()
    # The dialplan may write AMD's result into the record: Set(CDR(userfield)=AMDSTATUS=${AMDSTATUS}).
    machine = "AMDSTATUS=MACHINE" in field(packet, "UserField").upper().replace(" ", "")
    if a:  # an employee's call: outbound or internal
        said = _dialled(_value(packet, "Destination"))
        common = {"call_id": call_id, "extension": a.group(1), **said}
        outcome = "answered" if disposition == "ANSWERED" and party_b else {
            "BUSY": "busy", "FAILED": "failed", "CONGESTION": "failed"}.get(disposition, "")
        facts = [CallFact(kind="start", **common), CallFact(kind="end", outcome=outcome, **common)]
        return [*facts, CallFact(kind="machine", outcome="machine", **common)] if machine else facts
    common = {"call_id": call_id, "direction": "in", "customer": _value(packet, "Source")}
    facts = [CallFact(kind="start", **common)]
    extension = b.group(1) if b else ""
    if disposition == "ANSWERED" and not party_b:
        facts.append(CallFact(kind="ivr", **common))  # answered by the PBX itself, nobody dialled
        voicemail = field(packet, "LastApplication").strip().lower() in VOICEMAIL_APPS
        facts.append(CallFact(kind="end", outcome="voicemail" if voicemail else "", **common))
    elif disposition == "ANSWERED":
        facts.append(CallFact(kind="end", outcome="answered", extension=extension, **common))
    else:
        facts.append(CallFact(kind="end", outcome="busy" if disposition == "BUSY" else "", extension=extension,
                              **common))
    return facts


class AsteriskAdapter(PbxAdapter):
    """Settings: `host`, `port` (5038), `username`, `secret` (manager.conf; the user needs
    `read = call,cdr` and, for click-to-call, `write = originate`), optional `extension_pattern`,
    and for Originate `context` (from-internal), `originate_channel` (`PJSIP/{extension}`),
    `originate_timeout_seconds` (30)."""

    kind = "asterisk"
    required_settings = ("host", "username", "secret")

    def verify(self, request: HttpRequest, channel) -> None:
        # The PBX is read by `run_ami`; nothing posts to an Asterisk channel's URL.
        raise Refused("An Asterisk channel takes no webhooks: run `manage.py run_ami`", status=404)

    def parse(self, body: bytes, content_type: str, channel) -> list:
        raise Malformed("an AMI event needs its time of receipt")  # parse_event has it

    def parse_event(self, event) -> list[CallFact]:
        try:
            packet = json_loads(bytes(event.body))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Malformed(f"not an AMI event stored as JSON: {exc}") from exc
        if not isinstance(packet, dict) or not field(packet, "Event"):
            raise Malformed("an AMI event is an object with an Event field")
        return ami_event_facts(packet, received_at=event.received_at,
                               extension_pattern=str(event.channel.settings.get("extension_pattern") or ""))

    can_originate = True

    def originate(self, channel, *, extension: str, number: str, command_id: str) -> None:
        """Click-to-call: Asterisk rings the employee's phone and, once they pick up, dials the
        customer from `context` (Exten = the number, as the dialplan's outbound routes expect
        it: E.164 without "+", which a Russian dialplan may want as 8...; set the context to one
        that matches). The command's id rides along as ActionID and as the channel variable
        OKNO_COMMAND_ID. Async: Asterisk answers at once whether it queued the call.
        """
        s = channel.settings
        template = str(s.get("originate_channel") or "PJSIP/{extension}")
        timeout_ms = int(float(s.get("originate_timeout_seconds") or 30) * 1000)
        digits = number.lstrip("+")
        fields = [("Channel", template.format(extension=extension)),
                  ("Context", str(s.get("context") or "from-internal")), ("Exten", digits), ("Priority", "1"),
                  ("CallerID", f'"{digits}" <{digits}>'), ("Timeout", timeout_ms), ("Async", "true"),
                  ("Variable", f"OKNO_COMMAND_ID={command_id}")]
        conn = AmiConnection(str(s.get("host") or ""), int(s.get("port") or DEFAULT_PORT), timeout=TIMEOUT_SECONDS)
        try:
            conn.connect()
            ami_login(conn, username=str(s.get("username") or ""), secret=str(s.get("secret") or ""))
            answer = conn.response(conn.send("Originate", fields, action_id=command_id))
        except AmiRefused as exc:
            raise SendFailed(f"Asterisk refused the login: {exc.message}", retry=False) from exc
        except (AmiError, OSError) as exc:
            raise SendFailed(f"Asterisk is unreachable: {exc}") from exc
        finally:
            ami_logoff(conn)
        if field(answer, "Response").lower() != "success":
            raise SendFailed(f"Asterisk refused the call: {field(answer, 'Message') or answer}", retry=False)
