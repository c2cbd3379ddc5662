"""The demo's calls: stories (answered, missed and called back, outbound), their PBX facts turned
into Call rows by telephony's own `call_summary`, playable recordings, and the callbacks owed.
Split from history.py, which seeds the conversations and calls this."""

from __future__ import annotations

import dataclasses
import io
import math
import random
import struct
import wave
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from okno.inbox.models import Channel
from okno.people.models import User
from okno.telephony.calls import CallFact, _summary_line, call_summary
from okno.telephony.models import Call, CallLeg, CallRecording
from okno.telephony.recordings import STORAGE_PREFIX
from okno.timeline.models import Activity

if TYPE_CHECKING:
    from okno.demo.history import Customer

LINE = "74951234567"  # the demo PBX's number, as demo_call rings it
RECORDINGS = 3  # generated WAV files the recorded calls share

def _call_story(rng: random.Random, cust: Customer, at: datetime, operators: list[User],
                now: datetime) -> list[tuple[Customer, dict]]:
    """An inbound call (answered, or missed and called back), or an outbound one by the manager."""
    roll = rng.random()
    if roll < 0.5:
        return [(cust, {"direction": "in", "at": at, "employee": rng.choice([cust.responsible, *operators[:3]]),
                        "answered": True, "talk": rng.randrange(40, 600), "wait": rng.randrange(3, 25)})]
    if roll < 0.72:
        missed = {"direction": "in", "at": at, "employee": rng.choice(operators), "answered": False,
                  "wait": rng.randrange(15, 45)}
        back = at + timedelta(minutes=rng.randrange(8, 90))
        if back > now or (now - at < timedelta(days=2) and rng.random() < 0.5):
            # Not called back yet: the callback is owed, and shows in My work and on the card.
            return [(cust, {**missed, "owes_callback": True})]
        back_call = {"direction": "out", "at": back, "employee": cust.responsible, "answered": True,
                     "talk": rng.randrange(30, 300), "wait": rng.randrange(5, 20)}
        return [(cust, missed), (cust, back_call)]
    answered = rng.random() < 0.75
    return [(cust, {"direction": "out", "at": at, "employee": cust.responsible, "answered": answered,
                    "talk": rng.randrange(30, 420), "wait": rng.randrange(5, 30)})]


def _facts(call_id: str, spec: dict, cust: Customer) -> list[dict]:
    """What Mango would report of the call, as the adapter turns it into facts."""
    start, ext = spec["at"], str(100 + spec["employee"].pk)
    leg = f"{call_id}-1"
    wait = timedelta(seconds=spec["wait"])
    number = cust.phone.lstrip("+")
    facts = [CallFact(call_id, "start", at=start, leg=leg, direction=spec["direction"], customer=number, line=LINE,
                      extension=ext if spec["direction"] == "out" else "", seq=1),
             CallFact(call_id, "ring", at=start + timedelta(seconds=2), leg=leg, extension=ext, seq=2)]
    if spec["answered"]:
        answered = start + wait
        ended = answered + timedelta(seconds=spec["talk"])
        facts += [CallFact(call_id, "answer", at=answered, leg=leg, extension=ext, seq=3),
                  CallFact(call_id, "end", at=ended, leg=leg, extension=ext, outcome="answered", seq=4),
                  CallFact(call_id, "recording", at=ended + timedelta(seconds=5), recording=f"demo-rec-{call_id}",
                           seq=5)]
    else:
        facts.append(CallFact(call_id, "end", at=start + wait, leg=leg, extension=ext, seq=3))
    return [_row(f) for f in facts]


_FACT_FIELDS = [f.name for f in dataclasses.fields(CallFact) if f.name != "call_id"]


def _row(fact: CallFact) -> dict:
    """CallFact.as_row (the same dict, keys in the same order) without dataclasses.asdict's deep
    copy, a third of the calls' time."""
    row = {}
    for name in _FACT_FIELDS:
        value = getattr(fact, name)
        if value not in ("", 0, None):
            row[name] = value.astimezone(UTC).isoformat() if name == "at" else value
    return row


def _calls_write(pbx: Channel, specs: list[tuple[Customer, dict]], rng: random.Random) -> tuple[int, int]:
    if not specs:
        return 0, 0
    files = _recording_files(pbx)
    calls, legs, owed = [], [], []
    for cust, spec in sorted(specs, key=lambda s: s[1]["at"]):
        call_id = f"demo-{rng.getrandbits(48):012x}"
        facts = _facts(call_id, spec, cust)
        s = call_summary(facts)
        employee = spec["employee"]
        call = Call(channel=pbx, pbx_call_id=call_id, direction=s.direction, customer_number=cust.phone, line=s.line,
                    contact_id=cust.pk, employee=employee,
                    department_id=employee.department_id or pbx.department_id, started_at=s.started_at,
                    answered_at=s.answered_at, ended_at=s.ended_at, wait_seconds=s.wait_seconds,
                    talk_seconds=s.talk_seconds, outcome=s.outcome, recording_id=s.recording[:255], facts=facts,
                    created_at=s.started_at, updated_at=s.ended_at or s.started_at)
        calls.append(call)
        if spec.get("owes_callback"):
            owed.append((call, cust.responsible))
        for leg_id, leg in s.legs.items():
            legs.append((call, CallLeg(leg_id=leg_id, extension=leg.extension, employee=employee,
                                       started_at=leg.started_at, answered_at=leg.answered_at, ended_at=leg.ended_at,
                                       outcome=leg.outcome)))
    from okno.demo.company import _own_timestamps

    with _own_timestamps(Call._meta.get_field("created_at"), Call._meta.get_field("updated_at")):
        Call.objects.bulk_create(calls, batch_size=500)
    for call, leg in legs:
        leg.call = call
    CallLeg.objects.bulk_create([leg for _c, leg in legs], batch_size=1000)
    recordings = []
    for call in calls:
        if call.recording_id:
            path, size = files[rng.randrange(len(files))]
            recordings.append(CallRecording(call=call, recording_id=call.recording_id,
                                            status=CallRecording.Status.STORED, attempts=1, run_after=call.ended_at,
                                            path=path, content_type="audio/wav", size_bytes=size,
                                            fetched_at=call.ended_at + timedelta(seconds=45)))
    CallRecording.objects.bulk_create(recordings, batch_size=1000)
    _callbacks_owed(owed)
    call_type = ContentType.objects.get_for_model(Call)
    pbx_ref = {pbx.pk: pbx}
    for call in calls:
        call.channel = pbx_ref[pbx.pk]
    Activity.objects.bulk_create([
        Activity(contact_id=call.contact_id, kind=Activity.Kind.CALL, occurred_at=call.started_at,
                 summary=_summary_line(call), detail_type=call_type, detail_id=call.pk) for call in calls],
        batch_size=1000)
    return len(calls), len(recordings)


def _callbacks_owed(owed: list[tuple[Call, User]]) -> None:
    """Open callbacks for the last hours' missed calls nobody has returned yet, as the worker
    makes them (one per number, due OKNO_CALLBACK_MINUTES after the call, the card's manager's)."""
    from django.conf import settings

    from okno.work.models import WorkItem

    items = [WorkItem(kind=WorkItem.Kind.CALLBACK, number=c.customer_number, contact_id=c.contact_id,
                      assignee=who, department_id=who.department_id or c.department_id,
                      due_at=(c.ended_at or c.started_at) + timedelta(minutes=settings.OKNO_CALLBACK_MINUTES))
             for c, who in {c.customer_number: (c, who) for c, who in owed}.values()]
    WorkItem.objects.bulk_create(items)
    for item in items:
        Call.objects.filter(customer_number=item.number, pk__in=[c.pk for c, _who in owed]).update(callback=item)


def _recording_files(pbx: Channel) -> list[tuple[str, int]]:
    """A few short WAVs (8 kHz mono, as PBXes record): a ring-back tone, then a murmur of voices.

    Shared by the demo's calls (a real call has its own); kept where recordings are stored, so
    the card's player and the recording view serve them as any stored recording."""
    files = []
    for n in range(RECORDINGS):
        name = f"{STORAGE_PREFIX}{pbx.pk}/demo-{n + 1}.wav"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(_wav(seconds=4 + 2 * n, seed=n)))
        files.append((name, default_storage.size(name)))
    return files


def _wav(*, seconds: int, seed: int) -> bytes:
    rate = 8000
    rng = random.Random(seed)
    frames = bytearray()
    for i in range(rate * seconds):
        t = i / rate
        if t < 1.0:  # ring-back: 425 Hz, as Russian exchanges sound
            v = 0.3 * math.sin(2 * math.pi * 425 * t)
        else:  # syllable-like bursts of two formants
            env = max(0.0, math.sin(2 * math.pi * (2.5 + seed * 0.3) * t)) ** 2
            v = env * (0.25 * math.sin(2 * math.pi * (180 + 20 * seed) * t)
                       + 0.1 * math.sin(2 * math.pi * 720 * t) + 0.02 * (rng.random() - 0.5))
        frames += struct.pack("<h", int(max(-1.0, min(1.0, v)) * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()

