"""The worker's drain loops: durable work lives in our own rows, claimed in batches.

A domain registers a drain: a function that claims and processes one batch and returns how
many rows it handled. The worker calls each drain again at once while it finds work, and
sleeps `idle_sleep` seconds when it finds none, so pick-up stays fast without busy-waiting.
An `urgent` drain (a customer's message waiting to become a lead, a click-to-call) gets a turn
before every other drain, so it waits for one other batch at most, not for all of them: 20,000
lead reminders falling due at once (2-3 ms each, 100 a batch) had held every inbound event up
behind them.
Many workers may run against one PostgreSQL; each drain must claim rows with a lease
(SKIP LOCKED on PostgreSQL, a conditional UPDATE on SQLite) so that they never share a row.
"""

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

log = logging.getLogger(__name__)
SLOW_DRAIN_SECONDS = 0.5


@dataclass
class Drain:
    name: str
    fn: Callable[[], int]
    idle_sleep: float = 0.1
    urgent: bool = False
    next_run: float = 0.0


_drains: dict[str, Drain] = {}


def register_drain(name: str, fn: Callable[[], int], *, idle_sleep: float = 0.1, urgent: bool = False) -> None:
    _drains[name] = Drain(name, fn, idle_sleep, urgent)


def drains() -> list[Drain]:
    return list(_drains.values())


def run_once() -> dict[str, int]:
    """Runs every drain once (tests and `run_worker --once`)."""
    return {d.name: d.fn() for d in drains()}


def pass_order(active: list[Drain]) -> list[Drain]:
    """One pass of the loop: the urgent drains before each of the others."""
    urgent = [d for d in active if d.urgent]
    others = [d for d in active if not d.urgent]
    return [d for other in others for d in (*urgent, other)] or urgent


def run_pass(order: list[Drain]) -> None:
    """Runs each drain of the pass that is due; a drain that found work is due again at once."""
    for drain in order:
        now = time.monotonic()
        if drain.next_run > now:
            continue
        close_old_connections()
        try:
            handled = drain.fn()
        except Exception:  # one broken drain must not stop the others
            log.exception("drain %s failed", drain.name)
            handled = 0
        took = time.monotonic() - now
        if took > SLOW_DRAIN_SECONDS:
            # Every other drain of this worker waited that long: worth seeing in the log.
            log.warning("drain %s took %.2f s for %s rows", drain.name, took, handled)
        drain.next_run = now if handled else now + drain.idle_sleep


def run_forever(*, only: set[str] | None = None) -> None:
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    active = [d for d in drains() if only is None or d.name in only]
    order = pass_order(active)
    log.warning("worker started with drains: %s", ", ".join(d.name for d in active))
    while not stopping:
        run_pass(order)
        wait = min((d.next_run for d in active), default=time.monotonic() + 1) - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 1.0))
