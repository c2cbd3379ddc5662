"""Store → Okno: a webhook is stored before it is acknowledged, then the drain makes the deal."""

from decimal import Decimal

import pytest
from django.test import Client

from okno.contacts.models import Contact
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Deal, DealStageChange
from okno.deals.tests.factories import stage_of
from okno.stores.drains import store_events_drain
from okno.stores.models import StoreEvent, StoreLog, StoreOrder
from okno.stores.tests.factories import make_connection, woo_order, woo_post

pytestmark = pytest.mark.django_db


def test_a_signed_order_becomes_a_deal_at_the_mapped_stage_with_lines_and_details():
    # given a store, and a customer whose card has the phone in another format
    connection = make_connection()
    card = make_contact(first_name="Анна", last_name="Смирнова", phones=["+7 912 345 67 89"])
    # when the store sends order.created
    response = woo_post(Client(), connection, woo_order())
    # then it is stored and acknowledged before anything else happens
    assert response.status_code == 200
    event = StoreEvent.objects.get()
    assert (event.status, event.topic) == (StoreEvent.Status.RECEIVED, "order.created")
    assert not Deal.objects.exists()
    # when the drain runs
    assert store_events_drain() == 1
    # then the order is a deal of the same customer at the stage "processing" maps to
    deal = Deal.objects.get()
    assert deal.contact_id == card.pk and Contact.objects.count() == 1
    assert deal.stage == stage_of(connection.pipeline, "open", 1)
    assert deal.external_id == "4750"
    assert deal.amount == Decimal("31000.00")  # the lines; the order's total with delivery is in custom
    assert [(line.name, line.sku, line.quantity, line.price) for line in deal.lines.all()] == [
        ("Диван «Осло», серый", "OSLO-GR", Decimal(1), Decimal(29000)),
        ("Подушка декоративная", "PIL-01", Decimal(2), Decimal(1000))]
    assert deal.custom["order_total"] == "31500.00"
    assert deal.custom["delivery_address"] == "420111, RU, Казань, ул. Ленина, 5, кв. 12"
    assert deal.custom["delivery_date"] == "2026-12-06"
    assert deal.custom["payment_method"] == "Оплата при получении"
    assert deal.custom["comment"] == "Позвоните за час до доставки"
    assert StoreOrder.objects.get().deal == deal
    assert StoreEvent.objects.get().status == StoreEvent.Status.DONE


def test_an_unknown_customer_gets_a_new_card():
    connection = make_connection()
    woo_post(Client(), connection, woo_order())
    store_events_drain()
    contact = Deal.objects.get().contact
    assert (contact.first_name, contact.last_name) == ("Анна", "Смирнова")
    assert contact.phones.get().e164 == "+79123456789"


@pytest.mark.parametrize("signed, secret, reason", [
    (False, None, "unsigned"), (True, "forged", "bad signature")])
def test_a_forged_or_unsigned_webhook_is_refused_with_its_reason_and_logged(signed, secret, reason):
    # given
    connection = make_connection()
    # when
    response = woo_post(Client(), connection, woo_order(), signed=signed, secret=secret)
    # then
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert not StoreEvent.objects.exists()
    assert StoreLog.objects.get(kind=StoreLog.Kind.REFUSED).message.count(reason) == 1


def test_an_unknown_address_is_404():
    response = Client().post("/stores/hooks/nope/", data=b"{}", content_type="application/json")
    assert response.status_code == 404


def test_a_changed_order_updates_the_deal_and_moves_it():
    # given a deal made from the order
    connection = make_connection()
    woo_post(Client(), connection, woo_order())
    store_events_drain()
    # when the store sends the order completed, with a line changed, later
    order = woo_order(status="completed", date_modified_gmt="2026-12-03T10:00:00")
    order["line_items"][1]["quantity"] = 3
    woo_post(Client(), connection, order, topic="order.updated")
    store_events_drain()
    # then
    deal = Deal.objects.get()
    assert deal.stage == stage_of(connection.pipeline, "won")
    assert deal.amount == Decimal("32000.00")
    assert DealStageChange.objects.filter(deal=deal, via="store").count() == 2


def test_a_repeated_or_older_webhook_changes_nothing_twice():
    # given the order completed at 10:00
    connection = make_connection()
    woo_post(Client(), connection, woo_order())
    woo_post(Client(), connection, woo_order(status="completed", date_modified_gmt="2026-12-03T10:00:00"))
    store_events_drain()
    deal = Deal.objects.get()
    moves, updated_at = deal.stage_changes.count(), deal.updated_at
    # when the same webhook comes again, and an older one (on-hold at 09:30) after it
    woo_post(Client(), connection, woo_order(status="completed", date_modified_gmt="2026-12-03T10:00:00"))
    woo_post(Client(), connection, woo_order(status="on-hold", date_modified_gmt="2026-12-03T09:30:00"))
    store_events_drain()
    # then nothing changed
    deal.refresh_from_db()
    assert deal.stage == stage_of(connection.pipeline, "won")
    assert (deal.stage_changes.count(), deal.updated_at) == (moves, updated_at)
    assert StoreLog.objects.filter(kind=StoreLog.Kind.STALE).count() == 2
    assert Deal.objects.count() == 1


def test_an_order_with_no_contact_data_is_kept_with_the_reason():
    # given
    connection = make_connection()
    order = woo_order()
    order["billing"].update(phone="", email="")
    # when
    woo_post(Client(), connection, order)
    store_events_drain()
    # then
    event = StoreEvent.objects.get()
    assert (event.status, event.reason) == (StoreEvent.Status.PROBLEM, "no_contact")
    assert "нет ни телефона, ни e-mail" in event.error  # for the person who acts on it: ru, the default
    assert not Deal.objects.exists()


def test_a_status_missing_from_the_map_is_held_then_taken_once_the_map_is_fixed(api):
    # given a map without "processing"
    connection = make_connection()
    connection.status_map = [p for p in connection.status_map if p[0] != "processing"]
    connection.save()
    # when
    woo_post(Client(), connection, woo_order())
    store_events_drain()
    # then it is held with the reason
    event = StoreEvent.objects.get()
    assert (event.status, event.reason) == (StoreEvent.Status.PROBLEM, "status_unmapped")
    assert "processing" in event.error
    # when the administrator maps it
    confirmed = stage_of(connection.pipeline, "open", 1)
    new_map = {s: stage for s, stage in connection.status_map} | {"processing": confirmed.pk}
    assert api._call("put", f"/api/v1/stores/{connection.pk}", {"status_map": new_map}).status_code == 200
    store_events_drain()
    # then the order is a deal
    assert Deal.objects.get().stage == confirmed
    assert StoreEvent.objects.get().status == StoreEvent.Status.DONE


def test_order_details_are_typed_by_the_pipelines_fields_and_what_does_not_fit_is_kept_aside():
    # given a pipeline with a date field and a choice field of the same keys as the order's details
    from okno.deals.tests.factories import PipelineFieldFactory

    connection = make_connection()
    PipelineFieldFactory(pipeline=connection.pipeline, key="delivery_date", type="date")
    PipelineFieldFactory(pipeline=connection.pipeline, key="delivery_method", type="choice", choices=["СДЭК"])
    order = woo_order()
    order["meta_data"] = [{"key": "delivery_date", "value": "06.12.2026"}]
    # when
    woo_post(Client(), connection, order)
    store_events_drain()
    # then
    custom = Deal.objects.get().custom
    assert custom["delivery_date"] == "2026-12-06"
    assert "delivery_method" not in custom and custom["store_delivery_method"] == "Курьер"


def test_a_store_status_leading_to_a_stage_with_empty_required_fields_is_held_with_the_reason():
    # given a deal, and the "completed" stage requiring a field the order lacks
    connection = make_connection()
    woo_post(Client(), connection, woo_order())
    store_events_drain()
    done = stage_of(connection.pipeline, "won")
    done.required_fields = ["responsible"]
    done.save()
    # when the store completes the order
    woo_post(Client(), connection, woo_order(status="completed", date_modified_gmt="2026-12-03T10:00:00"))
    store_events_drain()
    # then the deal stays, and the event is held naming the stage and the reason
    assert Deal.objects.get().stage == stage_of(connection.pipeline, "open", 1)
    event = StoreEvent.objects.order_by("-pk").first()
    assert (event.status, event.reason) == (StoreEvent.Status.PROBLEM, "stage_refused")


def test_a_new_order_whose_stage_refuses_it_is_made_at_the_first_stage_and_its_status_held():
    # given the stage "processing" maps to requires a field the order lacks
    from okno.people.tests.factories import UserFactory
    from okno.stores.connections import store_events_retry

    connection = make_connection()
    confirmed = stage_of(connection.pipeline, "open", 1)
    confirmed.required_fields = ["responsible"]
    confirmed.save()
    # when a new order arrives with that status
    woo_post(Client(), connection, woo_order())
    store_events_drain()
    # then the order is a deal at the pipeline's first stage, nothing of it lost, and its status is held
    deal = Deal.objects.get()
    assert deal.stage == stage_of(connection.pipeline, "open", 0)
    assert deal.external_id == "4750" and deal.lines.count() == 2
    assert deal.custom["comment"] == "Позвоните за час до доставки"
    event = StoreEvent.objects.get()
    assert (event.status, event.reason) == (StoreEvent.Status.PROBLEM, "stage_refused")
    assert "responsible_id" in event.error
    assert StoreOrder.objects.get().deal == deal
    # when a person fills the field and retries from the connection's page
    deal.responsible = UserFactory()
    deal.save()
    assert store_events_retry(connection=connection) == 1
    store_events_drain()
    # then the held status moves the deal, once
    deal.refresh_from_db()
    assert deal.stage == confirmed
    assert StoreEvent.objects.get().status == StoreEvent.Status.DONE
    assert Deal.objects.count() == 1


def test_a_new_order_refused_by_the_first_stage_too_waits_as_an_event():
    # given every open stage requires a responsible
    connection = make_connection()
    for stage in connection.pipeline.stages.filter(kind="open"):
        stage.required_fields = ["responsible"]
        stage.save()
    # when a new order arrives
    woo_post(Client(), connection, woo_order())
    store_events_drain()
    # then no deal, and the order is kept as a held event naming the reason
    assert not Deal.objects.exists()
    event = StoreEvent.objects.get()
    assert (event.status, event.reason) == (StoreEvent.Status.PROBLEM, "stage_refused")

