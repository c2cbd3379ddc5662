"""What other domains add to a deal's page and its API answer, without deals importing them.

Robots register "deadlines" (`register_deal_extra("deadlines", fn)` from their apps.py); the
deal's GET merges every registered extra. Each known name has a default, so the answer's shape
holds even when nobody registered it (`deadlines: []`).
"""

from collections.abc import Callable
from typing import Any

# Names the API always answers, with their value when no domain registered one.
DEFAULTS: dict[str, Callable[[], Any]] = {"deadlines": list}

_extras: dict[str, Callable[[Any], Any]] = {}


def register_deal_extra(name: str, fn: Callable[[Any], list | dict]) -> None:
    """`fn(deal)` returns JSON-ready data shown under `name` (registering again replaces it)."""
    _extras[name] = fn


def deal_extras(deal) -> dict[str, Any]:
    """Every extra of one deal: registered ones computed, the rest at their defaults."""
    out = {name: make() for name, make in DEFAULTS.items()}
    for name, fn in _extras.items():
        out[name] = fn(deal)
    return out


def registered() -> list[str]:
    return sorted(_extras)
