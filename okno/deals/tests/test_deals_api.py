from decimal import Decimal

import pytest

from okno.contacts.tests.factories import make_contact
from okno.deals import deal_extras
from okno.deals.models import Deal, DealStageChange, Lead
from okno.deals.services import lead_create
from okno.deals.tests.factories import (
    DealFactory,
    LostReasonFactory,
    PipelineFactory,
    PipelineFieldFactory,
    make_deal,
    stage_of,
)
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def sales(db):
    """A manager of sales, a manager of another department, and a pipeline both may use."""
    department = DepartmentFactory()
    return {
        "department": department,
        "manager": UserFactory(department=department),
        "stranger": UserFactory(department=DepartmentFactory()),
        "pipeline": PipelineFactory(),
    }


def test_create_a_deal_enters_the_first_stage_with_an_exact_amount(sales, api_as):
    # given
    manager, pipeline = sales["manager"], sales["pipeline"]
    contact = make_contact(actor=manager)
    # when
    response = api_as(manager).post("/api/v1/deals", {"pipeline_id": pipeline.pk, "contact_id": contact.pk,
                                                      "title": "Заказ 1001", "amount": 1500.1})
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    deal = Deal.objects.get(pk=body["id"])
    assert body["amount"] == "1500.10" and deal.amount == Decimal("1500.10")
    assert body["stage_id"] == stage_of(pipeline).pk == deal.stage_id and body["stage"]["kind"] == "open"
    assert body["deadlines"] == [] and body["lines"] == [] and body["responsible_id"] == manager.pk
    assert deal.contact == contact and deal.department == sales["department"]


def test_the_deal_page_merges_registered_extras(sales, api_as):
    deal = make_deal(actor=sales["manager"], pipeline=sales["pipeline"])
    registered = deal_extras._extras.get("deadlines")  # robots' own, put back afterwards
    deal_extras.register_deal_extra("deadlines", lambda d: [{"id": 1, "robot_id": 2, "due_at": None,
                                                             "status": "open", "closed_at": None, "deal": d.pk}])
    try:
        body = api_as(sales["manager"]).get(f"/api/v1/deals/{deal.pk}").json()
    finally:
        deal_extras._extras.pop("deadlines", None)
        if registered is not None:
            deal_extras.register_deal_extra("deadlines", registered)
    assert body["deadlines"][0]["deal"] == deal.pk and body["deadlines"][0]["status"] == "open"


def test_another_departments_deal_is_missing_everywhere(sales, api_as):
    # given
    contact = make_contact(actor=sales["manager"])
    deal = make_deal(actor=sales["manager"], pipeline=sales["pipeline"], contact_id=contact.pk)
    loose = make_deal(actor=sales["manager"], pipeline=sales["pipeline"])  # no contact: by its department
    stranger = api_as(sales["stranger"])
    # then
    for pk in (deal.pk, loose.pk):
        assert stranger.get(f"/api/v1/deals/{pk}").status_code == 404
        assert stranger.patch(f"/api/v1/deals/{pk}", {"title": "Моё"}).status_code == 404
        assert stranger.post(f"/api/v1/deals/{pk}/move", {"stage_id": deal.stage_id}).status_code == 404
    assert stranger.get("/api/v1/deals").json() == []
    colleague = api_as(UserFactory(department=sales["department"]))
    assert {d["id"] for d in colleague.get("/api/v1/deals").json()} == {deal.pk, loose.pk}
    head = api_as(UserFactory(department=DepartmentFactory(parent=sales["department"].parent), role=User.Role.HEAD))
    assert head.get(f"/api/v1/deals/{loose.pk}").status_code == 404
    assert Deal.objects.get(pk=deal.pk).title == deal.title


def test_move_refuses_empty_required_fields_naming_them(sales, api_as):
    # given
    pipeline = sales["pipeline"]
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", type="date")
    confirmed = stage_of(pipeline, "open", 1)
    confirmed.required_fields = ["delivery_date"]
    confirmed.save()
    client = api_as(sales["manager"])
    deal = make_deal(actor=sales["manager"], pipeline=pipeline)
    # when
    refused = client.post(f"/api/v1/deals/{deal.pk}/move", {"stage_id": confirmed.pk})
    # then
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "custom.delivery_date"
    assert DealStageChange.objects.filter(deal=deal).count() == 1
    # and after filling it in, the move goes through
    assert client.patch(f"/api/v1/deals/{deal.pk}", {"custom": {"delivery_date": "2026-12-24"}}).status_code == 200
    moved = client.post(f"/api/v1/deals/{deal.pk}/move", {"stage_id": confirmed.pk})
    assert moved.status_code == 200 and moved.json()["stage_id"] == confirmed.pk
    assert Deal.objects.get(pk=deal.pk).stage == confirmed
    history = client.get(f"/api/v1/deals/{deal.pk}/history").json()
    assert [(h["from_stage_id"], h["to_stage_id"], h["via"]) for h in history] == [
        (None, stage_of(pipeline).pk, "user"), (stage_of(pipeline).pk, confirmed.pk, "api")]


def test_lost_with_a_reason_and_back(sales, api_as):
    pipeline, client = sales["pipeline"], api_as(sales["manager"])
    deal = make_deal(actor=sales["manager"], pipeline=pipeline)
    reason = LostReasonFactory(name="Дорого")
    lost = client.post(f"/api/v1/deals/{deal.pk}/move", {"stage_id": stage_of(pipeline, "lost").pk,
                                                        "lost_reason": reason.pk}).json()
    assert lost["closed_at"] and lost["lost_reason_id"] == reason.pk
    back = client.patch(f"/api/v1/deals/{deal.pk}", {"stage_id": stage_of(pipeline).pk}).json()
    assert back["closed_at"] is None and back["lost_reason_id"] is None


def test_bad_input_is_a_400_naming_the_field(sales, api_as):
    client = api_as(sales["manager"])
    other_department = PipelineFactory(department=DepartmentFactory())
    deal = make_deal(actor=sales["manager"], pipeline=sales["pipeline"])
    cases = [
        ("post", "/api/v1/deals", {"pipeline_id": 999999, "title": "x"}, "pipeline_id"),
        ("post", "/api/v1/deals", {"pipeline_id": other_department.pk, "title": "x"}, "pipeline_id"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": ""}, "title"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x", "amount": "-5"}, "amount"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x", "amount": "1.001"}, "amount"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x", "currency": "RUBL"},
         "currency"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x", "contact_id": 999999},
         "contact_id"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x",
                                   "responsible_id": sales["stranger"].pk}, "responsible_id"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x", "stage_id": 999999},
         "stage_id"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x", "custom": {"nope": 1}},
         "custom.nope"),
        ("post", "/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "x",
                                   "lines": [{"name": "a", "price": "abc"}]}, "lines[0].price"),
        ("post", f"/api/v1/deals/{deal.pk}/move", {"stage_id": 999999}, "stage_id"),
        ("post", f"/api/v1/deals/{deal.pk}/move", {"stage_id": stage_of(PipelineFactory()).pk}, "stage_id"),
        ("patch", f"/api/v1/deals/{deal.pk}", {"amount": "abc"}, "amount"),
    ]
    for method, path, body, field in cases:
        response = getattr(client, method)(path, body)
        assert response.status_code == 400, (body, response.content)
        assert field in {e["field"] for e in response.json()["errors"]}, (body, response.json())
    assert Deal.objects.count() == 1


def test_list_filters(sales, api_as):
    pipeline, manager = sales["pipeline"], sales["manager"]
    contact = make_contact(actor=manager)
    mine = make_deal(actor=manager, pipeline=pipeline, title="Кухня на заказ", contact_id=contact.pk)
    make_deal(actor=manager, pipeline=pipeline, title="Шкаф")
    DealFactory(pipeline=PipelineFactory(), responsible=manager, title="Другая воронка")
    client = api_as(manager)
    assert [d["id"] for d in client.get("/api/v1/deals", contact=contact.pk).json()] == [mine.pk]
    assert [d["id"] for d in client.get("/api/v1/deals", q="кухня").json()] in ([mine.pk], [])  # SQLite: ASCII case
    assert [d["id"] for d in client.get("/api/v1/deals", q="Кухня").json()] == [mine.pk]
    assert len(client.get("/api/v1/deals", pipeline=pipeline.pk).json()) == 2
    assert len(client.get("/api/v1/deals", stage=stage_of(pipeline).pk, limit=1).json()) == 1
    assert len(client.get("/api/v1/deals", responsible=manager.pk).json()) == 3


def test_lines_through_the_api(sales, api_as):
    client = api_as(sales["manager"])
    body = client.post("/api/v1/deals", {"pipeline_id": sales["pipeline"].pk, "title": "Заказ",
                                         "lines": [{"name": "Чайник", "sku": "K-1", "quantity": 2, "price": "999.99"}]
                                         }).json()
    assert body["amount"] == "1999.98" and body["lines"][0]["total"] == "1999.98"
    patched = client.patch(f"/api/v1/deals/{body['id']}", {"lines": [{"name": "Чайник", "price": 10}]}).json()
    assert patched["amount"] == "10.00" and len(patched["lines"]) == 1


def test_convert_and_lose_a_lead(sales, api_as):
    # given
    manager, client = sales["manager"], api_as(sales["manager"])
    contact = make_contact(actor=manager, company="ООО Ромашка")
    lead = lead_create(contact=contact, title="Хочу кухню", source="Сайт")
    # when
    response = client.post(f"/api/v1/leads/{lead.pk}/convert", {"pipeline_id": sales["pipeline"].pk})
    # then
    assert response.status_code == 201, response.content
    deal = Deal.objects.get(pk=response.json()["id"])
    assert deal.lead_id == lead.pk and deal.contact == contact and deal.company == contact.company
    assert deal.title == "Хочу кухню" and deal.source == "Сайт"
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.CONVERTED
    again = client.post(f"/api/v1/leads/{lead.pk}/convert", {"pipeline_id": sales["pipeline"].pk})
    assert again.status_code == 400 and Deal.objects.filter(lead=lead).count() == 1
    # and losing another, with a reason from the list
    other = lead_create(contact=contact, title="Ещё")
    assert client.post(f"/api/v1/leads/{other.pk}/lose", {"reason": "Нет такой"}).json()["errors"][0][
        "field"] == "reason"
    assert client.post("/api/v1/lost-reasons", {"name": "Дорого"}).status_code == 403
    LostReasonFactory(name="Дорого")
    lost = client.post(f"/api/v1/leads/{other.pk}/lose", {"reason": "Дорого"})
    assert lost.status_code == 200 and lost.json()["status"] == "lost"
    assert [r["name"] for r in client.get("/api/v1/lost-reasons").json()] == ["Дорого"]
    assert [x["id"] for x in client.get("/api/v1/leads", status="lost").json()] == [other.pk]
    assert client.get("/api/v1/leads", status="open").json() == []
    assert {x["id"] for x in client.get("/api/v1/leads", assignee=manager.pk).json()} == {lead.pk, other.pk}
    assert client.get("/api/v1/leads", unassigned="true").json() == []  # routed to the card's responsible
    assert api_as(sales["stranger"]).post(f"/api/v1/leads/{lead.pk}/convert",
                                          {"pipeline_id": sales["pipeline"].pk}).status_code == 404


def test_lost_reasons_admin(api):
    created = api.post("/api/v1/lost-reasons", {"name": "Купил у конкурента"})
    assert created.status_code == 201
    assert api.post("/api/v1/lost-reasons", {"name": ""}).json()["errors"][0]["field"] == "name"
    retired = api.patch(f"/api/v1/lost-reasons/{created.json()['id']}", {"is_active": False}).json()
    assert retired["is_active"] is False and api.get("/api/v1/lost-reasons").json() == []


def test_odd_bodies_are_answered_4xx_never_500(sales, api_as, admin_user):
    # given
    client, admin = api_as(sales["manager"]), api_as(admin_user)
    pipeline = sales["pipeline"]
    deal = make_deal(actor=sales["manager"], pipeline=pipeline)
    huge = 10 ** 20
    odd = [
        (client, "post", "/api/v1/deals", {"pipeline_id": huge, "title": "x"}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": "x", "contact_id": huge}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": 5}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": "x", "amount": "NaN"}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": "x", "amount": 1e308}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": "x", "amount": [1]}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": "x", "custom": []}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": "x", "lines": [{"quantity": "0"}]}),
        (client, "post", "/api/v1/deals", {"pipeline_id": pipeline.pk, "title": "x" * 301}),
        (client, "post", "/api/v1/deals", ["not", "an", "object"]),
        (client, "post", f"/api/v1/deals/{deal.pk}/move", {"stage_id": huge}),
        (client, "post", f"/api/v1/deals/{deal.pk}/move", {"stage_id": "abc"}),
        (client, "post", f"/api/v1/deals/{deal.pk}/move", {"stage_id": stage_of(pipeline, "lost").pk,
                                                          "lost_reason": huge}),
        (client, "post", f"/api/v1/deals/{deal.pk}/move", {"stage_id": stage_of(pipeline).pk, "lost_reason": "x"}),
        (client, "patch", f"/api/v1/deals/{deal.pk}", {"stage_id": huge}),
        (client, "patch", f"/api/v1/deals/{deal.pk}", {"title": None, "currency": "12"}),
        (client, "get", "/api/v1/deals?created_from=yesterday", None),
        (admin, "post", "/api/v1/pipelines", {"name": "x", "stages": [{"name": "a", "kind": None}]}),
        (admin, "post", "/api/v1/pipelines", {"name": "x", "stages": "open"}),
        (admin, "post", "/api/v1/pipelines", {"name": "x", "stages": [], "department_id": huge}),
        (admin, "post", f"/api/v1/pipelines/{pipeline.pk}/fields", {"key": "Bad Key", "label": "", "type": "x"}),
        (admin, "post", f"/api/v1/pipelines/{pipeline.pk}/stages", {"name": "x", "required_fields": "amount"}),
        (admin, "patch", f"/api/v1/pipelines/{pipeline.pk}", {"calendar_id": huge, "position": -1}),
        (admin, "post", "/api/v1/leads/reassign", {"lead_ids": [huge], "assignee_id": huge}),
        (admin, "post", "/api/v1/leads/1/convert", {"pipeline_id": huge}),
    ]
    for who, method, path, body in odd:
        # when
        response = who.get(path.split("?")[0], **dict([path.split("?")[1].split("=")])) if method == "get" \
            else getattr(who, method)(path, body)
        # then
        assert 400 <= response.status_code < 500, (path, body, response.status_code, response.content)
    assert Deal.objects.count() == 1 and Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id
