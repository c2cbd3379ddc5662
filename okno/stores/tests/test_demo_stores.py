"""The demo company has an online store of Okno's own kind with orders in the orders' pipeline."""

import pytest

from okno.deals.models import Deal
from okno.deals.quick_fields import quick_fields
from okno.demo import company as demo
from okno.demo.process import STORE
from okno.stores.models import StoreConnection, StoreEvent, StoreOrder


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_demo_store_feeds_the_orders_pipeline(db):
    # when
    demo.demo_seed(contacts=400, seed=11)
    # then
    connection = StoreConnection.objects.get()
    assert connection.kind == StoreConnection.Kind.OKNO and connection.pipeline.name == STORE
    orders = StoreOrder.objects.filter(connection=connection).select_related("deal")
    assert orders.count() >= 10
    assert all(o.deal.pipeline_id == connection.pipeline_id and o.deal.lines.exists() for o in orders)
    held = set(connection.events.filter(status=StoreEvent.Status.PROBLEM).values_list("reason", flat=True))
    assert held == {"no_contact", "status_unmapped"}
    # and the board's quick fields are there, filled on the orders' deals
    assert [f.key for f in quick_fields(connection.pipeline)] == ["delivery_date", "delivery_address", "comment"]
    assert all(o.deal.custom.get("delivery_address") and o.deal.custom.get("delivery_date") for o in orders)
    assert any(d.custom.get("comment") for d in Deal.objects.filter(pipeline=connection.pipeline))
