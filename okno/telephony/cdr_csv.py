"""Asterisk's cdr_csv (Master.csv): each line one CDR, turned into the call facts of okno.telephony.calls.

Wire format: ../shared/PROTOCOLS.md section 3a (asterisk/asterisk:cdr/cdr_csv.c, build_csv_record).
No header row; strings always quoted with embedded quotes doubled, integers bare, a date that is
not set an empty *unquoted* field, set dates `"YYYY-MM-DD HH:MM:SS"` without an offset, in the
PBX's local time or in GMT when cdr.conf says `usegmtime=yes`. The number of columns depends on
cdr.conf [csv]: 16 fixed ones (accountcode … amaflags), then `uniqueid` if `loguniqueid`, then
`userfield` if `loguserfield`, then `peeraccount, linkedid, sequence` if `newcdrcolumns`; so a
line has 16 to 21 columns (18 on the stock cdr.conf.sample, 21 with everything on).

A 17- or 20-column line has either uniqueid or userfield and the line does not say which: a value
shaped like an Asterisk uniqueid (`1705314600.12`, optionally `systemname-` in front) is taken
as the uniqueid, anything else as the userfield.

How a CDR becomes facts (Asterisk 12+ writes one CDR per pair of party A and party B channels;
a ring group makes one row per extension rung, all with party A's uniqueid and the call's linkedid):
- the call is `linkedid` (the AMI adapter's call id too, so a call seen live and imported later
  is one Call), else `uniqueid` (party A's: for a call that did not transfer this *is* its
  linkedid, Asterisk gives the first channel's uniqueid to the whole call), else a hash of
  party A's channel name and start time (16 columns: every row of one ring group shares both);
- the employee's side of the row is the channel that matches the channel's `extension_pattern`
  setting, the same setting and default as the AMI adapter's (okno.telephony.adapters.asterisk: a
  regular expression matched against the channel name, its first group the extension; by default
  `PJSIP/`, `SIP/` or `IAX2/` with 2 to 6 digits, as `PJSIP/101-0000002a`). Trunks, `Local/`
  channels and anything else are not employees. The employee as party A: outbound, or internal
  when party B is an employee too or `dst` is not a phone number (another extension, `*97`); as
  party B: inbound. Neither (a trunk's call left in the IVR, or a queue's `Local/` channel ringing
  a phone): inbound, the customer being `src` (else the number in `clid`);
- the leg is the employee's channel: party A's uniqueid (else channel name) for outbound, party
  B's channel name for a row that rang someone, party A's uniqueid for one that rang nobody;
- facts: `start` at start (direction, customer, line), `ring` at start when the row rang
  party B, `answer` at the answer time when party B (a person) answered, `ivr` when the PBX
  itself answered (disposition ANSWERED with no party B: Playback, an IVR, a queue nobody took)
  and `end` at end with the outcome: `answered`, `busy` (BUSY), `failed` (FAILED, CONGESTION),
  `voicemail` (the PBX answered with VoiceMail), else none (missed, or abandoned in the IVR).
"""

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from okno.core.phones import try_normalize_phone
from okno.telephony.adapters.asterisk import DEFAULT_EXTENSION_PATTERN, compiled_extension_pattern
from okno.telephony.calls import CallFact

COLUMN_COUNTS = (16, 17, 18, 19, 20, 21)
_UNIQUEID = re.compile(r"(?:[\w.-]+-)?\d+\.\d+")
_CLID_NUMBER = re.compile(r"<([^<>]*)>\s*$")
# Who answered when no party B did: the PBX playing something, not a person.
_VOICEMAIL_APPS = frozenset({"voicemail", "vm"})


class CdrError(ValueError):
    """A line that is not a CDR; the message says why, for the import's report."""


class Cdr(NamedTuple):
    """One line of Master.csv, typed. Dates are aware (UTC) or None when the field is empty.

    A named tuple: made a million times by an import, and a frozen dataclass's __init__ costs
    four times as much."""

    accountcode: str
    src: str
    dst: str
    dcontext: str
    clid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None
    end: datetime | None
    duration: int
    billsec: int
    disposition: str
    amaflags: str
    uniqueid: str = ""
    userfield: str = ""
    peeraccount: str = ""
    linkedid: str = ""
    sequence: int = 0


@dataclass(frozen=True)
class CdrOptions:
    """How to read one PBX's file: the zone its dates are in, and which channels are employees'."""

    zone: tzinfo = UTC
    extension_pattern: re.Pattern = re.compile(DEFAULT_EXTENSION_PATTERN)


def cdr_options(channel_settings: dict, *, gmt: bool | None = None, tz: str | None = None) -> CdrOptions:
    """Options from the channel's settings (`timezone`, `cdr_usegmtime`, `extension_pattern`),
    overridden by the caller's `gmt` and `tz`. Raises ValueError naming a bad zone or pattern."""
    use_gmt = bool(channel_settings.get("cdr_usegmtime")) if gmt is None else gmt
    zone: tzinfo = UTC
    if not use_gmt:
        from django.conf import settings

        name = tz or channel_settings.get("timezone") or settings.TIME_ZONE
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{name}'") from exc
    pattern = compiled_extension_pattern(channel_settings.get("extension_pattern") or DEFAULT_EXTENSION_PATTERN)
    return CdrOptions(zone=zone, extension_pattern=pattern)


@lru_cache(maxsize=65536)
def _utc_offset(zone: tzinfo, minute: str) -> timedelta:
    """The zone's offset at a "YYYY-MM-DD HH:MM" minute: zoneinfo's conversion is the costliest
    part of a line, and a PBX's calls share minutes (every modern transition is on a minute)."""
    return zone.utcoffset(datetime.fromisoformat(minute)) or timedelta(0)


def _date(value: str, name: str, zone: tzinfo) -> datetime | None:
    if not value:
        return None
    # fromisoformat is 10x faster than strptime; the length and the space keep it to cdr_csv's
    # one format (it would also take a bare date or an offset, which Asterisk never writes).
    if len(value) != 19 or value[10] != " ":
        raise CdrError(f"{name}: '{value[:40]}' is not a date (YYYY-MM-DD HH:MM:SS)")
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        raise CdrError(f"{name}: '{value}' is not a date (YYYY-MM-DD HH:MM:SS)") from None
    if zone is UTC:
        return naive.replace(tzinfo=UTC)
    # As naive.replace(tzinfo=zone): an hour that repeats when clocks go back is read as its first.
    return (naive - _utc_offset(zone, value[:16])).replace(tzinfo=UTC)


def _int(value: str, name: str) -> int:
    if not value.isdigit():
        raise CdrError(f"{name}: '{value[:40]}' is not a whole number")
    return int(value)


def parse_cdr_line(line: str, zone: tzinfo = UTC) -> Cdr:
    """One line of Master.csv (without its newline) as a Cdr; CdrError says what is wrong."""
    try:
        fields = next(csv.reader((line,), strict=True))
    except csv.Error as exc:
        raise CdrError(f"broken quoting: {exc}") from None
    except StopIteration:
        raise CdrError("empty line") from None
    n = len(fields)
    if n not in COLUMN_COUNTS:
        raise CdrError(f"{n} columns, expected 16 to 21 (cdr.conf [csv] decides how many)")
    start = _date(fields[9], "start", zone)
    if start is None:
        raise CdrError("start: empty, every CDR has a start time")
    extra = fields[16:]
    uniqueid = userfield = peeraccount = linkedid = ""
    sequence = 0
    if n >= 19:  # newcdrcolumns: the last three are peeraccount, linkedid, sequence
        peeraccount, linkedid = extra[-3], extra[-2]
        sequence = _int(extra[-1], "sequence")
        extra = extra[:-3]
    if len(extra) == 2:
        uniqueid, userfield = extra
    elif len(extra) == 1:
        if _UNIQUEID.fullmatch(extra[0]):
            uniqueid = extra[0]
        else:
            userfield = extra[0]
    return Cdr(
        accountcode=fields[0], src=fields[1], dst=fields[2], dcontext=fields[3], clid=fields[4],
        channel=fields[5], dstchannel=fields[6], lastapp=fields[7], lastdata=fields[8],
        start=start, answer=_date(fields[10], "answer", zone), end=_date(fields[11], "end", zone),
        duration=_int(fields[12], "duration"), billsec=_int(fields[13], "billsec"),
        disposition=fields[14].strip().upper(), amaflags=fields[15], uniqueid=uniqueid, userfield=userfield,
        peeraccount=peeraccount, linkedid=linkedid, sequence=sequence,
    )


def read_cdr_lines(lines: Iterable[bytes], zone: tzinfo = UTC) -> Iterator[tuple[int, Cdr | CdrError]]:
    """(line number, Cdr or the error) for each non-blank line of a Master.csv read as bytes.

    Each line is parsed on its own: a quote left open must not swallow the lines after it (one
    csv reader over the whole file would read on to the next quote and lose good rows).
    """
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            yield number, read_cdr_line(raw, zone)


def read_cdr_line(raw: bytes, zone: tzinfo = UTC) -> Cdr | CdrError:
    """One line as read from the file, parsed; the error instead of raising it.

    Asterisk writes whatever bytes the caller id name had, so a line that is not UTF-8 is read
    with replacement characters rather than refused.
    """
    try:
        return parse_cdr_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"), zone)
    except CdrError as exc:
        return exc


def clid_number(clid: str) -> str:
    """`"Alice" <100>` -> `100`; a caller id without angle brackets is the number itself."""
    match = _CLID_NUMBER.search(clid)
    return match.group(1).strip() if match else clid.strip().strip('"').strip()


def extension_of(channel: str, options: CdrOptions) -> str:
    """The employee's extension when the channel is an employee's phone, else ""."""
    match = options.extension_pattern.match(channel) if channel else None
    return (match.group(1) or "") if match else ""


@lru_cache(maxsize=65536)
def is_phone_number(text: str) -> bool:
    """Is what an employee dialled a phone number (an outbound call), not another extension?
    The AMI adapter's rule; cached: a PBX's customers repeat, and phonenumbers takes ~40 µs."""
    return bool(text) and try_normalize_phone(text) is not None


def cdr_call_id(cdr: Cdr) -> str:
    """The Asterisk call this row belongs to (linkedid, else uniqueid, else a stable hash)."""
    if cdr.linkedid:
        return cdr.linkedid
    if cdr.uniqueid:
        return cdr.uniqueid
    key = f"{cdr.channel}|{cdr.start.isoformat()}".encode()
    return "cdr:" + hashlib.sha1(key, usedforsecurity=False).hexdigest()[:24]


def _outcome(cdr: Cdr, person: bool) -> str:
    disposition = cdr.disposition
    if disposition == "ANSWERED":
        if person:
            return "answered"
        return "voicemail" if cdr.lastapp.strip().lower() in _VOICEMAIL_APPS else ""
    if disposition == "BUSY":
        return "busy"
    if disposition in ("FAILED", "CONGESTION"):
        return "failed"
    return ""  # NO ANSWER, UNKNOWN: missed (or abandoned in the IVR)


def _iso(at: datetime) -> str:
    return at.isoformat()  # already UTC, as CallFact.as_row writes it


def cdr_rows(cdr: Cdr, options: CdrOptions) -> tuple[str, list[dict]]:
    """(call id, facts as CallFact.as_row rows) of one CDR; see the module's docstring.

    The import's hot path: rows straight away are 10x cheaper than CallFacts turned into rows
    (dataclasses.asdict copies); `cdr_facts` makes CallFacts of these very rows, and a test checks
    that their as_row() gives them back.
    """
    call_id = cdr_call_id(cdr)
    src_ext = extension_of(cdr.channel, options)
    dst_ext = extension_of(cdr.dstchannel, options)
    if src_ext:
        internal = dst_ext or (not cdr.dstchannel and not is_phone_number(cdr.dst))
        direction = "internal" if internal else "out"
    else:
        direction = "in"
    party_a = cdr.uniqueid or cdr.channel
    if direction == "in":
        customer = cdr.src or clid_number(cdr.clid)
        line = cdr.dst if cdr.dst != "s" and is_phone_number(cdr.dst) else ""
        employee, leg = dst_ext, cdr.dstchannel or party_a
    elif direction == "out":
        customer, line, employee, leg = cdr.dst, "", src_ext, party_a
    else:
        # A colleague's phone, else the one who dialled (voicemail, a feature code)
        customer, line, employee, leg = "", "", dst_ext or src_ext, cdr.dstchannel or party_a
    person = bool(cdr.dstchannel)  # party B took it; without one only the PBX could answer
    # Keys as CallFact.as_row writes them: empty values left out.
    common = {"leg": leg} if leg else {}
    if cdr.sequence:
        common["seq"] = cdr.sequence
    started = _iso(cdr.start)
    start = {"kind": "start", "at": started, "direction": direction, **common}
    for key, value in (("customer", customer), ("line", line), ("extension", src_ext if direction != "in" else "")):
        if value:
            start[key] = value
    rows = [start]
    staff = {"extension": employee} if employee else {}
    if person and direction != "out":
        rows.append({"kind": "ring", "at": started, **common, **staff})
    answer = cdr.answer
    if answer is None and cdr.disposition == "ANSWERED" and cdr.billsec and cdr.end is not None:
        answer = cdr.end - timedelta(seconds=cdr.billsec)
    if answer is not None:
        if person:
            rows.append({"kind": "answer", "at": _iso(answer), **common, **staff})
        else:
            rows.append({"kind": "ivr", "at": _iso(answer), **common})
    end = {"kind": "end", "at": _iso(cdr.end or cdr.start + timedelta(seconds=cdr.duration)), **common, **staff}
    outcome = _outcome(cdr, person)
    if outcome:
        end["outcome"] = outcome
    rows.append(end)
    if "AMDSTATUS=MACHINE" in cdr.userfield.upper().replace(" ", ""):
        # The dialplan wrote AMD's result into the record (Set(CDR(userfield)=AMDSTATUS=${AMDSTATUS})):
        # an answering machine took the call (okno.telephony.calls, the "machine" fact).
        rows.append({"kind": "machine", "at": end["at"], "outcome": "machine", **common})
    return call_id, rows


def cdr_facts(cdr: Cdr, options: CdrOptions) -> tuple[str, list[CallFact]]:
    """(call id, CallFacts) of one CDR: the facts `call_fact_record` would take one by one."""
    call_id, rows = cdr_rows(cdr, options)
    return call_id, [CallFact(call_id=call_id, **{**row, "at": datetime.fromisoformat(row["at"])}) for row in rows]
