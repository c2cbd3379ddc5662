"""WooCommerce: webhooks `order.created` / `order.updated`, and the REST API v3 for statuses.

Webhooks (WooCommerce docs, "Webhooks"; headers as recorded from WooCommerce 3.9 deliveries):
the body is the order as REST v3 returns it; headers `X-WC-Webhook-Topic` (order.created,
order.updated), `X-WC-Webhook-Resource`, `X-WC-Webhook-Event`, `X-WC-Webhook-ID`,
`X-WC-Webhook-Delivery-ID` and `X-WC-Webhook-Signature`: base64 of HMAC-SHA256 of the raw body
keyed with the webhook's secret. When a webhook is saved WooCommerce sends a ping whose body is
`webhook_id=<id>` (form-encoded) — UNVERIFIED whether it is signed; it is answered 200 and dropped.

REST v3: `PUT /wp-json/wc/v3/orders/<id>` `{"status": "<status>"}` answers the order with its new
`date_modified_gmt`; `GET /wp-json/wc/v3/orders?modified_after=<ISO>&orderby=modified` lists
changed orders (`modified_after` since WooCommerce 5.8; UNVERIFIED for older versions). Auth:
consumer key and secret as HTTP Basic over HTTPS. Statuses: pending, processing, on-hold,
completed, cancelled, refunded, failed, checkout-draft (and plugins' custom ones).
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from okno.stores.adapters.base import (
    Customer,
    Ignored,
    Malformed,
    Order,
    OrderLine,
    Refused,
    Setting,
    StoreAdapter,
    Written,
    aware,
    decimal,
    http,
    signature_matches,
    text,
)

# Pages of this many orders when reconciling (the API's largest page).
PAGE = 100


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _address(block: dict) -> str:
    parts = [block.get(k) for k in ("postcode", "country", "state", "city", "address_1", "address_2")]
    return ", ".join(text(p) for p in parts if p)


def _name(block: dict) -> str:
    return " ".join(text(block.get(k)) for k in ("first_name", "last_name") if block.get(k)).strip()


class WooCommerceAdapter(StoreAdapter):
    kind = "woocommerce"
    settings = (
        Setting("url", _("Store address"), _("https://shop.example.ru: the WordPress site's address"), url=True),
        Setting("consumer_key", _("Consumer key"), _("WooCommerce → Settings → Advanced → REST API, Read/Write")),
        Setting("consumer_secret", _("Consumer secret"), _("Given with the consumer key"), secret=True),
        Setting("webhook_secret", _("Webhook secret"),
                _("The secret typed into each webhook (WooCommerce → Settings → Advanced → Webhooks)"), secret=True),
    )

    def verify(self, *, headers, body, settings, query) -> None:
        given = headers.get("X-Wc-Webhook-Signature", "")
        if not given:
            if body.startswith(b"webhook_id="):
                return  # the ping WooCommerce sends when a webhook is saved; parse() ignores it
            raise Refused("unsigned: no X-WC-Webhook-Signature header", status=401)
        if not settings.get("webhook_secret"):
            # An empty key would let anyone sign: refuse until the administrator sets the secret.
            raise Refused("the connection has no webhook secret: set it in the connection's settings", status=403)
        if not signature_matches(sign(body, settings["webhook_secret"]), given):
            raise Refused("bad signature: X-WC-Webhook-Signature does not match the body and the webhook secret",
                          status=401)

    def topic(self, *, headers, body) -> str:
        return headers.get("X-Wc-Webhook-Topic", "")[:100]

    def parse(self, *, body, headers) -> list[Order]:
        if body.startswith("webhook_id="):
            raise Ignored("WooCommerce's ping")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise Malformed(f"not JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("id") in (None, ""):
            raise Malformed("not a WooCommerce order: no id")
        return [self.order(data)]

    def order(self, data: dict) -> Order:
        billing, shipping = data.get("billing") or {}, data.get("shipping") or {}
        lines = [OrderLine(name=text(item.get("name")) or "—", sku=text(item.get("sku"), 100),
                           quantity=decimal(item.get("quantity"), None) or decimal(1),
                           price=decimal(item.get("price")) or decimal(0))
                 for item in data.get("line_items") or [] if isinstance(item, dict)]
        methods = [text(s.get("method_title")) for s in data.get("shipping_lines") or [] if isinstance(s, dict)]
        meta = {text(m.get("key"), 100): m.get("value") for m in data.get("meta_data") or [] if isinstance(m, dict)}
        return Order(
            external_id=text(data["id"], 100), number=text(data.get("number"), 100),
            status=text(data.get("status"), 100),
            updated_at=aware(data.get("date_modified_gmt")) or aware(data.get("date_modified")),
            customer=Customer(name=_name(billing) or _name(shipping),
                              phones=[p for p in (text(billing.get("phone")), text(shipping.get("phone"))) if p],
                              emails=[text(billing["email"])] if billing.get("email") else []),
            lines=lines, total=decimal(data.get("total"), None), currency=text(data.get("currency"), 3),
            delivery={"method": ", ".join(m for m in methods if m), "address": _address(shipping) or _address(billing),
                      "price": str(decimal(data.get("shipping_total"))),
                      "date": text(meta.get("delivery_date") or meta.get("_delivery_date"), 40)},
            payment={"method": text(data.get("payment_method_title") or data.get("payment_method")),
                     "paid": bool(data.get("date_paid_gmt") or data.get("date_paid"))},
            comment=text(data.get("customer_note"), 2000),
        )

    def _api(self, settings: dict, path: str) -> str:
        return settings["url"].rstrip("/") + "/wp-json/wc/v3/" + path

    def _auth(self, settings: dict) -> tuple[str, str]:
        return settings["consumer_key"], settings["consumer_secret"]

    def write_status(self, *, settings, external_id, status) -> Written:
        answer = http("PUT", self._api(settings, f"orders/{external_id}"), json={"status": status},
                      auth=self._auth(settings)) or {}
        return Written(updated_at=aware(answer.get("date_modified_gmt")) if isinstance(answer, dict) else None)

    def list_changed(self, *, settings, since: datetime | None) -> list[str]:
        params = {"per_page": PAGE, "orderby": "modified", "order": "asc"}
        if since is not None:
            params["modified_after"] = since.isoformat()
        answer = http("GET", self._api(settings, "orders"), params=params, auth=self._auth(settings)) or []
        return [json.dumps(order) for order in answer if isinstance(order, dict)]

    def test_connection(self, *, settings) -> str:
        http("GET", self._api(settings, "orders"), params={"per_page": 1}, auth=self._auth(settings))
        return "WooCommerce REST API v3 answered"
