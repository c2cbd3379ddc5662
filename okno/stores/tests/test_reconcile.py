"""Reconciliation: orders whose webhooks were lost are caught up by polling the store's API."""

import pytest
from django.utils import timezone

from okno.deals.models import Deal
from okno.deals.tests.factories import stage_of
from okno.stores.drains import store_events_drain, store_polls_drain
from okno.stores.models import StoreConnection, StoreEvent, StoreLog
from okno.stores.tests.factories import WOO_SETTINGS, make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    from okno.stores.tests.fake_shop import FakeShop

    fake = FakeShop().start()
    yield fake
    fake.stop()


def test_orders_changed_while_okno_was_down_are_caught_up_once(shop):
    # given two orders placed while no webhook reached Okno
    connection = make_connection(settings={**WOO_SETTINGS, "url": shop.url})
    shop.add("601")
    shop.add("602", status="completed", phone="+7 900 111-22-33")
    # when the poll runs, then the events drain
    assert store_polls_drain() == 1
    store_events_drain()
    # then both are deals, and the connection remembers the store's time
    assert sorted(Deal.objects.values_list("external_id", flat=True)) == ["601", "602"]
    assert Deal.objects.get(external_id="602").stage == stage_of(connection.pipeline, "won")
    connection.refresh_from_db()
    assert connection.last_sync_at is not None and connection.run_after > timezone.now()
    # when it polls again with nothing new
    StoreConnection.objects.update(run_after=timezone.now())
    store_polls_drain()
    # then nothing is stored twice
    assert StoreEvent.objects.count() == 2


def test_a_shop_that_is_down_is_logged_and_polled_later(shop):
    connection = make_connection(settings={**WOO_SETTINGS, "url": shop.url})
    shop.fail_with = 503
    store_polls_drain()
    connection.refresh_from_db()
    assert "HTTP 503" in connection.last_error
    assert StoreLog.objects.filter(kind=StoreLog.Kind.POLL_FAILED).exists()
