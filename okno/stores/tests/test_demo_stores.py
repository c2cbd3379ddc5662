"""The demo company has an online store of Okno's own kind with orders in the orders' pipeline."""

import pytest

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
