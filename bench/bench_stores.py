"""Online stores (issue 17).

1. Orders per second into deals: WooCommerce `order.created` bodies stored as the webhook view
   stores them, then the drain (parse → identify the customer by the card's rules → deal with its
   lines and details → StoreOrder), half of them from customers already known under another
   phone format. Beside it, the raw insert rate of the same deals and lines (ORM, one transaction
   per deal, no identify, no events) in the same run. Then the upsert's other half: a fifth of
   the orders changed in the shop (a line's quantity), sent as signed `order.updated` webhooks
   through the whole Django stack (the rate the hook view takes them), then drained into the
   existing deals.
2. Status changes both ways with a simulated shop (okno/stores/tests/fake_shop.py: an in-process
   HTTP server speaking WooCommerce's REST v3): N changes made in Okno (written to the shop by the
   writes drain, each coming back as the shop's signed webhook through the whole Django stack)
   and N made in the shop (webhooks moving deals). At the end both sides must be equal for every
   order, and there must be 0 echoes: no write caused by a store's own change, no move caused by
   Okno's own write coming back.
"""

import json
import os
import random
import subprocess
import time
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"full": {"orders": 5000, "changes": 10_000, "orders_moved": 200},
         "small": {"orders": 200, "changes": 200, "orders_moved": 20}}
TAG = "bench-stores"


def _row(metric: str, value, target="", ok: bool | None = None) -> dict:
    return {"metric": metric, "value": value, "target": target, "ok": ok}


def commit_measured() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bench/bench_stores.py", "okno/stores")
    return head + ("+dirty" if dirty else "")


def _pipeline():
    from okno.deals.models import Pipeline, Stage
    from okno.deals.tests.factories import STORE_STAGES

    Pipeline.objects.filter(name__startswith=TAG).update(is_active=False)
    pipeline = Pipeline.objects.create(name=f"{TAG} {time.time():.0f}")
    Stage.objects.bulk_create([Stage(pipeline=pipeline, position=i, **s) for i, s in enumerate(STORE_STAGES)])
    return pipeline


def _connection(pipeline, url: str):
    from okno.stores.models import StoreConnection
    from okno.stores.tests.factories import WOO_SETTINGS, woo_status_map

    return StoreConnection.objects.create(kind="woocommerce", name=TAG, pipeline=pipeline,
                                          settings={**WOO_SETTINGS, "url": url}, status_map=woo_status_map(pipeline))


def _known_customers(n: int, rng: random.Random) -> list[str]:
    """n cards with a phone each; their orders come with the phone in another format."""
    from okno.contacts.models import Contact, ContactPhone

    base = 79000000000 + rng.randrange(0, 90_000_000)
    contacts = Contact.objects.bulk_create([Contact(first_name="Покупатель", last_name=str(i), source=TAG)
                                            for i in range(n)], batch_size=2000)
    phones = [f"+{base + i}" for i in range(n)]
    ContactPhone.objects.bulk_create([ContactPhone(contact=c, e164=p, raw=p) for c, p in zip(contacts, phones,
                                                                                             strict=True)],
                                     batch_size=2000)
    return [f"8 ({p[2:5]}) {p[5:8]}-{p[8:10]}-{p[10:12]}" for p in phones]


def orders_into_deals(n: int) -> list[dict]:
    from okno.deals.models import Deal, DealLineItem
    from okno.stores.drains import store_events_drain
    from okno.stores.models import StoreEvent
    from okno.stores.tests.factories import woo_order, woo_post

    rng = random.Random(17)
    pipeline = _pipeline()
    connection = _connection(pipeline, "http://127.0.0.1:9")
    known = _known_customers(n // 2, rng)
    offset = rng.randrange(1, 10**9)
    events = []
    for i in range(n):
        order = woo_order(id=offset + i, number=str(offset + i))
        phone = known[i] if i < len(known) else f"+7 (95{i % 10}) {rng.randrange(1000000, 9999999)}"
        order["billing"] = {**order["billing"], "phone": phone, "email": ""}
        events.append(StoreEvent(connection=connection, topic="order.created", body=json.dumps(order)))
    StoreEvent.objects.bulk_create(events, batch_size=1000)
    started = time.perf_counter()
    while store_events_drain():
        pass
    seconds = time.perf_counter() - started
    made = Deal.objects.filter(pipeline=pipeline).count()
    # Changed orders: signed webhooks through the hook view, then the drain updates the deals.
    changed = []
    for event in events[:max(n // 5, 1)]:
        order = json.loads(event.body)
        order.update(date_modified="2026-12-03T13:00:00", date_modified_gmt="2026-12-03T10:00:00")
        order["line_items"] = [{**order["line_items"][0], "quantity": 2}, *order["line_items"][1:]]
        changed.append(order)
    client = Client()
    started = time.perf_counter()
    refused = sum(1 for order in changed if woo_post(client, connection, order, topic="order.updated").status_code
                  != 200)
    hook_seconds = time.perf_counter() - started
    started = time.perf_counter()
    while store_events_drain():
        pass
    update_seconds = time.perf_counter() - started
    sku = changed[0]["line_items"][0]["sku"]
    updated = DealLineItem.objects.filter(deal__pipeline=pipeline, sku=sku, quantity=2).count()
    # The raw baseline: the same deals and lines written plainly, one transaction per deal.
    raw_pipeline = _pipeline()
    stage = raw_pipeline.stages.first()
    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            deal = Deal.objects.create(pipeline=raw_pipeline, stage=stage, title=f"raw {i}",
                                       amount=Decimal("31000.00"), external_id=f"raw-{i}")
            DealLineItem.objects.bulk_create([
                DealLineItem(deal=deal, name="Диван", sku="OSLO", quantity=1, price=Decimal(29000), position=0),
                DealLineItem(deal=deal, name="Подушка", sku="PIL", quantity=2, price=Decimal(1000), position=1)])
    raw_seconds = time.perf_counter() - started
    return [
        _row("orders into deals", made, n, made == n),
        _row("orders/s (store, identify, upsert)", round(n / seconds, 1)),
        _row("raw deal inserts/s (baseline)", round(n / raw_seconds, 1)),
        _row("changed orders by webhook, deals updated", updated, len(changed), updated == len(changed)),
        _row("webhooks refused", refused, 0, refused == 0),
        _row("webhooks taken/s (signed POST through Django, event stored)", round(len(changed) / hook_seconds, 1)),
        _row("changed orders/s into their deals (identify, update lines)", round(len(changed) / update_seconds, 1)),
        _row("events left unprocessed", StoreEvent.objects.filter(connection=connection).exclude(status="done").count(),
             0, not StoreEvent.objects.filter(connection=connection).exclude(status="done").exists()),
    ]


def status_changes(changes: int, orders: int) -> list[dict]:
    from okno.deals.deal_services import deal_move_to_stage
    from okno.deals.models import DealStageChange, Stage
    from okno.stores.drains import store_events_drain, store_writes_drain
    from okno.stores.models import StoreOrder, StoreWrite
    from okno.stores.tests.factories import woo_post
    from okno.stores.tests.fake_shop import FakeShop

    rng = random.Random(1717)
    shop = FakeShop().start()
    client = Client()
    try:
        pipeline = _pipeline()
        connection = _connection(pipeline, shop.url)
        ids = [str(900_000 + i) for i in range(orders)]
        for i, order_id in enumerate(ids):
            woo_post(client, connection, shop.add(order_id, phone=f"+7 (960) 000-{i // 100:02d}-{i % 100:02d}"))
        while store_events_drain():
            pass
        stored = {o.external_id: o for o in StoreOrder.objects.filter(connection=connection).select_related("deal")}
        stages = {s: Stage.objects.get(pk=connection.stage_for(s)) for s in ("processing", "on-hold", "completed")}
        statuses = list(stages)
        okno_moves = store_moves = 0
        started = time.perf_counter()
        batch = 50
        while okno_moves < changes or store_moves < changes:
            # A batch of changes in Okno: moved, written to the shop, the shop's webhooks come back.
            touched = []
            for _ in range(min(batch, changes - okno_moves)):
                order_id = rng.choice(ids)
                deal = stored[order_id].deal
                deal.refresh_from_db(fields=["stage"])
                target = rng.choice([s for s in statuses if stages[s].pk != deal.stage_id])
                deal_move_to_stage(deal=deal, stage=stages[target], via="user")
                okno_moves += 1
                touched.append(order_id)
            while store_writes_drain():
                pass
            for order_id in touched:
                woo_post(client, connection, shop.webhook_body(order_id), topic="order.updated")
            # A batch of changes in the shop: each a webhook.
            for _ in range(min(batch, changes - store_moves)):
                order_id = rng.choice(ids)
                current = shop.orders[order_id]["status"]
                woo_post(client, connection, shop.change(order_id, rng.choice([s for s in statuses if s != current])),
                         topic="order.updated")
                store_moves += 1
            while store_events_drain():
                pass
        seconds = time.perf_counter() - started
        while store_writes_drain():
            pass
        unequal = sum(1 for o in StoreOrder.objects.filter(connection=connection).select_related("deal")
                      if connection.status_for(o.deal.stage_id) != shop.orders[o.external_id]["status"])
        # Every write row, superseded ones too: each must come from a move made in Okno.
        writes = StoreWrite.objects.filter(connection=connection).count()
        moved_by_store = DealStageChange.objects.filter(deal__pipeline=pipeline, via="store",
                                                        from_stage__isnull=False).count()
        # Echoes: writes Okno made that no Okno move asked for, and moves the store caused beyond its own changes.
        echoes = max(writes - okno_moves, 0) + max(moved_by_store - store_moves, 0)
    finally:
        shop.stop()
    return [
        _row("status changes made in Okno", okno_moves, changes, okno_moves == changes),
        _row("status changes made in the shop", store_moves, changes, store_moves == changes),
        _row("orders unequal at the end", unequal, 0, unequal == 0),
        _row("echoes", echoes, 0, echoes == 0),
        _row("status writes sent to the shop", len(shop.writes)),
        _row("changes/s both ways (with HTTP and webhooks)", round((okno_moves + store_moves) / seconds, 1)),
    ]


def run(*, db: str, scale: str) -> list[dict]:
    cfg = SIZES.get(scale, SIZES["small"])
    # Other sessions share the machine's 2 cores: the load says how much of it this run had.
    rows = [_row("commit", commit_measured()), _row("load average at start (2 cores shared)",
                                                    round(os.getloadavg()[0], 1))]
    # BENCH_STORES_PARTS=orders (or changes) runs one half: at full scale each takes tens of minutes here.
    parts = os.environ.get("BENCH_STORES_PARTS", "orders,changes").split(",")
    if "orders" in parts:
        rows += orders_into_deals(cfg["orders"])
        rows.append(_row("load average after the orders", round(os.getloadavg()[0], 1)))
    if "changes" in parts:
        rows += status_changes(cfg["changes"], cfg["orders_moved"])
    rows.append(_row("load average at the end", round(os.getloadavg()[0], 1)))
    return rows
