from decimal import Decimal

import pytest

from okno.contacts.tests.factories import make_contact
from okno.core import events
from okno.core.errors import FieldError
from okno.deals.deal_services import deal_data_clean, deal_update, parse_money
from okno.deals.models import Deal, DealStageChange
from okno.deals.pipeline_services import deal_move_to_stage
from okno.deals.tests.factories import (
    LostReasonFactory,
    PipelineFactory,
    PipelineFieldFactory,
    make_deal,
    stage_of,
)
from okno.people.tests.factories import UserFactory
from okno.timeline.models import Activity


@pytest.fixture
def heard():
    """Every deal event published during the test, in order."""
    seen = []
    events.subscribe("*", seen.append, key="tests.deals.heard")
    yield seen
    events._subscribers["*"] = [(k, fn) for k, fn in events._subscribers["*"] if k != "tests.deals.heard"]


def test_create_enters_the_first_open_stage_records_history_timeline_and_event(db, heard):
    # given
    manager = UserFactory()
    contact = make_contact(actor=manager)
    pipeline = PipelineFactory()
    # when
    deal = make_deal(actor=manager, pipeline=pipeline, contact_id=contact.pk, amount="1500.10")
    # then
    assert deal.stage == stage_of(pipeline) and deal.amount == Decimal("1500.10")
    assert deal.responsible == manager and deal.department_id == manager.department_id
    change = DealStageChange.objects.get(deal=deal)
    assert change.from_stage is None and change.to_stage == deal.stage and change.actor == manager
    activity = Activity.objects.get(contact=contact, kind=Activity.Kind.DEAL)
    assert activity.detail == deal
    created = [e for e in heard if e.name == "deal.created"]
    assert len(created) == 1 and created[0].data["stage_id"] == deal.stage_id
    assert created[0].data["amount"] == "1500.10"
    assert not [e for e in heard if e.name == "deal.stage_changed"]


def test_move_writes_history_activity_and_publishes_inside_the_transaction(db, heard):
    # given
    manager = UserFactory()
    contact = make_contact(actor=manager)
    pipeline = PipelineFactory()
    deal = make_deal(actor=manager, pipeline=pipeline, contact_id=contact.pk)
    paused = stage_of(pipeline, "paused")
    seen_in_db = []
    events.subscribe("deal.stage_changed",
                     lambda e: seen_in_db.append(Deal.objects.get(pk=e.data["deal_id"]).stage_id),
                     key="tests.deals.row_updated_first")
    try:
        # when
        moved = deal_move_to_stage(deal=deal, stage=paused, actor=manager)
    finally:
        events._subscribers["deal.stage_changed"] = [
            (k, fn) for k, fn in events._subscribers["deal.stage_changed"] if k != "tests.deals.row_updated_first"]
    # then
    assert moved.stage == paused and Deal.objects.get(pk=deal.pk).stage == paused
    assert seen_in_db == [paused.pk]  # subscribers see the row already moved
    event = [e for e in heard if e.name == "deal.stage_changed"][-1]
    assert event.data["from_stage_id"] == stage_of(pipeline).pk and event.data["to_stage_id"] == paused.pk
    assert event.data["via"] == "user" and event.data["actor_id"] == manager.pk
    assert DealStageChange.objects.filter(deal=deal).count() == 2
    assert Activity.objects.filter(contact=contact, kind=Activity.Kind.DEAL).count() == 2


def test_moving_to_the_same_stage_does_nothing(db, heard):
    deal = make_deal(pipeline=PipelineFactory())
    heard.clear()
    deal_move_to_stage(deal=deal, stage=deal.stage)
    assert heard == [] and DealStageChange.objects.filter(deal=deal).count() == 1


def test_a_stage_of_another_pipeline_is_refused(db):
    deal = make_deal(pipeline=PipelineFactory())
    other = stage_of(PipelineFactory(), "paused")
    with pytest.raises(FieldError) as exc:
        deal_move_to_stage(deal=deal, stage=other)
    assert "stage_id" in exc.value.by_field
    assert Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id


def test_required_fields_refuse_entry_naming_the_field(db, heard):
    # given: "delivery date before Confirmed"
    pipeline = PipelineFactory()
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", type="date")
    confirmed = stage_of(pipeline, "open", 1)
    confirmed.required_fields = ["delivery_date", "amount"]
    confirmed.save()
    deal = make_deal(pipeline=pipeline, amount="0")
    heard.clear()
    # when
    with pytest.raises(FieldError) as exc:
        deal_move_to_stage(deal=deal, stage=confirmed)
    # then
    assert set(exc.value.by_field) == {"custom.delivery_date", "amount"}
    assert confirmed.name in exc.value.by_field["custom.delivery_date"]
    assert heard == [] and Deal.objects.get(pk=deal.pk).stage_id != confirmed.pk
    # and once filled, it enters
    deal = deal_update(actor=None, deal=deal, data=deal_data_clean(
        {"custom": {"delivery_date": "2026-12-10"}, "amount": 10}, pipeline=pipeline, partial=True))
    assert deal_move_to_stage(deal=deal, stage=confirmed).stage == confirmed


def test_won_and_lost_set_closed_at_and_leaving_clears_it(db):
    pipeline = PipelineFactory()
    deal = make_deal(pipeline=pipeline)
    reason = LostReasonFactory(name="Дорого")
    lost = deal_move_to_stage(deal=deal, stage=stage_of(pipeline, "lost"), reason="дорого")
    assert lost.closed_at is not None and lost.lost_reason == reason
    reopened = deal_move_to_stage(deal=deal, stage=stage_of(pipeline))
    assert reopened.closed_at is None and reopened.lost_reason is None
    won = deal_move_to_stage(deal=deal, stage=stage_of(pipeline, "won"))
    assert won.closed_at is not None


def test_an_unknown_lost_reason_is_refused(db):
    pipeline = PipelineFactory()
    deal = make_deal(pipeline=pipeline)
    with pytest.raises(FieldError) as exc:
        deal_move_to_stage(deal=deal, stage=stage_of(pipeline, "lost"), reason="нет такой")
    assert "lost_reason" in exc.value.by_field


def test_money_is_parsed_through_its_text_never_binary_floats():
    assert parse_money(1500.1) == Decimal("1500.10")
    assert parse_money(0.1 + 0.2) is None  # 0.30000000000000004: more than cents, refused
    assert parse_money("1 500,50") == Decimal("1500.50")
    assert parse_money("-1") is None and parse_money(True) is None and parse_money("abc") is None
    assert parse_money("NaN") is None and parse_money("1e20") is None


def test_line_items_make_the_amount(db, heard):
    pipeline = PipelineFactory()
    deal = make_deal(pipeline=pipeline, lines=[{"name": "Чайник", "sku": "K-1", "quantity": 2, "price": "999.99"},
                                               {"name": "Доставка", "price": 300}])
    assert deal.amount == Decimal("2299.98") and deal.lines.count() == 2
    from okno.deals.pipeline_services import deal_lines_set

    deal = deal_lines_set(actor=None, deal=deal, lines=[{"name": "Чайник", "quantity": "1.5", "price": "10"}])
    assert deal.amount == Decimal("15.00")
    updated = [e for e in heard if e.name == "deal.updated"][-1]
    assert set(updated.data["changed"]) == {"lines", "amount"}
    with pytest.raises(FieldError) as exc:
        deal_update(actor=None, deal=deal, data=deal_data_clean({"amount": 5}, pipeline=pipeline, partial=True))
    assert "amount" in exc.value.by_field


def test_the_cards_timeline_shows_the_deal_with_a_link(db):
    # given
    from django.test import Client

    manager = UserFactory()
    contact = make_contact(actor=manager)
    pipeline = PipelineFactory()
    deal = make_deal(actor=manager, pipeline=pipeline, contact_id=contact.pk, title="Заказ 77", amount="990")
    deal_move_to_stage(deal=deal, stage=stage_of(pipeline, "paused"), actor=manager)
    client = Client()
    client.force_login(manager)
    # when
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    # then: both entries draw the deal as it is now
    assert page.count(f'href="/deals/{deal.pk}/"') >= 2 and "Заказ 77" in page and "Пауза" in page


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_are_serialised_and_the_history_chains():
    """Two people dragging the same deal at once: each move reads the row it changes, so every
    DealStageChange starts where the previous one ended (no lost update of the stage)."""
    import threading

    from django.db import connection

    # given
    pipeline = PipelineFactory()
    deal = make_deal(pipeline=pipeline)
    targets = [stage_of(pipeline, "paused"), stage_of(pipeline, "open", 1)]
    errors = []

    def mover(stage):
        try:
            for _ in range(5):
                deal_move_to_stage(deal=Deal.objects.get(pk=deal.pk), stage=stage)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=mover, args=(stage,)) for stage in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert errors == []
    changes = list(DealStageChange.objects.filter(deal=deal).order_by("at", "id"))
    for before, after in zip(changes, changes[1:], strict=False):
        assert after.from_stage_id == before.to_stage_id
    assert Deal.objects.get(pk=deal.pk).stage_id == changes[-1].to_stage_id
