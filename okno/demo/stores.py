"""The demo's online store: a connection of Okno's own kind feeding the orders' pipeline.

A shop on 1C-Bitrix pushes its orders through Okno's store API; the seed sends a dozen through
the same path (a stored event, then the drain's processing), so the connection's page shows
orders taken, one updated by the shop later, one held for a customer without contacts and one
for a status the map lacks: what an administrator meets in the first week.
"""

import json
import random
from datetime import timedelta

from django.utils import timezone

from okno.contacts.models import ContactPhone
from okno.deals.models import Pipeline
from okno.demo import deal_data as dd
from okno.demo.process import STORE
from okno.people.models import User
from okno.stores.connections import store_connection_create
from okno.stores.drains import store_event_process
from okno.stores.models import StoreConnection, StoreEvent

# The shop's statuses, in the order of the pipeline's stages (Новый, Пауза, Подтверждён, Выполнен, Отменён).
STATUSES = ("new", "hold", "confirmed", "done", "cancelled")
ORDERS = 12
# The connection's name is also the source of the cards its new buyers get (stores/sync.py).
CONNECTION_NAME = "Сайт магазина (1С-Битрикс)"


def _send(connection: StoreConnection, order: dict) -> StoreEvent:
    event = StoreEvent.objects.create(connection=connection, source=StoreEvent.Source.API, topic="upsert",
                                      external_id=order["external_id"], body=json.dumps(order, ensure_ascii=False))
    return store_event_process(event)


def _phone_as_typed(e164: str) -> str:
    """+79161234567 as a shop's form keeps it: 8 (916) 123-45-67 (the card matches it all the same)."""
    digits = e164.removeprefix("+7")
    return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:10]}" if len(digits) == 10 else e164


def stores_seed(*, admin: User, seed: int | None, say) -> int:
    """The connection and its orders; returns how many orders became deals."""
    pipeline = Pipeline.objects.filter(name=STORE).first()
    if pipeline is None:
        return 0
    stages = list(pipeline.stages.order_by("position"))
    connection = store_connection_create(
        actor=admin, kind=StoreConnection.Kind.OKNO, name=CONNECTION_NAME, pipeline_id=pipeline.pk,
        settings={"callback_url": "https://shop.example.ru/bitrix/okno-status.php"},
        status_map=[[status, stage.pk] for status, stage in zip(STATUSES, stages, strict=False)])
    rng = random.Random(f"stores-{seed}")
    phones = list(ContactPhone.objects.filter(e164__startswith="+79").order_by("id")
                  .values_list("e164", flat=True)[:50])
    now = timezone.now().replace(microsecond=0)
    taken = 0
    for i in range(ORDERS):
        name, sku, price = rng.choice(dd.STORE_PRODUCTS)
        known = phones and i % 3 != 2
        order = {
            "external_id": f"B-{5001 + i}", "number": f"B-{5001 + i}",
            "status": rng.choice(("new", "new", "confirmed", "hold")),
            "updated_at": (now - timedelta(hours=ORDERS - i)).isoformat(),
            "customer": {"name": "" if known else f"Покупатель сайта {i + 1}",
                         "phone": _phone_as_typed(rng.choice(phones)) if known else f"8 (999) 700-{i:02d}-{i:02d}"},
            "lines": [{"name": name, "sku": sku, "quantity": rng.choice((1, 1, 2)), "price": price}],
            "currency": "RUB", "comment": rng.choice(("", "Позвонить перед доставкой", "Подъезд со двора")),
            "delivery": {"method": rng.choice(dd.DELIVERY_METHODS), "address": "Москва, ул. Тверская, 7",
                         "date": (now + timedelta(days=2)).date().isoformat()},
            "payment": {"method": rng.choice(("Картой на сайте", "При получении")), "paid": False},
        }
        if _send(connection, order).status == StoreEvent.Status.DONE:
            taken += 1
        if i % 4 == 0:  # the shop updates it later: paid and delivered
            _send(connection, {**order, "status": "done", "updated_at": (now - timedelta(minutes=30 - i)).isoformat(),
                               "payment": {**order["payment"], "paid": True}})
    # What needs a person: an order without contacts, and a status the map lacks.
    _send(connection, {"external_id": "B-6001", "number": "B-6001", "status": "new", "customer": {"name": "Аноним"},
                       "lines": [{"name": "Капсулы", "quantity": 1, "price": "690"}]})
    _send(connection, {"external_id": "B-6002", "number": "B-6002", "status": "awaiting_pickup",
                       "customer": {"name": "Ирина", "phone": "8 (999) 711-22-33"},
                       "lines": [{"name": "Чайник", "quantity": 1, "price": "4490"}]})
    say(f"online store connection with {taken} orders as deals, 2 held for a person")
    return taken
