"""Stores' test data: a connection on the store pipeline, and recorded payloads."""

import json
from pathlib import Path

from okno.deals.models import Pipeline
from okno.deals.tests.factories import PipelineFactory, stage_of
from okno.stores.adapters.woocommerce import sign
from okno.stores.models import StoreConnection

PAYLOADS = Path(__file__).parent / "payloads"
WOO_SETTINGS = {"url": "https://shop.example.ru", "consumer_key": "ck_test", "consumer_secret": "cs_test",
                "webhook_secret": "wh-secret"}


def payload(path: str) -> str:
    return (PAYLOADS / path).read_text(encoding="utf-8")


def woo_status_map(pipeline: Pipeline) -> list[list]:
    """WooCommerce's statuses on the store pipeline: New, Pause, Confirmed, Done, Cancelled."""
    new, paused = stage_of(pipeline, "open", 0), stage_of(pipeline, "paused")
    confirmed, done, lost = stage_of(pipeline, "open", 1), stage_of(pipeline, "won"), stage_of(pipeline, "lost")
    return [["pending", new.pk], ["processing", confirmed.pk], ["on-hold", paused.pk], ["completed", done.pk],
            ["cancelled", lost.pk], ["failed", lost.pk]]


def make_connection(kind: str = "woocommerce", *, pipeline: Pipeline | None = None, settings: dict | None = None,
                    status_map: list | None = None) -> StoreConnection:
    pipeline = pipeline or PipelineFactory()
    return StoreConnection.objects.create(
        kind=kind, name=f"Магазин {kind}", pipeline=pipeline,
        settings=WOO_SETTINGS if settings is None and kind == "woocommerce" else (settings or {}),
        status_map=woo_status_map(pipeline) if status_map is None else status_map)


def woo_order(**changes) -> dict:
    order = json.loads(payload("woocommerce/order_created.json"))
    order.update(changes)
    return order


def woo_post(client, connection: StoreConnection, order: dict, *, topic: str = "order.created",
             secret: str | None = None, signed: bool = True):
    body = json.dumps(order, ensure_ascii=False).encode()
    headers = {k: v for k, v in json.loads(payload("woocommerce/headers.json")).items()}
    headers["X-Wc-Webhook-Topic"] = topic
    if signed:
        headers["X-Wc-Webhook-Signature"] = sign(body, secret if secret is not None
                                                 else connection.settings["webhook_secret"])
    return client.post(f"/stores/hooks/{connection.webhook_token}/", data=body, content_type="application/json",
                       headers=headers)
