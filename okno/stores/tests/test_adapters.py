"""Each adapter reads its store's recorded payload into the exact order."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from okno.stores.adapters.base import Ignored, Refused
from okno.stores.adapters.insales import InSalesAdapter
from okno.stores.adapters.okno import OknoAdapter
from okno.stores.adapters.pretix import PretixAdapter
from okno.stores.adapters.tilda import TildaAdapter
from okno.stores.adapters.woocommerce import WooCommerceAdapter, sign
from okno.stores.tests.factories import payload


def test_woocommerce_order_created_is_read_with_lines_delivery_and_payment():
    # given
    body = payload("woocommerce/order_created.json")
    # when
    [order] = WooCommerceAdapter().parse(body=body, headers={})
    # then
    assert (order.external_id, order.number, order.status) == ("4750", "4750", "processing")
    assert order.updated_at == datetime(2026, 12, 3, 9, 0, 5, tzinfo=UTC)
    assert order.customer.name == "Анна Смирнова"
    assert order.customer.phones == ["8 (912) 345-67-89"]
    assert order.customer.emails == ["anna.smirnova@example.ru"]
    assert [(line.name, line.sku, line.quantity, line.price) for line in order.lines] == [
        ("Диван «Осло», серый", "OSLO-GR", Decimal(1), Decimal(29000)),
        ("Подушка декоративная", "PIL-01", Decimal(2), Decimal(1000))]
    assert order.total == Decimal("31500.00")
    assert order.delivery == {"method": "Курьер", "address": "420111, RU, Казань, ул. Ленина, 5, кв. 12",
                              "price": "500.00", "date": "2026-12-06"}
    assert order.payment == {"method": "Оплата при получении", "paid": False}
    assert order.comment == "Позвоните за час до доставки"


def test_woocommerce_signature_is_base64_hmac_sha256_of_the_raw_body():
    # given
    body = payload("woocommerce/order_created.json").encode()
    adapter = WooCommerceAdapter()
    # when / then: the right secret passes, another one and none are refused with the reason
    adapter.verify(headers={"X-Wc-Webhook-Signature": sign(body, "s3")}, body=body,
                   settings={"webhook_secret": "s3"}, query={})
    with pytest.raises(Refused, match="bad signature"):
        adapter.verify(headers={"X-Wc-Webhook-Signature": sign(body, "other")}, body=body,
                       settings={"webhook_secret": "s3"}, query={})
    with pytest.raises(Refused, match="unsigned") as refused:
        adapter.verify(headers={}, body=body, settings={"webhook_secret": "s3"}, query={})
    assert refused.value.status == 401


def test_woocommerce_ping_is_ignored():
    with pytest.raises(Ignored):
        WooCommerceAdapter().parse(body="webhook_id=3", headers={})


def test_insales_orders_create_is_read():
    # given
    body = payload("insales/orders_create.json")
    # when
    [order] = InSalesAdapter().parse(body=body, headers={})
    # then
    assert (order.external_id, order.number, order.status) == ("12345678", "1024", "new")
    assert order.customer.name == "Иванов Пётр"
    assert order.customer.phones == ["+7 916 000-11-22"]
    assert [(line.sku, line.quantity, line.price) for line in order.lines] == [
        ("KT-200", Decimal(1), Decimal("3590.0")), ("MUG-350", Decimal(2), Decimal("500.0"))]
    assert order.total == Decimal("4940.0")
    assert order.delivery["address"] == "101000, Москва, ул. Мясницкая, д. 10, кв. 3"
    assert order.delivery["date"] == "2026-12-08"


def test_insales_custom_status_wins_over_fulfillment_status():
    data = json.loads(payload("insales/orders_create.json"))
    data["custom_status"] = {"permalink": "sobran", "title": "Собран"}
    [order] = InSalesAdapter().parse(body=json.dumps(data), headers={})
    assert order.status == "sobran"


def test_tilda_payment_block_becomes_an_order():
    # given
    body = payload("tilda/order.txt").strip()
    # when
    [order] = TildaAdapter().parse(body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    # then
    assert (order.external_id, order.status) == ("1834567201", "new")
    assert order.customer.name == "Ольга"
    assert order.customer.phones == ["+7 (921) 555-44-33"]
    assert [(line.name, line.sku, line.quantity, line.price) for line in order.lines] == [
        ("Свеча ароматическая", "CND-1", Decimal(3), Decimal(900))]
    assert order.total == Decimal(3000)
    assert order.delivery["address"] == "Санкт-Петербург, Невский 1"
    assert order.comment == "Подарок"


def test_tilda_products_as_strings_and_bracketed_keys():
    body = ("Phone=89210000000&payment[orderid]=77&payment[amount]=1500"
            "&payment[products][0]=%D0%94%D0%B8%D0%B2%D0%B0%D0%BD+-+1x1500+%3D+1500")
    [order] = TildaAdapter().parse(body=body, headers={})
    assert order.external_id == "77"
    assert [(line.name, line.quantity, line.price) for line in order.lines] == [("Диван", Decimal(1), Decimal(1500))]


def test_tilda_test_request_is_ignored():
    with pytest.raises(Ignored):
        TildaAdapter().parse(body="test=test", headers={})


def test_okno_own_api_order_is_read():
    data = json.loads(payload("okno/order.json"))
    [order] = OknoAdapter().parse(body=json.dumps({**data, "external_id": "B-2001"}), headers={})
    assert (order.external_id, order.number, order.status) == ("B-2001", "B-2001", "new")
    assert order.customer.phones == ["89035551234"]
    assert order.lines[0].quantity == Decimal(2)


def test_pretix_order_is_read_with_its_status_named():
    [order] = PretixAdapter().parse(body=payload("pretix/order.json"), headers={})
    assert (order.external_id, order.status) == ("ABC12", "pending")
    assert order.customer.emails == ["guest@example.ru"]
    assert [(line.name, line.price) for line in order.lines] == [("Билет на конференцию", Decimal("2500.00"))]


def test_woocommerce_refuses_every_signature_while_the_connection_has_no_secret():
    body = b"{}"
    with pytest.raises(Refused, match="no webhook secret"):
        WooCommerceAdapter().verify(headers={"X-Wc-Webhook-Signature": sign(body, "")}, body=body,
                                    settings={"webhook_secret": ""}, query={})
