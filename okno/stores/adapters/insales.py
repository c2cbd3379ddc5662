"""InSales: webhooks `orders/create` and `orders/update`, and its REST API for the status.

Webhooks (insales.ru "API - Webhooks"): an application registers `POST /admin/webhooks.json`
`{"webhook": {"address", "topic": "orders/create"|"orders/update", "format_type": "json"}}` and
InSales then POSTs the whole order to the address. InSales does not sign webhooks (UNVERIFIED:
no signature header found in its docs), so the connection's URL carries its secret token, and
each order is trusted only as far as the token.

Order JSON (UNVERIFIED field by field against a live shop; as integrators record it): `id`,
`number`, `updated_at`, `fulfillment_status` (new, accepted, approved, dispatched, delivered,
returned, declined), `custom_status` `{permalink, title}` (a shop's own statuses),
`financial_status` (pending, paid), `client` `{name, surname, phone, email}`, `order_lines`
`[{title, sku, quantity, sale_price, full_sale_price}]`, `total_price`, `delivery_title`,
`delivery_price`, `delivery_date`, `shipping_address` `{full_delivery_address, address}`,
`payment_title`, `comment`, `currency_code`.

REST (HTTP Basic with the application's identifier and password on the shop's own domain):
`PUT /admin/orders/<id>.json` `{"order": {"fulfillment_status": "<status>"}}` (a status that is
a shop's custom one is written as `custom_status_permalink`); `GET /admin/orders.json
?updated_since=<ISO>&per_page=100` lists changed orders.
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
    Written,
    aware,
    decimal,
    http,
    text,
)

# The standard fulfillment statuses; any other status in the map is a shop's custom status.
FULFILLMENT = ("new", "accepted", "approved", "dispatched", "delivered", "returned", "declined")
PAGE = 100


class InSalesAdapter(StoreAdapter):
    kind = "insales"
    settings = (
        Setting("url", _("Shop address"), _("https://myshop-xx.myinsales.ru or the shop's own domain"), url=True),
        Setting("api_key", _("Application identifier"), _("InSales → Applications → Developers: the identifier")),
        Setting("password", _("Application password"), _("Given with the identifier"), secret=True),
    )

    def topic(self, *, headers, body) -> str:
        return headers.get("X-Insales-Topic", "")[:100]

    def parse(self, *, body, headers) -> list[Order]:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise Malformed(f"not JSON (choose the json format of the webhook): {exc}") from exc
        if isinstance(data, dict) and "order" in data and isinstance(data["order"], dict):
            data = data["order"]
        if not isinstance(data, dict):
            raise Malformed("not an InSales order")
        if data.get("id") in (None, ""):
            raise Ignored("no order id: not an order webhook")
        return [self.order(data)]

    def order(self, data: dict) -> Order:
        client = data.get("client") or {}
        custom = data.get("custom_status") or {}
        status = (text(custom.get("permalink") if isinstance(custom, dict) else "")
                  or text(data.get("fulfillment_status")))
        address = data.get("shipping_address") or {}
        name = " ".join(text(client.get(k)) for k in ("surname", "name", "middlename") if client.get(k))
        lines = [OrderLine(name=text(line.get("title")) or "—", sku=text(line.get("sku"), 100),
                           quantity=decimal(line.get("quantity"), None) or decimal(1),
                           price=decimal(line.get("sale_price")) or decimal(0))
                 for line in data.get("order_lines") or [] if isinstance(line, dict)]
        return Order(
            external_id=text(data["id"], 100), number=text(data.get("number"), 100), status=text(status, 100),
            updated_at=aware(data.get("updated_at")),
            customer=Customer(name=name or text(client.get("contact_name")),
                              phones=[text(client["phone"])] if client.get("phone") else [],
                              emails=[text(client["email"])] if client.get("email") else []),
            lines=lines, total=decimal(data.get("total_price"), None), currency=text(data.get("currency_code"), 3),
            delivery={"method": text(data.get("delivery_title")), "price": str(decimal(data.get("delivery_price"))),
                      "address": text(address.get("full_delivery_address") or address.get("address")
                                      if isinstance(address, dict) else ""),
                      "date": text(data.get("delivery_date"), 40)},
            payment={"method": text(data.get("payment_title")), "paid": data.get("financial_status") == "paid"},
            comment=text(data.get("comment"), 2000),
        )

    def _url(self, settings: dict, path: str) -> str:
        return settings["url"].rstrip("/") + path

    def _auth(self, settings: dict) -> tuple[str, str]:
        return settings["api_key"], settings["password"]

    def write_status(self, *, settings, external_id, status) -> Written:
        change = {"fulfillment_status": status} if status in FULFILLMENT else {"custom_status_permalink": status}
        answer = http("PUT", self._url(settings, f"/admin/orders/{external_id}.json"), json={"order": change},
                      auth=self._auth(settings))
        return Written(updated_at=aware(answer.get("updated_at")) if isinstance(answer, dict) else None)

    def list_changed(self, *, settings, since: datetime | None) -> list[str]:
        params = {"per_page": PAGE}
        if since is not None:
            params["updated_since"] = since.isoformat()
        answer = http("GET", self._url(settings, "/admin/orders.json"), params=params, auth=self._auth(settings)) or []
        return [json.dumps(order) for order in answer if isinstance(order, dict)]

    def test_connection(self, *, settings) -> str:
        http("GET", self._url(settings, "/admin/account.json"), auth=self._auth(settings))
        return "InSales API answered"
