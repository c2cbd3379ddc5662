"""Quick fields (delivery date, address, comment): the service that sets one, and its pages on
the board's cards and the deal page. Refused values name the reason and keep the stored value."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from okno.contacts.tests.factories import make_contact
from okno.core import events
from okno.core.errors import FieldError
from okno.deals.models import Deal
from okno.deals.quick_fields import deal_quick_field_set, quick_fields
from okno.deals.tests.factories import PipelineFactory, PipelineFieldFactory, make_deal
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.models import Activity


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def heard():
    seen = []
    events.subscribe("deal.updated", seen.append, key="tests.quick.heard")
    yield seen
    events._subscribers["deal.updated"] = [
        (k, fn) for k, fn in events._subscribers["deal.updated"] if k != "tests.quick.heard"]


@pytest.fixture
def shop(db):
    """An order pipeline with the stores' three quick keys (and one other field), a manager's deal."""
    sales = DepartmentFactory(share_contacts=True)
    manager = UserFactory(department=sales, language="ru")
    pipeline = PipelineFactory(name="Заказы")
    PipelineFieldFactory(pipeline=pipeline, key="comment", label="Комментарий", type="text")
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", label="Дата доставки", type="date")
    PipelineFieldFactory(pipeline=pipeline, key="delivery_address", label="Адрес доставки", type="text")
    PipelineFieldFactory(pipeline=pipeline, key="payment_method", label="Оплата", type="text")
    contact = make_contact(actor=manager, first_name="Анна", phones=["+79123456789"])
    deal = make_deal(actor=manager, pipeline=pipeline, contact_id=contact.pk, title="Заказ 1001",
                     custom={"delivery_date": "2026-12-06", "payment_method": "карта"})
    return {"manager": manager, "pipeline": pipeline, "deal": deal,
            "outsider": UserFactory(department=DepartmentFactory(), language="en")}


def test_quick_fields_are_the_pipelines_fields_of_the_stores_keys_in_their_order(shop):
    assert [f.key for f in quick_fields(shop["pipeline"])] == ["delivery_date", "delivery_address", "comment"]
    assert quick_fields(PipelineFactory()) == []


def test_set_a_date_typed_in_the_russian_way_records_the_change_and_publishes_it(shop, heard):
    # given
    deal, manager = shop["deal"], shop["manager"]
    # when the manager types the date as Russians write it
    with translation.override("ru"):
        deal = deal_quick_field_set(actor=manager, deal=deal, key="delivery_date", value="08.12.2026")
    # then it is kept as the date field keeps dates, the other fields untouched
    deal.refresh_from_db()
    assert deal.custom == {"delivery_date": "2026-12-08", "payment_method": "карта"}
    # and the change is published as any field edit, and written on the customer's timeline
    assert heard[-1].data["changed"] == ["custom.delivery_date"] and heard[-1].data["actor_id"] == manager.pk
    assert Activity.objects.filter(contact=deal.contact, kind="deal").count() == 2  # created, then changed
    # when it is changed again by someone reading English
    with translation.override("en"):
        deal_quick_field_set(actor=manager, deal=deal, key="delivery_date", value="2026-12-09")
    # then the timeline's line says the field, the deal, and both dates as that language writes them
    entry = Activity.objects.filter(contact=deal.contact, kind="deal").order_by("-pk").first()
    assert entry.summary == "“Дата доставки” of the deal “Заказ 1001”: 8 Dec 2026 → 9 Dec 2026"
    assert entry.author == manager


def test_a_value_the_field_does_not_take_is_refused_and_the_stored_one_kept(shop, heard):
    deal, manager = shop["deal"], shop["manager"]
    for bad in ("31.02.2026", "soon"):
        with pytest.raises(FieldError) as refused:
            deal_quick_field_set(actor=manager, deal=deal, key="delivery_date", value=bad)
        assert refused.value.by_field == {"custom.delivery_date": "must be a date as YYYY-MM-DD"}
    # a key that is not a quick field of this pipeline is refused too
    with pytest.raises(FieldError):
        deal_quick_field_set(actor=manager, deal=deal, key="payment_method", value="наличные")
    deal.refresh_from_db()
    assert deal.custom["delivery_date"] == "2026-12-06" and deal.custom["payment_method"] == "карта"
    assert heard == []


def test_an_empty_value_clears_the_field_and_the_same_value_writes_nothing(shop, heard):
    deal, manager = shop["deal"], shop["manager"]
    entries = Activity.objects.count()
    deal_quick_field_set(actor=manager, deal=deal, key="delivery_date", value="2026-12-06")
    assert heard == [] and Activity.objects.count() == entries
    deal = deal_quick_field_set(actor=manager, deal=deal, key="delivery_date", value="")
    assert "delivery_date" not in Deal.objects.get(pk=deal.pk).custom
    assert Activity.objects.count() == entries + 1


def test_the_board_card_shows_the_quick_fields_with_the_date_in_the_readers_language(shop):
    # given
    deal, manager = shop["deal"], shop["manager"]
    # when the manager (who reads Russian) opens the board
    html = client_for(manager).get(reverse("deals:board", args=[shop["pipeline"].pk])).content.decode()
    # then the card carries the three quick fields, the date as Russians write it, in the stores' order
    card = html[html.index(f'id="deal-card-{deal.pk}"'):]
    card = card[:card.index("</article>")]
    assert f'id="quick-card-{deal.pk}-delivery_date"' in card and "06.12.2026" in card
    assert card.index("Дата доставки") < card.index("Адрес доставки") < card.index("Комментарий")
    assert f'hx-get="/deals/{deal.pk}/quick/delivery_date/?place=card&amp;edit=1"' in card
    assert "Оплата" not in card
    # and an English reader sees the English date
    manager.language = "en"
    manager.save()
    html = client_for(manager).get(reverse("deals:board", args=[shop["pipeline"].pk])).content.decode()
    assert "6 Dec 2026" in html


def test_a_pipeline_without_quick_fields_shows_none(shop):
    other = PipelineFactory()
    deal = make_deal(actor=shop["manager"], pipeline=other, title="Plain")
    html = client_for(shop["manager"]).get(reverse("deals:board", args=[other.pk])).content.decode()
    assert "quick-field" not in html
    assert "quick-field" not in client_for(shop["manager"]).get(reverse("deals:deal", args=[deal.pk])).content.decode()
    assert client_for(shop["manager"]).get(f"/deals/{deal.pk}/quick/comment/?edit=1").status_code == 404


def test_edit_in_place_form_save_and_a_refusal_with_its_reason(shop):
    deal, client = shop["deal"], client_for(shop["manager"])
    url = reverse("deals:deal_quick", args=[deal.pk, "delivery_address"])
    # the link the card draws is the view's
    assert url == f"/deals/{deal.pk}/quick/delivery_address/"
    # when the field is clicked, its small form comes in place of it
    form = client.get(url, {"edit": "1", "place": "card"}).content.decode()
    assert 'name="value"' in form and f'id="quick-card-{deal.pk}-delivery_address"' in form
    assert "Escape" in form  # Escape puts the value back, as Cancel does
    # when an address is saved
    response = client.post(url, {"value": " Казань, ул. Ленина, 5 ", "place": "card"}, HTTP_HX_REQUEST="true")
    # then the field comes back shown with its new value, and the deal holds it
    assert response.status_code == 200 and response["HX-Trigger"] == "deal-changed"
    html = response.content.decode()
    assert f'id="quick-card-{deal.pk}-delivery_address"' in html and "Казань, ул. Ленина, 5" in html
    assert Deal.objects.get(pk=deal.pk).custom["delivery_address"] == "Казань, ул. Ленина, 5"
    # when a date that does not exist is typed
    response = client.post(reverse("deals:deal_quick", args=[deal.pk, "delivery_date"]),
                           {"value": "31.02.2026", "place": "card"})
    # then the form stays with the value typed and the reason in Russian; the stored date is kept
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="field-error"' in html and "«Дата доставки»" in html and 'value="31.02.2026"' in html
    assert Deal.objects.get(pk=deal.pk).custom["delivery_date"] == "2026-12-06"


def test_another_departments_deal_is_404_and_unchanged(shop):
    deal = shop["deal"]
    client = client_for(shop["outsider"])
    url = reverse("deals:deal_quick", args=[deal.pk, "comment"])
    assert client.get(url, {"edit": "1"}).status_code == 404
    assert client.post(url, {"value": "hacked"}).status_code == 404
    assert "comment" not in Deal.objects.get(pk=deal.pk).custom


def test_deal_page_shows_quick_fields_in_place_and_its_fields_form_leaves_them_alone(shop):
    deal, client = shop["deal"], client_for(shop["manager"])
    deal_quick_field_set(actor=shop["manager"], deal=deal, key="comment", value="Позвонить за час")
    # when the deal page opens
    html = client.get(reverse("deals:deal", args=[deal.pk])).content.decode()
    # then the quick fields are beside the deal's fields, edited in place, not in the fields' form
    assert f'id="quick-page-{deal.pk}-comment"' in html and "Позвонить за час" in html
    assert 'name="custom_comment"' not in html and 'name="custom_payment_method"' in html
    # when the fields' form is saved
    client.post(reverse("deals:deal_custom", args=[deal.pk]), {"custom_payment_method": "наличные"})
    # then the quick fields keep their values
    custom = Deal.objects.get(pk=deal.pk).custom
    assert custom == {"delivery_date": "2026-12-06", "comment": "Позвонить за час", "payment_method": "наличные"}
