"""Okno's own store API, for any shop without an adapter (1C-Bitrix, OpenCart, a custom site).

In: the shop upserts an order by its own id, `PUT /api/v1/stores/<id>/orders/<external_id>`
with an Okno API token, body:
    {"number": "1001", "status": "new", "updated_at": "2026-12-03T10:00:00+03:00", "version": 7,
     "customer": {"name": "…", "phone": "…", "email": "…"},
     "lines": [{"name": "…", "sku": "…", "quantity": 1, "price": "1500.00"}],
     "total": "1500.00", "currency": "RUB", "comment": "…",
     "delivery": {"method": "…", "address": "…", "price": "0", "date": "2026-12-05"},
     "payment": {"method": "…", "paid": false}}
`updated_at` or `version` (either; both may be left out) orders the shop's states: an older or
equal one changes nothing.

Out: a deal moved in Okno POSTs a signed webhook to the connection's `callback_url`
(Standard Webhooks, as the outbox signs its own: `webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed with `secret`):
    {"type": "order.status", "external_id": "…", "status": "paid", "deal_id": 1, "at": "…"}
With `orders_url` set, reconciliation GETs `<orders_url>?updated_since=<ISO>` for a list of
orders in the same shape (each with its `external_id`).
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.stores.adapters.base import (
    Customer,
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


def sign(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _list(value) -> list[str]:
    if isinstance(value, list):
        return [text(v) for v in value if v]
    return [text(value)] if value else []


class OknoAdapter(StoreAdapter):
    kind = "okno"
    settings = (
        Setting("callback_url", _("Status webhook address"),
                _("Where Okno posts a deal's new status (leave empty for no write back)"), required=False, url=True),
        Setting("secret", _("Signing secret"),
                _("Signs the status webhooks (Standard Webhooks); made up when left empty"), required=False,
                secret=True),
        Setting("orders_url", _("Changed orders address"),
                _("Optional: a GET with ?updated_since= listing changed orders, for reconciliation"),
                required=False, url=True),
    )

    def parse(self, *, body, headers) -> list[Order]:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise Malformed(f"not JSON: {exc}") from exc
        if not isinstance(data, dict) or not text(data.get("external_id")):
            raise Malformed("not an order: no external_id")
        return [self.order(data)]

    def order(self, data: dict) -> Order:
        customer = data.get("customer") or {}
        delivery, payment = data.get("delivery") or {}, data.get("payment") or {}
        version = data.get("version")
        return Order(
            external_id=text(data["external_id"], 100), number=text(data.get("number"), 100),
            status=text(data.get("status"), 100), updated_at=aware(data.get("updated_at")),
            version=version if isinstance(version, int) and not isinstance(version, bool) else None,
            customer=Customer(name=text(customer.get("name")), phones=_list(customer.get("phone")),
                              emails=_list(customer.get("email"))),
            lines=[OrderLine(name=text(line.get("name")) or "—", sku=text(line.get("sku"), 100),
                             quantity=decimal(line.get("quantity"), None) or decimal(1),
                             price=decimal(line.get("price")) or decimal(0))
                   for line in data.get("lines") or [] if isinstance(line, dict)],
            total=decimal(data.get("total"), None), currency=text(data.get("currency"), 3),
            delivery={k: text(delivery.get(k)) for k in ("method", "address", "price", "date")}
            if isinstance(delivery, dict) else {},
            payment={"method": text(payment.get("method")), "paid": bool(payment.get("paid"))}
            if isinstance(payment, dict) else {},
            comment=text(data.get("comment"), 2000),
        )

    def write_status(self, *, settings, external_id, status) -> Written:
        url = settings.get("callback_url")
        if not url:
            raise StoreUnreachable("no callback_url: this connection takes no status back", permanent=True)
        body = json.dumps({"type": "order.status", "external_id": external_id, "status": status,
                           "at": timezone.now().isoformat()}, ensure_ascii=False)
        msg_id, now = "msg_" + secrets.token_hex(12), int(time.time())
        signature = sign(secret=settings.get("secret", ""), msg_id=msg_id, timestamp=now, body=body)
        headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(now),
                   "webhook-signature": signature}
        answer = http("POST", url, json=None, headers=headers, params=None, data=body.encode())
        if isinstance(answer, dict):
            return Written(updated_at=aware(answer.get("updated_at")),
                           version=answer.get("version") if isinstance(answer.get("version"), int) else None)
        return Written()

    def list_changed(self, *, settings, since: datetime | None) -> list[str]:
        if not settings.get("orders_url"):
            return []
        params = {"updated_since": since.isoformat()} if since else {}
        answer = http("GET", settings["orders_url"], params=params) or []
        return [json.dumps(order) for order in answer if isinstance(order, dict)]

    def test_connection(self, *, settings) -> str:
        if settings.get("orders_url"):
            http("GET", settings["orders_url"], params={"updated_since": timezone.now().isoformat()})
            return "the changed orders address answered"
        return "nothing to call: the shop writes to Okno's API"
