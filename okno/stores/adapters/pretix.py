"""pretix (pretix.eu, a Django shop for tickets and merchandise): webhooks and its REST API.

Webhooks (pretix docs "Webhooks"): pretix POSTs a small JSON naming the order, not the order
itself: `{"notification_id": 123, "organizer": "acme", "event": "democon", "code": "ABC23",
"action": "pretix.event.order.placed"}` (also `.paid`, `.canceled`, `.expired`, `.changed.*`).
They are not signed; pretix's docs advise fetching the order over the API rather than trusting
the body, which is what `expand` does: a forged webhook can at most make Okno read a real order.

REST (`Authorization: Token <token>`, a team's API token):
`GET /api/v1/organizers/<org>/events/<event>/orders/<code>/` (status `n` pending, `p` paid,
`e` expired, `c` canceled; `last_modified`, `email`, `phone`, `total`, `comment`,
`invoice_address`, `positions: [{item, price, attendee_name}]`), item names from
`GET …/items/<id>/` (`name` is a dict by language), `POST …/orders/<code>/mark_paid/`,
`mark_canceled/`, `mark_pending/`, `mark_expired/`, and `GET …/orders/?modified_since=<ISO>`.
"""

import json
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from okno.stores.adapters.base import (
    Customer,
    Ignored,
    Malformed,
    Order,
    OrderLine,
    Setting,
    StoreAdapter,
    StoreUnreachable,
    Written,
    aware,
    decimal,
    http,
    text,
)

STATUSES = {"n": "pending", "p": "paid", "e": "expired", "c": "canceled"}
ACTIONS = {"paid": "mark_paid", "canceled": "mark_canceled", "pending": "mark_pending", "expired": "mark_expired"}


def _i18n(value) -> str:
    if isinstance(value, dict):
        return text(value.get("ru") or value.get("en") or next(iter(value.values()), ""))
    return text(value)


class PretixAdapter(StoreAdapter):
    kind = "pretix"
    settings = (
        Setting("url", _("pretix address"), _("https://pretix.example.ru (without /api/v1)"), url=True),
        Setting("organizer", _("Organizer"), _("The organizer's short name in pretix")),
        Setting("event", _("Event"), _("The event's short name in pretix")),
        Setting("token", _("API token"), _("A team's API token with access to orders"), secret=True),
    )

    def _base(self, settings: dict) -> str:
        return (f"{settings['url'].rstrip('/')}/api/v1/organizers/{settings['organizer']}"
                f"/events/{settings['event']}/")

    def _headers(self, settings: dict) -> dict:
        return {"Authorization": f"Token {settings['token']}"}

    def topic(self, *, headers, body) -> str:
        try:
            return text(json.loads(body).get("action"), 100)
        except (ValueError, AttributeError):
            return ""

    def expand(self, *, settings, body) -> str:
        try:
            note = json.loads(body)
        except ValueError as exc:
            raise Malformed(f"not JSON: {exc}") from exc
        if not isinstance(note, dict):
            raise Malformed("not a pretix webhook")
        if "positions" in note:  # already a whole order (reconciliation)
            return body
        if not note.get("code"):
            raise Ignored("a pretix notification with no order code")
        if note.get("event") and note["event"] != settings.get("event"):
            raise Ignored(f"an order of another event ({note['event']})")
        order = http("GET", self._base(settings) + f"orders/{note['code']}/", headers=self._headers(settings))
        return json.dumps(self._named(settings, order))

    def _named(self, settings: dict, order: dict) -> dict:
        names: dict = {}
        for position in order.get("positions") or []:
            item = position.get("item")
            if item is not None and item not in names:
                names[item] = _i18n((http("GET", self._base(settings) + f"items/{item}/",
                                          headers=self._headers(settings)) or {}).get("name"))
            position["item_name"] = names.get(item, "")
        return order

    def parse(self, *, body, headers) -> list[Order]:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise Malformed(f"not JSON: {exc}") from exc
        if not isinstance(data, dict) or not data.get("code"):
            raise Malformed("not a pretix order")
        address = data.get("invoice_address") or {}
        lines = [OrderLine(name=text(p.get("item_name")) or f"#{p.get('item')}", sku=text(p.get("item"), 100),
                           price=decimal(p.get("price")) or decimal(0))
                 for p in data.get("positions") or [] if isinstance(p, dict)]
        name = text(address.get("name")) or next((text(p.get("attendee_name")) for p in data.get("positions") or []
                                                  if isinstance(p, dict) and p.get("attendee_name")), "")
        return [Order(
            external_id=text(data["code"], 100), number=text(data["code"], 100),
            status=STATUSES.get(data.get("status"), text(data.get("status"))),
            updated_at=aware(data.get("last_modified")),
            customer=Customer(name=name, phones=[text(data["phone"])] if data.get("phone") else [],
                              emails=[text(data["email"])] if data.get("email") else []),
            lines=lines, total=decimal(data.get("total"), None), currency="",
            delivery={"address": ", ".join(text(address.get(k)) for k in ("zipcode", "city", "street")
                                           if address.get(k))},
            payment={"method": text(data.get("payment_provider")), "paid": data.get("status") == "p"},
            comment=text(data.get("comment"), 2000),
        )]

    def write_status(self, *, settings, external_id, status) -> Written:
        action = ACTIONS.get(status)
        if action is None:
            raise StoreUnreachable(f"pretix has no action for the status {status!r}: use one of "
                                   f"{', '.join(ACTIONS)}", permanent=True)
        answer = http("POST", self._base(settings) + f"orders/{external_id}/{action}/",
                      headers=self._headers(settings))
        return Written(updated_at=aware(answer.get("last_modified")) if isinstance(answer, dict) else None)

    def list_changed(self, *, settings, since: datetime | None) -> list[str]:
        params = {"modified_since": since.isoformat()} if since else {}
        answer = http("GET", self._base(settings) + "orders/", params=params, headers=self._headers(settings)) or {}
        return [json.dumps(self._named(settings, o)) for o in answer.get("results") or [] if isinstance(o, dict)]

    def test_connection(self, *, settings) -> str:
        http("GET", self._base(settings), headers=self._headers(settings))
        return "pretix API answered"
