"""The call built from its facts does not depend on their order or on repeats (no database)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from okno.telephony.calls import CallFact, call_summary

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
