"""The worker's loop: which drain runs when."""

import pytest

from okno.core import worker
from okno.core.worker import Drain, pass_order, run_pass


def _drain(name: str, calls: list[str], *, work: int, urgent: bool = False, fails: bool = False) -> Drain:
    def fn() -> int:
        calls.append(name)
        if fails:
            raise RuntimeError("broken")
        return work

    return Drain(name, fn, idle_sleep=60, urgent=urgent)


def test_an_urgent_drain_gets_a_turn_before_each_other_drain(db):
    # given the inbox, with events arriving all the time, and three background drains with work
    calls: list[str] = []
    inbox = _drain("inbox", calls, work=1, urgent=True)
    background = [_drain(name, calls, work=100) for name in ("duplicates", "lead_reminders", "recordings")]
    # when the worker makes one pass
    run_pass(pass_order([background[0], inbox, *background[1:]]))
    # then the inbox waited for one background batch at most, never for all of them
    assert calls == ["inbox", "duplicates", "inbox", "lead_reminders", "inbox", "recordings"]


def test_a_drain_without_work_waits_its_idle_sleep_and_a_broken_one_stops_no_other(db):
    calls: list[str] = []
    idle = _drain("inbox", calls, work=0, urgent=True)
    broken = _drain("deliveries", calls, work=0, fails=True)
    busy = _drain("duplicates", calls, work=5)
    order = pass_order([idle, broken, busy])
    run_pass(order)
    run_pass(order)
    # the idle inbox ran once (then slept), the broken drain once (its failure logged, then slept),
    # and the busy one in both passes
    assert calls == ["inbox", "deliveries", "duplicates", "duplicates"]


def test_only_urgent_drains_make_a_pass_of_their_own():
    calls: list[str] = []
    assert [d.name for d in pass_order([_drain("inbox", calls, work=0, urgent=True)])] == ["inbox"]


@pytest.mark.django_db
def test_the_inbox_and_click_to_call_are_the_urgent_drains():
    assert {d.name for d in worker.drains() if d.urgent} == {"inbox", "call_requests"}
