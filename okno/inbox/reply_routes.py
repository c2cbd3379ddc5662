"""Other ways to answer a conversation whose own channel cannot send (a Jivo chat, a web form).

The inbox sits below the outbox in the layering (okno/core/tests/test_import_direction.py), so
it does not import it: the outbox registers its e-mail and SMS routes here when it starts
(okno/outbox/reply_routes.py), and the card's reply box offers what is registered.

A route says which of the customer's addresses it uses (an e-mail or a mobile phone), whether
it can send now (an SMS route needs an active SMS provider), queues one reply and tells the
delivery state of the replies it queued, in one query for a page.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class ReplyState:
    """A routed reply's delivery as the card shows it: queued, sent, delivered or failed."""

    status: str  # "queued" | "sent" | "delivered" | "undelivered" | "failed"
    error: str = ""


STATE_LABELS = {
    "queued": gettext_lazy("queued"),
    "sent": gettext_lazy("sent"),
    "delivered": gettext_lazy("delivered"),
    "undelivered": gettext_lazy("not delivered"),
    "failed": gettext_lazy("not sent"),
}


@dataclass(frozen=True)
class ReplyRoute:
    name: str  # "email" | "sms": stored in the message's meta["reply_route"]
    address: str  # which of the customer's addresses it uses: "email" or "mobile"
    # (to, subject, text, key, contact_id, conversation_id) -> the id of the queued row; FieldError on bad input
    queue: Callable[..., int]
    # ids of rows this route queued -> their states (one query)
    states: Callable[[list[int]], dict[int, ReplyState]]
    # can it send now? (an SMS route: an active SMS provider exists)
    available: Callable[[], bool] = lambda: True


_routes: dict[str, ReplyRoute] = {}


def register(route: ReplyRoute) -> None:
    _routes[route.name] = route


def unregister(name: str) -> None:
    _routes.pop(name, None)


def get(name: str) -> ReplyRoute | None:
    return _routes.get(name)


def all_routes() -> list[ReplyRoute]:
    """Registered routes, e-mail first (the cheaper, longer answer)."""
    order = {"email": 0, "sms": 1}
    return sorted(_routes.values(), key=lambda r: (order.get(r.name, 9), r.name))
