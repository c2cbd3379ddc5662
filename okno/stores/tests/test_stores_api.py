"""/api/v1/stores: connections, Okno's own order upsert, and deals listed by contact and pipeline."""

import json

import pytest

from okno.deals.models import Deal
from okno.deals.tests.factories import PipelineFactory, stage_of
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.stores.models import StoreConnection, StoreEvent
from okno.stores.tests.factories import WOO_SETTINGS, payload

pytestmark = pytest.mark.django_db


def _woo(pipeline) -> dict:
    return {"kind": "woocommerce", "name": "Мебельный", "settings": WOO_SETTINGS, "pipeline_id": pipeline.pk,
            "status_map": {"processing": stage_of(pipeline, "open", 0).pk,
                           "completed": stage_of(pipeline, "won").pk}}


def test_create_a_connection_answers_its_id_and_webhook_url(api):
    # given
    pipeline = PipelineFactory()
    # when
    response = api.post("/api/v1/stores", _woo(pipeline))
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    connection = StoreConnection.objects.get(pk=body["id"])
    assert body["webhook_url"] == f"http://testserver/stores/hooks/{connection.webhook_token}/"
    assert connection.status_map == [["processing", stage_of(pipeline, "open", 0).pk],
                                     ["completed", stage_of(pipeline, "won").pk]]
    assert connection.settings == WOO_SETTINGS
    assert body["settings"]["consumer_secret"] == "********"  # secrets are never answered back


def test_bad_input_names_each_field(api):
    pipeline, other = PipelineFactory(), PipelineFactory()
    body = {**_woo(pipeline), "kind": "woocommerce",
            "settings": {"url": "ftp://x", "consumer_key": "", "extra": "1"},
            "status_map": {"processing": stage_of(other, "won").pk}}
    response = api.post("/api/v1/stores", body)
    assert response.status_code == 400
    fields = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert fields["settings.url"] == "must be an http(s):// address"
    assert fields["settings.consumer_key"] == "required"
    assert "unknown setting" in fields["settings.extra"]
    assert fields["status_map.processing"] == "no such stage in this pipeline"
    assert not StoreConnection.objects.exists()


def test_put_keeps_a_secret_left_out_and_only_an_administrator_may(api, api_as):
    # given
    connection_id = api.post("/api/v1/stores", _woo(PipelineFactory())).json()["id"]
    # when
    response = api._call("put", f"/api/v1/stores/{connection_id}",
                         {"name": "Новое имя", "settings": {"url": "https://new.example.ru", "consumer_key": "k2"}})
    # then
    assert response.status_code == 200
    connection = StoreConnection.objects.get()
    assert connection.name == "Новое имя"
    assert connection.settings["consumer_secret"] == "cs_test"
    assert connection.settings["url"] == "https://new.example.ru"
    manager = UserFactory(role=User.Role.MANAGER)
    assert api_as(manager).get(f"/api/v1/stores/{connection_id}").status_code == 403


def _okno_store(api) -> tuple[dict, object]:
    pipeline = PipelineFactory()
    body = {"kind": "okno", "name": "Свой сайт", "settings": {}, "pipeline_id": pipeline.pk,
            "status_map": {"new": stage_of(pipeline, "open", 0).pk, "paid": stage_of(pipeline, "won").pk}}
    return api.post("/api/v1/stores", body).json(), pipeline


def test_okno_own_api_upserts_an_order_by_external_id_and_deals_list_by_contact_and_pipeline(api):
    # given
    store, pipeline = _okno_store(api)
    assert store["settings"]["secret"] == "********"  # a signing secret was made up
    order = json.loads(payload("okno/order.json"))
    # when
    response = api._call("put", f"/api/v1/stores/{store['id']}/orders/B-2001", order)
    # then
    assert response.status_code == 200, response.json()
    deal = Deal.objects.get(pk=response.json()["deal_id"])
    listed = api.get("/api/v1/deals", contact_id=deal.contact_id, pipeline_id=pipeline.pk).json()
    assert [d["id"] for d in listed] == [deal.pk]
    assert listed[0]["external_id"] == "B-2001"
    assert listed[0]["amount"] == "15000.00"
    assert [{k: line[k] for k in ("name", "sku", "quantity", "price")} for line in listed[0]["lines"]] == [
        {"name": "Кресло офисное", "sku": "CH-7", "quantity": "2.000", "price": "7500.00"}]
    assert api.get("/api/v1/deals", contact_id=deal.contact_id, pipeline_id=PipelineFactory().pk).json() == []
    # when the shop sends the order again, paid and later
    order.update(status="paid", updated_at="2026-12-03T13:00:00+03:00")
    api._call("put", f"/api/v1/stores/{store['id']}/orders/B-2001", order)
    # then the same deal moved
    assert Deal.objects.get().stage == stage_of(pipeline, "won")


def test_okno_own_api_holds_an_order_without_contact_data_with_the_reason(api):
    store, _pipeline = _okno_store(api)
    response = api._call("put", f"/api/v1/stores/{store['id']}/orders/X1", {"status": "new", "lines": []})
    assert response.status_code == 202
    assert response.json()["reason"] == "no_contact"
    assert StoreEvent.objects.get().status == StoreEvent.Status.PROBLEM


def test_okno_own_api_names_a_bad_field(api):
    store, _pipeline = _okno_store(api)
    response = api._call("put", f"/api/v1/stores/{store['id']}/orders/X1", {"lines": "no"})
    assert response.status_code in (400, 422)
    assert not StoreEvent.objects.exists()


def test_okno_own_api_refuses_lines_beyond_what_a_deal_holds(api):
    store, _pipeline = _okno_store(api)
    response = api._call("put", f"/api/v1/stores/{store['id']}/orders/X2", {
        "status": "new", "customer": {"phone": "89030000000"},
        "lines": [{"name": "Много", "quantity": "1e15", "price": 1}]})
    assert response.status_code == 400
    assert "beyond what a deal holds" in response.json()["errors"][0]["reason"]
    assert not Deal.objects.exists()


def test_okno_own_api_takes_a_new_order_its_stage_refuses_at_the_first_stage_and_answers_202(api):
    # given "paid" leads to a stage that requires a responsible, which a store's order never has
    store, pipeline = _okno_store(api)
    won = stage_of(pipeline, "won")
    won.required_fields = ["responsible"]
    won.save()
    order = json.loads(payload("okno/order.json")) | {"status": "paid"}
    # when the shop sends it for the first time
    response = api._call("put", f"/api/v1/stores/{store['id']}/orders/B-2001", order)
    # then the order is a deal at the first stage, and the status is held naming the field
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["reason"] == "stage_refused" and "responsible_id" in body["detail"]
    deal = Deal.objects.get(pk=body["deal_id"])
    assert deal.stage == stage_of(pipeline, "open", 0) and deal.external_id == "B-2001"
