"""Duplicate candidates across departments (issue 13): another department's card does not exist
for you, so a match there is told only as "already served by <responsible> (<department>)",
with no id, no card data and no reasons; a card you may see is listed as before."""

import json

import pytest
from django.test import Client

from okno.contacts.duplicates import duplicates_scan
from okno.contacts.models import Contact
from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

PHONE = "+7 916 123-45-67"


@pytest.fixture
def world(db):
    """Department A's manager with a customer's card; department B's manager, who may not see it."""
    a, b = DepartmentFactory(name="Отдел продаж Москва"), DepartmentFactory(name="Отдел продаж Казань")
    manager_a = UserFactory(first_name="Анна", last_name="Серова", department=a)
    manager_b = UserFactory(first_name="Борис", last_name="Котов", department=b)
    card = make_contact(actor=manager_a, first_name="Иван", last_name="Тайнов", phones=[PHONE],
                        emails=["tainov@secret.example"], company="ООО Секрет", city="Тверь")
    assert card.department_id == a.pk and card.responsible_id == manager_a.pk
    return {"a": a, "b": b, "manager_a": manager_a, "manager_b": manager_b, "card": card}


def _leaks(text: str, card: Contact) -> list[str]:
    """The parts of A's card found in an answer given to B."""
    secrets = [f'"id": {card.pk}', f"/contacts/{card.pk}/", f"#{card.pk}", "Тайнов", "tainov@secret.example",
               "Секрет", "Тверь"]
    return [s for s in secrets if s in text]


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_reject_by_another_department_is_409_naming_only_who_serves(world, api_as):
    # when B's manager creates the same phone with on_duplicate=reject
    r = api_as(world["manager_b"]).post("/api/v1/contacts?on_duplicate=reject",
                                        {"first_name": "Иван", "phones": [PHONE]})
    # then the create is refused, and only the responsible and department are told
    assert r.status_code == 409
    body = r.json()
    assert body["candidates"] == []
    assert body["served_by"] == [{"responsible": "Анна Серова", "department": "Отдел продаж Москва"}]
    assert body["detail"] == "This customer is already served by Анна Серова (Отдел продаж Москва); ask them"
    assert _leaks(r.content.decode(), world["card"]) == []
    assert Contact.objects.count() == 1


def test_reject_by_the_same_department_lists_the_card_as_before(world, api_as):
    # when A's manager creates the same phone with on_duplicate=reject
    r = api_as(world["manager_a"]).post("/api/v1/contacts?on_duplicate=reject",
                                        {"first_name": "Иван", "phones": [PHONE]})
    # then the card is named with its reasons
    assert r.status_code == 409
    body = r.json()
    assert [c["id"] for c in body["candidates"]] == [world["card"].pk]
    assert body["candidates"][0]["level"] == "certain"
    assert body["served_by"] == []


def test_create_by_another_department_tells_who_serves_without_the_card(world, api_as):
    # when B's manager creates the same phone (on_duplicate=create, the default)
    r = api_as(world["manager_b"]).post("/api/v1/contacts", {"first_name": "Иван", "phones": [PHONE]})
    # then the card is made, A's card is not listed, who serves the customer is
    assert r.status_code == 201
    body = r.json()
    assert body["duplicates"] == []
    assert body["served_by"] == [{"responsible": "Анна Серова", "department": "Отдел продаж Москва"}]
    assert _leaks(json.dumps(body["duplicates"] + body["served_by"], ensure_ascii=False), world["card"]) == []


def test_a_mere_namesake_elsewhere_is_not_told(world, api_as):
    # when B's manager rejects on duplicates a card with only the same name
    r = api_as(world["manager_b"]).post("/api/v1/contacts?on_duplicate=reject",
                                        {"first_name": "Иван", "last_name": "Тайнов"})
    # then it is created, and nothing says that a namesake exists elsewhere
    assert r.status_code == 201
    assert r.json()["duplicates"] == [] and r.json()["served_by"] == []


def test_a_likely_match_by_name_and_company_tells_who_serves_but_not_the_cards_phone(world, api_as):
    # when B's manager types the name and the company, not the phone
    r = api_as(world["manager_b"]).post("/api/v1/contacts?on_duplicate=reject",
                                        {"first_name": "Иван", "last_name": "Тайнов", "company": "ООО Секрет"})
    # then it is refused with who serves, and the card's phone and e-mail are not disclosed
    assert r.status_code == 409
    text = json.dumps(r.json(), ensure_ascii=False)
    assert "Анна Серова" in text
    assert "916" not in text and "tainov@" not in text and f'"id": {world["card"].pk}' not in text


def test_the_forms_live_warning_in_another_department_names_only_who_serves(world):
    # when B's manager types the phone into the new-contact form
    r = _logged_in(world["manager_b"]).post("/contacts/new/check-duplicates/", {"phones": [PHONE]})
    # then the warning says who serves the customer, with no link to the card and no card data
    text = r.content.decode()
    assert r.status_code == 200
    assert "Анна Серова" in text and "Отдел продаж Москва" in text
    assert _leaks(text, world["card"]) == []


def test_the_forms_live_warning_in_the_same_department_links_the_card(world):
    # when A's manager types the phone
    r = _logged_in(world["manager_a"]).post("/contacts/new/check-duplicates/", {"phones": [PHONE]})
    # then the card is linked, with its name, as before
    text = r.content.decode()
    assert f"/contacts/{world['card'].pk}/" in text and "Тайнов" in text
    assert 'id="served-by"' not in text


def test_the_form_saved_in_another_department_says_who_serves(world):
    # when B's manager saves a new card with the phone
    client = _logged_in(world["manager_b"])
    r = client.post("/contacts/new/", {"first_name": "Иван", "phones": [PHONE], "phone_kinds": ["mobile"]},
                    follow=True)
    # then the message says who serves, and the page has nothing of A's card
    text = r.content.decode()
    assert r.status_code == 200
    assert "Анна Серова" in text
    assert _leaks(text, world["card"]) == []


def test_duplicate_groups_and_card_duplicates_leave_out_the_other_departments_card(world, api_as, admin_user):
    # given B's own card with the same phone, and the background scan done
    mine = make_contact(actor=world["manager_b"], first_name="Иван", phones=[PHONE])
    duplicates_scan()
    # when B reads the duplicate groups (API and page) and the card's duplicates
    b = api_as(world["manager_b"])
    groups = b.get("/api/v1/duplicate-groups")
    card_duplicates = b.get(f"/api/v1/contacts/{mine.pk}/duplicates")
    page = _logged_in(world["manager_b"]).get("/contacts/duplicates/")
    card_page = _logged_in(world["manager_b"]).get(f"/contacts/{mine.pk}/")
    # then A's card is in none of them
    assert groups.json() == []
    assert card_duplicates.json() == []
    assert _leaks(page.content.decode(), world["card"]) == []
    assert f"/contacts/{world['card'].pk}/" not in card_page.content.decode()
    # and an administrator sees the pair
    admin_groups = api_as(admin_user).get("/api/v1/duplicate-groups").json()
    assert [sorted(c["id"] for c in g["contacts"]) for g in admin_groups] == [sorted([mine.pk, world["card"].pk])]


def test_the_card_page_says_who_else_serves_the_customer(world):
    # given B's own card with the same phone as A's card
    mine = make_contact(actor=world["manager_b"], first_name="Иван", phones=[PHONE])
    # when B's manager opens their card
    text = _logged_in(world["manager_b"]).get(f"/contacts/{mine.pk}/").content.decode()
    # then it says who serves the customer in A, with nothing of A's card
    assert 'id="served-by"' in text and "Анна Серова" in text
    assert _leaks(text, world["card"]) == []
