"""Tilda: a form submission carrying a `payment` block (the cart) becomes an order.

Tilda posts each submission to the webhook address (PROTOCOLS.md §9): form-urlencoded by
default, JSON when "send as JSON" is on; `test=test` when the webhook is added. The cart comes
as `payment`: a JSON string in a form-encoded body, an object in a JSON body, or bracketed keys
(`payment[orderid]`, `payment[products][0][name]`) — all three are read. UNVERIFIED against a
live Tilda: the exact keys inside `payment` (`orderid`, `amount`, `products: [{name, quantity,
amount, price, sku}]`, `delivery`, `delivery_price`, `delivery_address`), the older shape of
`products` as strings ("Name - 1x1500 = 1500"), and the service field `tranid`.

Tilda signs nothing (the URL's secret token is the proof), has no order statuses and no API to
poll: every order arrives with the status "new", which the connection's map sends to a stage.
"""

import json
import re
from urllib.parse import parse_qsl

from okno.stores.adapters.base import (
    Customer,
    Ignored,
    Malformed,
    Order,
    OrderLine,
    StoreAdapter,
    decimal,
    text,
)

STATUS = "new"
# "Диван - 1x15000 = 15000": Tilda's products as strings.
PRODUCT_RE = re.compile(r"^(?P<name>.+?)\s*-\s*(?P<qty>[\d.,]+)\s*x\s*(?P<price>[\d.,\s]+?)\s*=\s*[\d.,\s]+$")
NAME_KEYS = ("Name", "name", "Имя", "fio")
PHONE_KEYS = ("Phone", "phone", "Телефон", "tel")
EMAIL_KEYS = ("Email", "email", "E-mail")
COMMENT_KEYS = ("Comments", "comment", "Comment", "Комментарий")
ADDRESS_KEYS = ("Address", "address", "Адрес")


def _nest(pairs: list[tuple[str, str]]) -> dict:
    """`payment[products][0][name]=…` pairs as nested dicts (lists stay dicts keyed "0", "1")."""
    out: dict = {}
    for key, value in pairs:
        parts = [p for p in re.split(r"[\[\]]+", key) if p]
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return out


def _first(data: dict, keys: tuple[str, ...]) -> str:
    return next((text(data[k]) for k in keys if data.get(k)), "")


def _line(product) -> OrderLine | None:
    if isinstance(product, str):
        match = PRODUCT_RE.match(product.strip())
        if not match:
            return OrderLine(name=text(product)) if product.strip() else None
        return OrderLine(name=text(match["name"]), quantity=decimal(match["qty"], None) or decimal(1),
                         price=decimal(match["price"]) or decimal(0))
    if not isinstance(product, dict):
        return None
    quantity = decimal(product.get("quantity"), None) or decimal(1)
    price = decimal(product.get("price"), None)
    if price is None:  # only the line's sum given
        price = ((decimal(product.get("amount")) or decimal(0)) / quantity).quantize(decimal("0.01"))
    return OrderLine(name=text(product.get("name")) or "—", sku=text(product.get("sku"), 100), quantity=quantity,
                     price=price)


class TildaAdapter(StoreAdapter):
    kind = "tilda"
    can_write = False
    can_poll = False

    def topic(self, *, headers, body) -> str:
        return "form"

    def _fields(self, body: str, headers: dict) -> dict:
        if "json" in headers.get("Content-Type", "") or body.lstrip().startswith("{"):
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise Malformed(f"not JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise Malformed("not a form submission")
            return data
        return _nest(parse_qsl(body, keep_blank_values=True))

    def parse(self, *, body, headers) -> list[Order]:
        data = self._fields(body, headers)
        if data.get("test") == "test":
            raise Ignored("Tilda's test request")
        payment = data.get("payment")
        if isinstance(payment, str):
            try:
                payment = json.loads(payment)
            except ValueError as exc:
                raise Malformed(f"the payment block is not JSON: {exc}") from exc
        if not isinstance(payment, dict):
            raise Ignored("a form with no payment block: a lead for the inbox, not an order")
        products = payment.get("products") or []
        if isinstance(products, dict):  # bracketed keys: {"0": {...}, "1": {...}}
            products = [products[k] for k in sorted(products, key=lambda k: int(k) if k.isdigit() else 0)]
        external_id = text(payment.get("orderid") or data.get("tranid"), 100)
        if not external_id:
            raise Malformed("no payment.orderid and no tranid: the order cannot be told from another")
        lines = [line for line in map(_line, products) if line is not None]
        return [Order(
            external_id=external_id, number=external_id, status=STATUS,
            customer=Customer(name=_first(data, NAME_KEYS),
                              phones=[p for p in [_first(data, PHONE_KEYS)] if p],
                              emails=[e for e in [_first(data, EMAIL_KEYS)] if e]),
            lines=lines, total=decimal(payment.get("amount"), None), currency="",
            delivery={"method": text(payment.get("delivery")), "price": str(decimal(payment.get("delivery_price"))),
                      "address": text(payment.get("delivery_address")) or _first(data, ADDRESS_KEYS),
                      "date": ""},
            payment={"method": text(payment.get("sys") or payment.get("systranid")), "paid": False},
            comment=_first(data, COMMENT_KEYS)[:2000],
        )]
