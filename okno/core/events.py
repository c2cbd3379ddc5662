"""Domain events: what happened, told to whoever registered for it, inside the same transaction.

A domain that changes something others react to (a deal entered a stage, a lead was created,
a call finished) calls `publish()` from its service, inside the service's transaction. Robots
open deadlines and queue their runs, the outbox queues webhook deliveries: each subscriber
writes its own rows in that same transaction, so a change and its consequences commit (or roll
back) together and a worker killed afterwards loses nothing.

This is not Django's signals: a subscriber is registered explicitly from its app's `ready()`,
runs synchronously in registration order, and an exception in it fails the change that
published (a consequence that cannot be recorded must not be silently lost). The publisher
imports no subscriber, so the import direction stays downward: deals does not know robots.

Event names are `<entity>.<verb>` (`deal.created`, `deal.stage_changed`, `lead.created`,
`contact.created`, `call.finished`, `message.received`, `workitem.done`). `data` is JSON-ready
(ids, strings, ISO times): it is what an outbound webhook carries.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class Event:
    name: str
    # The row the event is about (a Deal, a Lead, a Call), for subscribers in this process.
    subject: Any
    data: dict = field(default_factory=dict)
    at: datetime = field(default_factory=timezone.now)
    # The user who caused it, or None for the system (a robot, a worker, a store).
    actor: Any = None
    # For this process's subscribers only, never an outbound webhook (not even to "*"): frequent
    # bookkeeping such as `conversation.changed`, which keeps the reports' rollups right.
    internal: bool = False


Subscriber = Callable[[Event], None]

_subscribers: dict[str, list[tuple[str, Subscriber]]] = {}


def subscribe(name: str, fn: Subscriber, *, key: str | None = None) -> None:
    """Calls `fn(event)` for every published event named `name` (`"*"`: every event).

    `key` makes registering idempotent (apps' `ready()` may run twice in tests)."""
    key = key or f"{fn.__module__}.{fn.__qualname__}"
    entries = _subscribers.setdefault(name, [])
    if all(k != key for k, _fn in entries):
        entries.append((key, fn))


def publish(name: str, *, subject: Any, data: dict | None = None, actor: Any = None,
            at: datetime | None = None, internal: bool = False) -> Event:
    """Tells every subscriber of `name`, and of every event, in the caller's transaction."""
    event = Event(name=name, subject=subject, data=data or {}, at=at or timezone.now(), actor=actor,
                  internal=internal)
    for _key, fn in _subscribers.get(name, []) + _subscribers.get("*", []):
        fn(event)
    return event


def subscribers(name: str) -> list[str]:
    """The keys registered for `name` (tests and the docs' list)."""
    return [k for k, _fn in _subscribers.get(name, [])]
