"""Building a Call from what PBXes report, the same for every PBX adapter.

An adapter turns each PBX event into CallFacts: things that happened, in our words ("the
employee on extension 101 answered at 10:30:05"). The call keeps every distinct fact and is
recomputed from all of them in a canonical order, so a duplicated event adds nothing and events
that arrive out of order give the same call as in order.
"""

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from okno.contacts.identify import Identity, contact_identify
from okno.core import events
from okno.core.business_hours import BadBusinessHours, BusinessHours, business_hours_for
from okno.core.phones import try_normalize_phone
from okno.deals.services import lead_create, lead_open_for_contact
from okno.inbox.models import Channel
from okno.telephony.models import Call, CallLeg, PbxExtension
from okno.telephony.pops import call_changed_push, screen_pops_for_ringing
from okno.timeline.models import Activity
from okno.timeline.services import activity_record
from okno.work.services import callback_for_missed_call, callbacks_close_for_number

log = logging.getLogger(__name__)
# What a fact says happened. "ivr": the PBX (greeting, menu, queue) took the call, not a person.
# "machine": the PBX found that a machine took it: an answering machine (Asterisk's AMD on an
# outbound call, outcome "machine") or our own voicemail (outcome "voicemail"). Last in the list,
# so the order of the kinds before it (and so of every call stored before it) is unchanged.
KINDS = ("start", "ivr", "ring", "answer", "end", "recording", "machine")
# Outcomes a PBX may state explicitly at the end; answered and missed are derived.
STATED_OUTCOMES = ("busy", "failed", "voicemail")
# What a "machine" fact may say; anything else reads as "machine".
MACHINE_OUTCOMES = ("machine", "voicemail")


@dataclass(frozen=True)
class CallFact:
    call_id: str  # the PBX's id of the whole call (Mango entry_id, Zadarma pbx_call_id, Asterisk linkedid)
    kind: str  # one of KINDS
    at: datetime | None = None
    leg: str = ""  # one leg of it (Mango call_id, an Asterisk channel's uniqueid)
    direction: str = ""  # Call.Direction, when the event tells
    customer: str = ""  # the customer's number as sent
    line: str = ""  # the line (DID) the call came in on or went out by
    extension: str = ""  # the employee's extension on this leg
    outcome: str = ""  # for "end": "answered" or one of STATED_OUTCOMES; for "machine": MACHINE_OUTCOMES
    seq: int = 0  # the PBX's ordering counter, when it has one
    recording: str = ""  # the PBX's id of a recording

    def as_row(self) -> dict:
        row = {k: v for k, v in asdict(self).items() if v not in ("", 0, None) and k != "call_id"}
        if self.at is not None:
            # In UTC: facts are ordered by this text, and one PBX may date events in its own
            # zone and others by our clock (Zadarma's call_start against received_at).
            row["at"] = self.at.astimezone(UTC).isoformat()
        return row


_KIND_INDEX = {kind: i for i, kind in enumerate(KINDS)}


class _OrderKey:
    """The sort key of a fact: (time, sequence, kind), ties broken by the fact's sorted JSON text.

    Compares as the tuple (at, seq, kind, json) would, but makes the JSON only for facts whose
    time, sequence and kind are all equal, which is rare: made for every fact, that text was
    four tenths of `call_summary` (an import sorts a million calls' facts).
    """

    __slots__ = ("head", "row", "tail")

    def __init__(self, row: dict):
        self.head = (row.get("at", ""), row.get("seq", 0), _KIND_INDEX[row["kind"]])
        self.row, self.tail = row, None

    def _tail(self) -> str:
        # Kept once made: a ring group's rows (one per extension, same time and kind) tie often.
        if self.tail is None:
            self.tail = json.dumps(self.row, sort_keys=True)
        return self.tail

    def __lt__(self, other: "_OrderKey") -> bool:
        if self.head != other.head:
            return self.head < other.head
        return self._tail() < other._tail()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _OrderKey):
            return NotImplemented
        return self.head == other.head and self._tail() == other._tail()

    __hash__ = None  # a sort key, compared only


def _order(row: dict) -> _OrderKey:
    """The canonical order of a call's facts (`sorted(facts, key=_order)`)."""
    return _OrderKey(row)


@dataclass
class LegSummary:
    extension: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str = ""


@dataclass
class CallSummary:
    direction: str = Call.Direction.IN
    customer: str = ""
    line: str = ""
    extension: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: int | None = None
    talk_seconds: int | None = None
    outcome: str = Call.Outcome.ONGOING
    recording: str = ""
    legs: dict[str, LegSummary] = field(default_factory=dict)


def call_summary(rows: list[dict]) -> CallSummary:
    """The call's fields from its facts (rows of CallFact.as_row), whatever order they came in."""
    return call_summary_of_sorted(sorted(rows, key=_order))


def call_summary_of_sorted(rows: list[dict]) -> CallSummary:
    """`call_summary` of facts already in `_order`'s order (the CDR import sorts them once for
    storing; sorting them again here was a sixth of its summary).

    One pass over the facts, each date parsed once: a pass per field (first direction, first
    customer, the answers, the ends...) made this a quarter of the import's reading.
    """
    parse = datetime.fromisoformat
    direction = customer = line = recording = ""
    answer_extension = start_extension = last_extension = ""  # last: of the rings and ends, for a missed call
    started_at = answered_at = ended_at = None
    ends = said_answered = rang = ivr = False
    stated = machine = ""
    legs: dict[str, LegSummary] = {}
    for r in rows:
        kind = r["kind"]
        if not direction:
            direction = r.get("direction") or ""
        if not customer:
            customer = r.get("customer") or ""
        if not line:
            line = r.get("line") or ""
        if not recording:
            recording = r.get("recording") or ""
        text = r.get("at")
        when = parse(text) if text else None
        if when is not None and (started_at is None or when < started_at):
            started_at = when
        extension = r.get("extension") or ""
        if kind == "answer":
            if when is not None:
                if answered_at is None:
                    answered_at = when
                if not answer_extension:
                    answer_extension = extension
        elif kind == "end":
            ends = True
            if when is not None and (ended_at is None or when > ended_at):
                ended_at = when
            outcome = r.get("outcome")
            if outcome == "answered":
                said_answered = True
            elif outcome in STATED_OUTCOMES:
                stated = outcome
            if extension:
                last_extension = extension
        elif kind == "ring":
            rang = True
            if extension:
                last_extension = extension
        elif kind == "start":
            if not start_extension:
                start_extension = extension
        elif kind == "ivr":
            ivr = True
        elif kind == "machine":
            said = r.get("outcome") or ""
            # An answering machine outranks a voicemail: it is about the customer's side.
            if machine != "machine":
                machine = said if said in MACHINE_OUTCOMES else "machine"
        leg_id = r.get("leg")
        if not leg_id:
            continue
        leg = legs.get(leg_id)
        if leg is None:
            leg = legs[leg_id] = LegSummary()
        if not leg.extension:
            leg.extension = extension
        if when is not None:
            if leg.started_at is None or when < leg.started_at:
                leg.started_at = when
            if kind == "answer" and leg.answered_at is None:
                leg.answered_at = when
            if kind == "end" and (leg.ended_at is None or when > leg.ended_at):
                leg.ended_at = when
        if kind == "end":
            leg.outcome = r.get("outcome") or ""
    s = CallSummary(direction=direction or Call.Direction.IN, customer=customer, line=line, recording=recording,
                    started_at=started_at, answered_at=answered_at, ended_at=ended_at, legs=legs)
    s.extension = answer_extension
    if not s.extension and s.direction == Call.Direction.OUT:
        s.extension = start_extension
    if not s.extension:
        s.extension = last_extension  # a missed call belongs to whom it rang last
    if machine == "machine":
        # The PBX's answering-machine detection: whoever picked up on the customer's side was a
        # machine, so nobody talked, however long the line was open (at once, as an answer is).
        s.outcome = Call.Outcome.MACHINE
    elif answered_at is not None or said_answered:
        # A PBX that reports only the end (a CDR) may still say a person answered. A voicemail
        # after a person answered (a transfer to a mailbox) leaves the call answered.
        s.outcome = Call.Outcome.ANSWERED
    elif ends:
        if machine == "voicemail":
            s.outcome = Call.Outcome.VOICEMAIL
        elif stated:
            s.outcome = stated
        elif ivr and not rang:
            s.outcome = Call.Outcome.ABANDONED
        else:
            s.outcome = Call.Outcome.MISSED
    waited_until = answered_at or ended_at
    if started_at and waited_until:
        s.wait_seconds = max(0, round((waited_until - started_at).total_seconds()))
    if ended_at:
        s.talk_seconds = max(0, round((ended_at - answered_at).total_seconds())) if answered_at else 0
    for leg in legs.values():
        if leg.answered_at is not None:
            leg.outcome = Call.Outcome.ANSWERED
        elif leg.ended_at is not None and not leg.outcome:
            leg.outcome = Call.Outcome.MISSED
    return s


def _number(raw: str) -> str:
    phone = try_normalize_phone(raw) if raw else None
    return phone.e164 if phone else raw.strip()[:64]


@transaction.atomic
def call_fact_record(*, channel: Channel, fact: CallFact) -> Call:
    """Adds a fact to its call (made on the first one) and recomputes the call."""
    call = Call.objects.select_for_update().filter(channel=channel, pbx_call_id=fact.call_id).first()
    if call is None:
        try:
            with transaction.atomic():
                call = Call.objects.create(channel=channel, pbx_call_id=fact.call_id[:128])
        except IntegrityError:  # another worker made it a moment ago
            call = Call.objects.select_for_update().get(channel=channel, pbx_call_id=fact.call_id)
    row = fact.as_row()
    if row in call.facts:
        return call
    call.facts = sorted([*call.facts, row], key=_order)
    before = (call.outcome, call.ended_at is not None)
    _apply(call, call_summary(call.facts), rings=fact.kind in ("ring", "answer"))
    if call.ended_at is not None and not before[1]:
        # Once per call, whatever its outcome: outbound webhooks' `call.finished`.
        events.publish("call.finished", subject=call, at=call.ended_at, data={
            "call_id": call.pk, "contact_id": call.contact_id, "direction": call.direction,
            "outcome": call.outcome, "customer_number": call.customer_number,
            "employee_id": call.employee_id, "started_at": call.started_at.isoformat() if call.started_at else None,
            "answered_at": call.answered_at.isoformat() if call.answered_at else None,
            "at": call.ended_at.isoformat()})
    if call.ended_at is not None and call.contact_id and before != (call.outcome, True) \
            and call.outcome in (Call.Outcome.ANSWERED, *MISSED):
        # The call ended answered or missed (a later fact may still change it: robots key their
        # runs by the call, so a repeat runs nothing twice).
        events.publish("call.answered" if call.outcome == Call.Outcome.ANSWERED else "call.missed", subject=call,
                       at=call.ended_at, data={"call_id": call.pk, "contact_id": call.contact_id,
                                               "direction": call.direction, "outcome": call.outcome,
                                               "at": call.ended_at.isoformat()})
    return call


def _employees(channel: Channel, codes: set[str]) -> dict[str, PbxExtension]:
    codes.discard("")
    if not codes:
        return {}
    return {e.code: e for e in PbxExtension.objects.filter(channel=channel, code__in=codes).select_related("user")}


def _apply(call: Call, s: CallSummary, *, rings: bool = False) -> None:
    channel = call.channel
    known = _employees(channel, {s.extension, *(leg.extension for leg in s.legs.values())})
    employee = known[s.extension].user if s.extension in known else None
    call.direction, call.customer_number, call.line = s.direction, _number(s.customer), s.line[:64]
    call.employee = employee
    call.department_id = (employee.department_id if employee else None) or channel.department_id
    call.unmatched_extension = s.extension if s.extension and employee is None else ""
    call.started_at, call.answered_at, call.ended_at = s.started_at, s.answered_at, s.ended_at
    call.wait_seconds, call.talk_seconds, call.outcome = s.wait_seconds, s.talk_seconds, s.outcome
    call.recording_id = s.recording[:255]
    new_on_card = False
    # A hidden or malformed number ("anonymous", a short code) finds no card and makes none.
    # A "+..." that is no phone number (_number keeps it as sent) finds no card and makes none either:
    # each call from it would otherwise make another empty card.
    if (call.contact_id is None and call.direction != Call.Direction.INTERNAL
            and try_normalize_phone(call.customer_number) is not None):
        # The same identification as every channel: a number in any format finds the card, an
        # unknown number makes one.
        call.contact, _created = contact_identify(identity=Identity(phones=[call.customer_number]),
                                                  source=channel.name)
        new_on_card = True
    call.save()
    for leg_id, leg in s.legs.items():
        CallLeg.objects.update_or_create(call=call, leg_id=leg_id[:128], defaults={
            "extension": leg.extension[:64], "employee": known[leg.extension].user if leg.extension in known else None,
            "started_at": leg.started_at, "answered_at": leg.answered_at, "ended_at": leg.ended_at,
            "outcome": leg.outcome})
    _callback(call)
    if new_on_card:
        activity_record(contact=call.contact, kind=Activity.Kind.CALL, detail=call,
                        occurred_at=call.started_at or call.created_at, summary=_summary_line(call))
        if call.direction == Call.Direction.IN and lead_open_for_contact(contact=call.contact) is None:
            lead_create(contact=call.contact, channel=channel, source=channel.name,
                        title=f"{channel.name}: {call.customer_number}")
    elif call.contact_id is not None:
        Activity.objects.filter(contact=call.contact, kind=Activity.Kind.CALL, detail_id=call.pk).update(
            occurred_at=call.started_at or call.created_at, summary=_summary_line(call))
    if rings:  # after the lead: routing it may have given a new card its responsible
        # Legs still ringing or talking: a leg that ended before its ring arrived pops nothing.
        screen_pops_for_ringing(call, {leg_id: known[leg.extension] for leg_id, leg in s.legs.items()
                                       if leg.extension in known and leg.ended_at is None})
    call_changed_push(call)


MISSED = (Call.Outcome.MISSED, Call.Outcome.ABANDONED, Call.Outcome.BUSY)


def _callback(call: Call) -> None:
    """A call the customer talked in settles their callbacks; a missed inbound one will owe one.

    Not at once: a leg's end reads as the call's end until the next extension's ring or answer
    arrives, so the callback is made by `callbacks_drain` once the call has stayed missed for
    OKNO_CALLBACK_GRACE_SECONDS.
    """
    due = False
    if call.customer_number.startswith("+"):
        if call.outcome == Call.Outcome.ANSWERED:
            callbacks_close_for_number(number=call.customer_number, reason=f"call {call.pk} answered")
        else:
            due = call.direction == Call.Direction.IN and call.outcome in MISSED and call.callback_id is None
    if due != call.callback_due:
        call.callback_due = due
        Call.objects.filter(pk=call.pk).update(callback_due=due)


def callbacks_drain(*, now=None, batch: int = 100) -> int:
    """The worker's drain: callbacks for calls missed longer than the grace; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = (Call.objects.filter(callback_due=True, ended_at__lte=now - timedelta(
            seconds=settings.OKNO_CALLBACK_GRACE_SECONDS)).select_related("channel__department__calendar", "contact")
            .order_by("ended_at"))
        if settings.IS_POSTGRES:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        calls = list(qs[:batch])
        for call in calls:
            minutes = call.channel.settings.get("callback_minutes")
            call.callback = callback_for_missed_call(
                number=call.customer_number, contact=call.contact, department=call.department,
                missed_at=call.ended_at, minutes=float(minutes) if minutes not in (None, "") else None,
                hours=_business_hours(call.channel))
            Call.objects.filter(pk=call.pk).update(callback=call.callback, callback_due=False)
    return len(calls)


def _business_hours(channel: Channel) -> BusinessHours | None:
    """The line's calendar, hours or department's calendar, else OKNO_BUSINESS_HOURS
    (okno/core/business_hours.py); a timetable kept before it was checked counts as none."""
    try:
        return business_hours_for(channel.settings, department=channel.department,
                                  fallback=settings.OKNO_BUSINESS_HOURS)
    except BadBusinessHours as exc:
        log.warning("channel %s: business hours ignored: %s", channel.pk, exc)
        return None


def _summary_line(call: Call) -> str:
    return f"{call.channel.name}: {call.get_direction_display()}, {call.get_outcome_display()}"[:500]
