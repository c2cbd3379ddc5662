"""A new deal enters its stage only with the stage's required fields filled, for every caller:
the service, the API (400 naming the field), the lead's conversion form (the message names the
field by its label). Stores are in okno/stores/tests/test_store_orders_in.py."""

import pytest
from django.test import Client
from django.utils import translation

from okno.contacts.tests.factories import make_contact
from okno.core.errors import FieldError
from okno.deals.deal_services import deal_create, deal_data_clean
from okno.deals.models import Deal, DealStageChange, Lead
from okno.deals.tests.factories import PipelineFactory, PipelineFieldFactory, stage_of
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.models import Activity


@pytest.fixture
def orders(db):
    """A pipeline whose "Подтверждён" stage requires a delivery date and a responsible."""
    pipeline = PipelineFactory(name="Orders")
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", label="Delivery date", type="date")
    confirmed = stage_of(pipeline, nth=1)
    confirmed.required_fields = ["delivery_date", "responsible"]
    confirmed.save()
    manager = UserFactory(department=DepartmentFactory(share_contacts=True), language="en")
    return {"pipeline": pipeline, "confirmed": confirmed, "manager": manager}


def test_deal_create_refuses_a_stage_whose_required_fields_are_empty_naming_each(orders):
    # given
    pipeline, confirmed = orders["pipeline"], orders["confirmed"]
    data = deal_data_clean({"title": "Order 1", "stage_id": confirmed.pk}, pipeline=pipeline)
    # when created by the system (no actor, so no responsible either)
    with pytest.raises(FieldError) as refused:
        deal_create(actor=None, pipeline=pipeline, data=data, via="api")
    # then both fields are named and nothing is written
    assert refused.value.detail == "Required fields are empty"
    assert refused.value.by_field == {"custom.delivery_date": "required before entering “Подтверждён”",
                                      "responsible_id": "required before entering “Подтверждён”"}
    assert not Deal.objects.exists() and not DealStageChange.objects.exists()


def test_deal_create_enters_the_stage_once_the_fields_are_given(orders):
    # given the manager (who becomes the responsible) and a delivery date
    pipeline, confirmed, manager = orders["pipeline"], orders["confirmed"], orders["manager"]
    data = deal_data_clean({"title": "Order 2", "stage_id": confirmed.pk, "custom": {"delivery_date": "2026-12-06"}},
                           pipeline=pipeline, actor=manager)
    # when
    deal = deal_create(actor=manager, pipeline=pipeline, data=data)
    # then
    assert deal.stage == confirmed and deal.responsible == manager


def test_the_first_stage_is_checked_too(orders):
    # given the first stage requires a contact
    pipeline = orders["pipeline"]
    first = stage_of(pipeline)
    first.required_fields = ["contact"]
    first.save()
    # then a deal without one is refused, and one with it enters
    with pytest.raises(FieldError) as refused:
        deal_create(actor=None, pipeline=pipeline, data=deal_data_clean({"title": "x"}, pipeline=pipeline))
    assert list(refused.value.by_field) == ["contact_id"]
    contact = make_contact(first_name="Ivan")
    deal = deal_create(actor=None, pipeline=pipeline,
                       data=deal_data_clean({"title": "x", "contact_id": contact.pk}, pipeline=pipeline))
    assert deal.stage == first


def test_api_answers_400_naming_the_field_and_creates_nothing(orders, api_as):
    # given
    pipeline, confirmed, manager = orders["pipeline"], orders["confirmed"], orders["manager"]
    # when
    response = api_as(manager).post("/api/v1/deals", {"pipeline_id": pipeline.pk, "stage_id": confirmed.pk,
                                                      "title": "Order 3"})
    # then
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Required fields are empty"
    assert body["errors"] == [{"field": "custom.delivery_date", "reason": "required before entering “Подтверждён”"}]
    assert not Deal.objects.exists()
    # and with the date it is created at that stage
    response = api_as(manager).post("/api/v1/deals", {"pipeline_id": pipeline.pk, "stage_id": confirmed.pk,
                                                      "title": "Order 3", "custom": {"delivery_date": "2026-12-06"}})
    assert response.status_code == 201 and response.json()["stage_id"] == confirmed.pk


def test_converting_a_lead_into_a_stage_with_empty_required_fields_names_the_field_on_the_page(orders):
    # given the pipeline's first stage requires a delivery date, and an open lead of the manager's
    pipeline, manager = orders["pipeline"], orders["manager"]
    first = stage_of(pipeline)
    first.required_fields = ["delivery_date"]
    first.save()
    contact = make_contact(actor=manager, first_name="Anna", phones=["+79123456789"])
    lead = Lead.objects.create(contact=contact, title="Sofa", assignee=manager, department=manager.department)
    client = Client()
    client.force_login(manager)
    # when the manager converts it from the leads page
    with translation.override("en"):
        response = client.post(f"/leads/{lead.pk}/convert/", {"pipeline": pipeline.pk, "next": "/leads/"},
                               follow=True, HTTP_ACCEPT_LANGUAGE="en")
    # then the page says which field, by its label, and the lead stays open with no deal
    html = response.content.decode()
    assert response.status_code == 200
    assert "“Delivery date”: required before entering “Новый”" in html
    assert not Deal.objects.exists()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    assert not Activity.objects.filter(kind="deal").exists()
