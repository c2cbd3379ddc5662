"""The call built from its facts does not depend on their order or on repeats (no database), and its
one-pass form and lazy sort key give what the versions they replaced gave."""

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from okno.telephony.calls import (
    KINDS,
    MACHINE_OUTCOMES,
    STATED_OUTCOMES,
    CallFact,
    CallSummary,
    LegSummary,
    _order,
    call_summary,
)
from okno.telephony.models import Call

T = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def fact(kind: str, seconds: int | None, **kw) -> dict:
    at = T + timedelta(seconds=seconds) if seconds is not None else None
    return CallFact(call_id="c", kind=kind, at=at, **kw).as_row()


TRANSFERRED = [
    fact("start", 0, direction="in", customer="+79161234567", line="74951234567"),
    fact("ivr", 2),
    fact("ring", 8, leg="a", extension="101"),
    fact("answer", 12, leg="a", extension="101"),
    fact("end", 40, leg="a", extension="101"),  # 101 transfers the customer to 102
    fact("ring", 40, leg="b", extension="102"),
    fact("answer", 45, leg="b", extension="102"),
    fact("end", 100, leg="b", extension="102"),
    fact("recording", None, recording="r-1"),
]


def test_a_transferred_call_keeps_each_leg_and_the_first_person_who_answered():
    s = call_summary(TRANSFERRED)
    assert (s.direction, s.customer, s.extension, s.outcome) == ("in", "+79161234567", "101", "answered")
    assert (s.wait_seconds, s.talk_seconds, s.recording) == (12, 88, "r-1")
    assert {k: (v.extension, v.outcome) for k, v in s.legs.items()} == {"a": ("101", "answered"),
                                                                          "b": ("102", "answered")}


def test_missed_busy_and_abandoned():
    rang = [fact("start", 0, customer="+79161234567"), fact("ring", 3, leg="a", extension="101"),
            fact("end", 23, leg="a", extension="101")]
    assert (call_summary(rang).outcome, call_summary(rang).extension, call_summary(rang).wait_seconds) == (
        "missed", "101", 23)
    busy = [fact("start", 0), fact("end", 1, outcome="busy")]
    assert call_summary(busy).outcome == "busy"
    hung_up_in_menu = [fact("start", 0), fact("ivr", 1), fact("end", 30)]
    assert (call_summary(hung_up_in_menu).outcome, call_summary(hung_up_in_menu).talk_seconds) == ("abandoned", 0)
    assert call_summary([fact("start", 0)]).outcome == "ongoing"


@given(st.permutations(TRANSFERRED), st.lists(st.sampled_from(TRANSFERRED), max_size=4))
def test_order_and_repeats_do_not_change_the_call(order, repeats):
    assert call_summary(list(order) + repeats) == call_summary(TRANSFERRED)


def _reference_summary(rows: list[dict]) -> CallSummary:
    """call_summary as it was written before its one-pass form (a pass per field): the oracle."""
    def first(rows, key):
        return next((r[key] for r in rows if r.get(key)), "")

    rows = sorted(rows, key=_order)
    at = {id(r): datetime.fromisoformat(r["at"]) for r in rows if r.get("at")}
    s = CallSummary(direction=first(rows, "direction") or Call.Direction.IN, customer=first(rows, "customer"),
                    line=first(rows, "line"), recording=first(rows, "recording"))
    times = sorted(at.values())
    s.started_at = times[0] if times else None
    answers = [r for r in rows if r["kind"] == "answer" and id(r) in at]
    ends = [r for r in rows if r["kind"] == "end"]
    s.answered_at = at[id(answers[0])] if answers else None
    end_times = [at[id(r)] for r in ends if id(r) in at]
    s.ended_at = max(end_times) if end_times else None
    if answers:
        s.extension = first(answers, "extension")
    if not s.extension and s.direction == Call.Direction.OUT:
        s.extension = first([r for r in rows if r["kind"] == "start"], "extension")
    if not s.extension:
        s.extension = first(list(reversed([r for r in rows if r["kind"] in ("ring", "end")])), "extension")
    machines = [r.get("outcome") or "machine" for r in rows if r["kind"] == "machine"]
    machine = "machine" if any(m == "machine" or m not in MACHINE_OUTCOMES for m in machines) else (
        "voicemail" if machines else "")
    if machine == "machine":
        s.outcome = Call.Outcome.MACHINE
    elif s.answered_at is not None or any(r.get("outcome") == "answered" for r in ends):
        s.outcome = Call.Outcome.ANSWERED
    elif ends and machine == "voicemail":
        s.outcome = Call.Outcome.VOICEMAIL
    elif ends:
        stated = [r["outcome"] for r in ends if r.get("outcome") in STATED_OUTCOMES]
        if stated:
            s.outcome = stated[-1]
        elif any(r["kind"] == "ivr" for r in rows) and not any(r["kind"] == "ring" for r in rows):
            s.outcome = Call.Outcome.ABANDONED
        else:
            s.outcome = Call.Outcome.MISSED
    waited_until = s.answered_at or s.ended_at
    if s.started_at and waited_until:
        s.wait_seconds = max(0, round((waited_until - s.started_at).total_seconds()))
    if s.ended_at:
        s.talk_seconds = max(0, round((s.ended_at - s.answered_at).total_seconds())) if s.answered_at else 0
    for r in rows:
        if not r.get("leg"):
            continue
        leg = s.legs.setdefault(r["leg"], LegSummary())
        leg.extension = leg.extension or r.get("extension", "")
        when = at.get(id(r))
        if when is not None:
            leg.started_at = min(leg.started_at or when, when)
            if r["kind"] == "answer" and leg.answered_at is None:
                leg.answered_at = when
            if r["kind"] == "end":
                leg.ended_at = max(leg.ended_at or when, when)
        if r["kind"] == "end":
            leg.outcome = r.get("outcome") or ""
    for leg in s.legs.values():
        if leg.answered_at is not None:
            leg.outcome = Call.Outcome.ANSWERED
        elif leg.ended_at is not None and not leg.outcome:
            leg.outcome = Call.Outcome.MISSED
    return s


_facts = st.lists(st.builds(
    fact, st.sampled_from(KINDS), st.one_of(st.none(), st.integers(0, 30)),
    leg=st.sampled_from(["", "a", "b"]), direction=st.sampled_from(["", "in", "out", "internal"]),
    customer=st.sampled_from(["", "+79161234567", "101"]), line=st.sampled_from(["", "74951234567"]),
    extension=st.sampled_from(["", "101", "102"]),
    outcome=st.sampled_from(["", "answered", *STATED_OUTCOMES, *MACHINE_OUTCOMES]),
    seq=st.integers(0, 2), recording=st.sampled_from(["", "r-1"])), max_size=12)


@settings(max_examples=500)
@given(_facts)
def test_the_one_pass_summary_is_the_summary_it_replaced(rows):
    # given any facts, in any order, repeated or not; when summarised; then as the multi-pass version did
    assert call_summary(rows) == _reference_summary(rows)


@given(_facts)
def test_facts_sort_as_by_the_full_tuple_key(rows):
    # the lazy key orders exactly as (time, sequence, kind, sorted JSON) did
    def full(row):
        return (row.get("at", ""), row.get("seq", 0), KINDS.index(row["kind"]), json.dumps(row, sort_keys=True))

    assert sorted(rows, key=_order) == sorted(rows, key=full)
