"""Okno → store: a stage change writes the mapped status through a durable, retried row; no echoes."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from okno.deals.deal_services import deal_move_to_stage
from okno.deals.models import Deal
from okno.deals.tests.factories import stage_of
from okno.stores.drains import store_events_drain, store_writes_drain
from okno.stores.models import StoreLog, StoreOrder, StoreWrite
from okno.stores.tests.factories import WOO_SETTINGS, make_connection, woo_post
from okno.timeline.models import Activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    from okno.stores.tests.fake_shop import FakeShop

    fake = FakeShop().start()
    yield fake
    fake.stop()


@pytest.fixture
def store(shop):
    """A connection to the simulated shop with one order taken as a deal (processing → Confirmed)."""
    connection = make_connection(settings={**WOO_SETTINGS, "url": shop.url})
    woo_post(Client(), connection, shop.add("501"))
    store_events_drain()
    return connection, Deal.objects.get()


def _due_now() -> None:
    """Passes the time in: every waiting write is due."""
    StoreWrite.objects.update(run_after=timezone.now() - timedelta(seconds=1))


def test_a_stage_change_in_okno_writes_the_mapped_status_and_its_echo_changes_nothing(store, shop):
    # given
    connection, deal = store
    done = stage_of(connection.pipeline, "won")
    # when the manager closes the deal
    deal_move_to_stage(deal=deal, stage=done, via="user")
    # then a write is queued with the move, and the drain sends it
    write = StoreWrite.objects.get()
    assert (write.status, write.state) == ("completed", StoreWrite.State.PENDING)
    assert store_writes_drain() == 1
    assert shop.orders["501"]["status"] == "completed"
    assert StoreWrite.objects.get().state == StoreWrite.State.SENT
    # when the shop's order.updated webhook comes back with what Okno wrote
    moves = deal.stage_changes.count()
    woo_post(Client(), connection, shop.webhook_body("501"), topic="order.updated")
    store_events_drain()
    # then nothing moves and nothing is written back
    deal.refresh_from_db()
    assert deal.stage == done and deal.stage_changes.count() == moves
    assert StoreWrite.objects.count() == 1


def test_an_echo_without_the_stores_time_is_recognised_as_ours(store, shop):
    # given a status written, the store's answer without its time
    connection, deal = store
    deal_move_to_stage(deal=deal, stage=stage_of(connection.pipeline, "won"), via="user")
    store_writes_drain()
    StoreOrder.objects.update(store_updated_at=None)
    StoreWrite.objects.update(echo_seen=False)
    # when the echo arrives
    woo_post(Client(), connection, shop.webhook_body("501"), topic="order.updated")
    store_events_drain()
    # then it is an echo, swallowed once
    assert StoreLog.objects.filter(kind=StoreLog.Kind.ECHO).count() == 1
    assert StoreWrite.objects.get().echo_seen


def test_a_move_the_store_made_writes_nothing_back(store, shop):
    # given
    connection, deal = store
    # when the shop's admin puts the order on hold
    woo_post(Client(), connection, shop.change("501", "on-hold"), topic="order.updated")
    store_events_drain()
    # then the deal is paused and no write goes back
    deal.refresh_from_db()
    assert deal.stage == stage_of(connection.pipeline, "paused")
    assert not StoreWrite.objects.exists()


@pytest.mark.parametrize("status_code", [503, 400])
def test_a_shop_down_or_answering_4xx_keeps_the_write_with_its_reason_and_retries(store, shop, status_code):
    # given the shop fails
    connection, deal = store
    shop.fail_with = status_code
    deal_move_to_stage(deal=deal, stage=stage_of(connection.pipeline, "lost"), via="user")
    # when the drain tries
    store_writes_drain()
    # then the write waits with the reason
    write = StoreWrite.objects.get()
    assert write.state == StoreWrite.State.PENDING and f"HTTP {status_code}" in write.last_error
    assert write.run_after > timezone.now()
    assert store_writes_drain() == 0  # not due yet
    # when the shop is back and the time has come
    shop.fail_with = None
    _due_now()
    store_writes_drain()
    # then it is sent
    assert StoreWrite.objects.get().state == StoreWrite.State.SENT
    assert shop.orders["501"]["status"] == "cancelled"


def test_an_order_gone_from_the_shop_gives_up_with_the_reason(store, shop):
    connection, deal = store
    del shop.orders["501"]
    deal_move_to_stage(deal=deal, stage=stage_of(connection.pipeline, "won"), via="user")
    store_writes_drain()
    write = StoreWrite.objects.get()
    assert write.state == StoreWrite.State.GAVE_UP and "HTTP 404" in write.last_error


def test_conflict_the_stores_later_change_wins_and_both_are_on_the_timeline(store, shop):
    # given a move in Okno not yet sent
    connection, deal = store
    deal_move_to_stage(deal=deal, stage=stage_of(connection.pipeline, "won"), via="user")
    # when the store puts the order on hold later than that
    order = {**shop.change("501", "on-hold"), "date_modified_gmt": "2030-01-01T00:00:00"}
    woo_post(Client(), connection, order, topic="order.updated")
    store_events_drain()
    # then the store wins: the deal is paused, Okno's write is superseded, the conflict is on the timeline
    deal.refresh_from_db()
    assert deal.stage == stage_of(connection.pipeline, "paused")
    assert StoreWrite.objects.get().state == StoreWrite.State.SUPERSEDED
    summaries = list(Activity.objects.filter(contact=deal.contact).values_list("summary", flat=True))
    assert any("Conflict" in s or "Конфликт" in s for s in summaries)
    assert StoreLog.objects.filter(kind=StoreLog.Kind.CONFLICT).count() == 1


def test_conflict_oknos_later_change_wins_over_an_older_store_state(store, shop):
    # given a move in Okno, already sent
    connection, deal = store
    deal_move_to_stage(deal=deal, stage=stage_of(connection.pipeline, "won"), via="user")
    store_writes_drain()
    StoreOrder.objects.update(store_updated_at=None)  # a store that said no time
    StoreWrite.objects.update(echo_seen=False)
    # when an older store state (on-hold, before the move) arrives late
    order = {**shop.orders["501"], "status": "on-hold", "date_modified_gmt": "2020-01-01T00:00:00"}
    woo_post(Client(), connection, order, topic="order.updated")
    store_events_drain()
    # then Okno's change stays and is written again so that both sides end equal
    deal.refresh_from_db()
    assert deal.stage == stage_of(connection.pipeline, "won")
    assert StoreWrite.objects.filter(state=StoreWrite.State.PENDING, status="completed").count() == 1
    store_writes_drain()
    assert shop.orders["501"]["status"] == "completed"


def test_a_store_change_after_oknos_write_was_taken_moves_the_deal_without_conflict(store, shop):
    # given a move in Okno written to the shop, which answered its new time
    connection, deal = store
    deal_move_to_stage(deal=deal, stage=stage_of(connection.pipeline, "won"), via="user")
    store_writes_drain()
    # when the shop's admin changes the order afterwards (the shop's clock says so)
    woo_post(Client(), connection, shop.change("501", "on-hold"), topic="order.updated")
    store_events_drain()
    # then the deal follows the store, and nothing is written back
    deal.refresh_from_db()
    assert deal.stage == stage_of(connection.pipeline, "paused")
    assert StoreWrite.objects.count() == 1
    assert not StoreLog.objects.filter(kind=StoreLog.Kind.CONFLICT).exists()
