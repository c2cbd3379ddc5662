"""The sync log is written in the company's language: an administrator reads why a write failed."""

import pytest
from django.test import Client
from django.utils import translation

from okno.deals.deal_services import deal_move_to_stage
from okno.deals.models import Deal
from okno.deals.tests.factories import stage_of
from okno.stores.drains import store_events_drain, store_writes_drain
from okno.stores.models import StoreLog
from okno.stores.tests.factories import WOO_SETTINGS, make_connection, woo_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    from okno.stores.tests.fake_shop import FakeShop

    fake = FakeShop().start()
    yield fake
    fake.stop()


@pytest.mark.parametrize("language, words", [("ru", "будет повторено"), ("en", "will retry")])
def test_a_failed_write_is_logged_in_the_language_of_the_drain(shop, language, words):
    # given an order taken as a deal, and then the shop goes down
    connection = make_connection(settings={**WOO_SETTINGS, "url": shop.url})
    woo_post(Client(), connection, shop.add("777"))
    store_events_drain()
    deal = Deal.objects.get()
    shop.stop()
    # when the manager closes the deal and the write is tried
    deal_move_to_stage(deal=deal, stage=stage_of(connection.pipeline, "won"), via="user")
    with translation.override(language):
        store_writes_drain()
    # then the log says, in that language, what failed and what happens next
    line = StoreLog.objects.get(kind=StoreLog.Kind.WRITE_FAILED).message
    assert line.startswith("777 → completed: ") and words in line
