"""The deal page: fields edited in place, line items, custom fields, the customer's timeline;
the deal list; the contact card's deals panel. Another department's deal is 404 everywhere."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from okno.contacts.tests.factories import make_contact
from okno.deals.tests.factories import DealFactory, PipelineFactory, PipelineFieldFactory, make_deal, stage_of
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def team(db):
    sales = DepartmentFactory(share_contacts=True)
    manager = UserFactory(department=sales, language="en")
    pipeline = PipelineFactory(name="Orders")
    contact = make_contact(actor=manager, first_name="Ivan", last_name="Petrov")
    deal = make_deal(actor=manager, pipeline=pipeline, contact_id=contact.pk, title="Sofa", amount="1500")
    return {"manager": manager, "colleague": UserFactory(department=sales, first_name="Oleg"),
            "outsider": UserFactory(department=DepartmentFactory()), "pipeline": pipeline, "contact": contact,
            "deal": deal}


def test_deal_page_shows_fields_lines_custom_fields_deadlines_and_the_timeline(team):
    # given a custom field with a value
    deal, pipeline = team["deal"], team["pipeline"]
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", label="Delivery date", type="date")
    deal.custom = {"delivery_date": "2026-12-24"}
    deal.save()
    # when the page opens in English
    response = client_for(team["manager"]).get(reverse("deals:deal", args=[deal.pk]), HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sofa" in html and "1,500.00\xa0₽" in html and "Новый" in html
    # (the delivery date is a quick field: shown in place as the reader's language writes dates)
    assert "Delivery date" in html and f'id="quick-page-{deal.pk}-delivery_date"' in html and "24 Dec 2026" in html
    assert 'id="deal-lines"' in html and 'id="deal-deadlines"' in html
    # the customer's timeline carries the deal's creation (the deals app's Activity)
    assert "Sofa" in response.context["activities"][0].summary
    assert 'id="deal-timeline"' in html


def test_title_and_amount_are_edited_in_place(team):
    deal, client = team["deal"], client_for(team["manager"])
    url = reverse("deals:deal_field", args=[deal.pk, "title"])
    # the form appears on ?edit=1
    assert 'name="value"' in client.get(url, {"edit": "1"}).content.decode()
    # when a new title is saved
    response = client.post(url, {"value": "Corner sofa"}, HTTP_HX_REQUEST="true")
    # then the display comes back and the deal changed through deal_update
    assert response.status_code == 200 and "Corner sofa" in response.content.decode()
    deal.refresh_from_db()
    assert deal.title == "Corner sofa"
    # when a bad amount is typed
    response = client.post(reverse("deals:deal_field", args=[deal.pk, "amount"]), {"value": "1,5,0"})
    # then the form stays with the reason beside it, and the amount did not change
    html = response.content.decode()
    assert "field-error" in html and 'value="1,5,0"' in html
    deal.refresh_from_db()
    assert deal.amount == Decimal("1500.00")
    client.post(reverse("deals:deal_field", args=[deal.pk, "amount"]), {"value": "2 500,50"})
    deal.refresh_from_db()
    assert deal.amount == Decimal("2500.50")


def test_responsible_and_stage_edited_in_place_and_a_required_field_named(team):
    deal, pipeline, client = team["deal"], team["pipeline"], client_for(team["manager"])
    # given the manager may assign the colleague? a manager may only assign themself
    response = client.post(reverse("deals:deal_field", args=[deal.pk, "responsible"]),
                           {"value": team["colleague"].pk})
    assert "field-error" in response.content.decode()
    # when the stage is changed to one that requires a field
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", label="Delivery date", type="date")
    target = stage_of(pipeline, nth=1)
    target.required_fields = ["delivery_date"]
    target.save()
    url = reverse("deals:deal_field", args=[deal.pk, "stage"])
    response = client.post(url, {"value": target.pk}, HTTP_ACCEPT_LANGUAGE="en")
    # then the refusal names the field by its label
    assert "Delivery date" in response.content.decode() and "field-error" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stage_of(pipeline)
    # when the field is filled in place (a quick field), the move goes through
    client.post(reverse("deals:deal_quick", args=[deal.pk, "delivery_date"]), {"value": "2026-12-24"})
    response = client.post(url, {"value": target.pk})
    deal.refresh_from_db()
    assert deal.stage == target and deal.custom == {"delivery_date": "2026-12-24"}
    assert response["HX-Trigger"] == "deal-changed"


def test_custom_field_with_a_bad_value_is_refused_beside_it(team):
    deal, pipeline = team["deal"], team["pipeline"]
    PipelineFieldFactory(pipeline=pipeline, key="mounting_date", label="Mounting date", type="date")
    response = client_for(team["manager"]).post(reverse("deals:deal_custom", args=[deal.pk]),
                                                {"custom_mounting_date": "tomorrow"})
    assert "field-error" in response.content.decode()
    deal.refresh_from_db()
    assert deal.custom == {}


def test_line_items_added_and_removed_and_the_amount_is_their_sum(team):
    deal, client = team["deal"], client_for(team["manager"])
    url = reverse("deals:deal_lines", args=[deal.pk])
    # when two lines are added
    client.post(url, {"action": "add", "name": "Sofa", "sku": "S-1", "quantity": "1", "price": "1000"})
    response = client.post(url, {"action": "add", "name": "Cushion", "sku": "C-2", "quantity": "2", "price": "250.50"})
    # then both are there and the amount is their sum (also swapped into the amount field)
    deal.refresh_from_db()
    assert [(line.name, line.quantity, line.price) for line in deal.lines.all()] == [
        ("Sofa", Decimal("1.000"), Decimal("1000.00")), ("Cushion", Decimal("2.000"), Decimal("250.50"))]
    assert deal.amount == Decimal("1501.00")
    assert 'id="deal-field-amount" hx-swap-oob="true"' in response.content.decode()
    # when one is removed
    sofa = deal.lines.get(name="Sofa")
    client.post(url, {"action": "remove", "line": sofa.pk})
    deal.refresh_from_db()
    assert list(deal.lines.values_list("name", flat=True)) == ["Cushion"] and deal.amount == Decimal("501.00")
    # when a bad line is sent, the reason is shown and nothing changes
    response = client.post(url, {"action": "add", "name": "Bad", "quantity": "-1", "price": "1"})
    assert "field-error" in response.content.decode()
    assert deal.lines.count() == 1


def test_every_deal_page_is_404_for_another_department(team):
    deal, client = team["deal"], client_for(team["outsider"])
    assert client.get(reverse("deals:deal", args=[deal.pk])).status_code == 404
    assert client.get(reverse("deals:deal_field", args=[deal.pk, "amount"]), {"edit": "1"}).status_code == 404
    assert client.post(reverse("deals:deal_field", args=[deal.pk, "title"]), {"value": "x"}).status_code == 404
    assert client.post(reverse("deals:deal_custom", args=[deal.pk]), {}).status_code == 404
    assert client.post(reverse("deals:deal_lines", args=[deal.pk]), {"action": "add", "name": "x"}).status_code == 404
    deal.refresh_from_db()
    assert deal.title == "Sofa" and not deal.lines.exists()
    # and the contact card's panel lists none of that customer's deals to them
    panel = client.get(reverse("deals:for_contact", args=[team["contact"].pk]))
    assert panel.status_code == 200 and "Sofa" not in panel.content.decode()


def test_contact_card_loads_the_deals_panel(team):
    client = client_for(team["manager"])
    card = client.get(reverse("contacts:card", args=[team["contact"].pk])).content.decode()
    assert reverse("deals:for_contact", args=[team["contact"].pk]) in card
    panel = client.get(reverse("deals:for_contact", args=[team["contact"].pk])).content.decode()
    assert "Sofa" in panel and reverse("deals:deal", args=[team["deal"].pk]) in panel


def test_deal_list_filters_sorts_and_pages(team):
    # given 55 more deals of the manager with growing amounts, and one of the colleague
    pipeline, manager = team["pipeline"], team["manager"]
    for i in range(55):
        DealFactory(pipeline=pipeline, responsible=manager, amount=Decimal(i), title=f"Deal {i:02d}")
    DealFactory(pipeline=pipeline, responsible=team["colleague"], title="Oleg's", amount=Decimal("99999"))
    client = client_for(manager)
    url = reverse("deals:list")
    # when sorted by amount, biggest first
    first = client.get(url, {"sort": "-amount"})
    assert first.context["page"].paginator.count == 57
    assert [d.title for d in first.context["page"]][:2] == ["Oleg's", "Sofa"]
    # when "my deals" and a search narrow it, sorted by amount ascending, page 2
    page2 = client.get(url, {"mine": "1", "q": "Deal", "sort": "amount", "page": "2"})
    assert page2.context["page"].paginator.count == 55
    assert [d.title for d in page2.context["page"]] == ["Deal 50", "Deal 51", "Deal 52", "Deal 53", "Deal 54"]
    # the export link carries the same filters and sort
    assert "sort=amount" in page2.context["export_xlsx"] and "mine=1" in page2.context["export_xlsx"]
    # the outsider sees none of them
    assert client_for(team["outsider"]).get(url).context["page"].paginator.count == 0


@pytest.fixture
def extras():
    """Registers stand-in deadlines and robot runs, then puts back whatever was registered."""
    from okno.deals import deal_extras

    saved = dict(deal_extras._extras)
    yield deal_extras.register_deal_extra
    deal_extras._extras.clear()
    deal_extras._extras.update(saved)


def test_deal_page_draws_deadlines_and_the_robot_log_from_deal_extras(team, extras):
    # given a missed deadline and a failed robot run told through the deals' extras registry
    extras("deadlines", lambda deal: [{"id": 1, "robot_id": 2, "name": "30 minutes", "status": "missed",
                                       "due_at": "2026-12-04T17:50:00+03:00", "closed_at": None}])
    extras("robot_runs", lambda deal: [{"id": 5, "summary": "SMS to the customer", "status": "failed",
                                        "error": "provider said 500", "created_at": "2026-12-04T17:20:00+03:00",
                                        "finished_at": None}])
    # when the page opens
    html = client_for(team["manager"]).get(reverse("deals:deal", args=[team["deal"].pk])).content.decode()
    # then both panels show them
    assert "30 minutes" in html and "deadline-missed" in html and 'datetime="2026-12-04T17:50:00+03:00"' in html
    assert "SMS to the customer" in html and "provider said 500" in html and "robot-run-failed" in html
