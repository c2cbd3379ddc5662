"""The company page and /api/v1/companies with requisites: create and edit through the form and
the API, the page's contacts, deals and merged timeline, and who sees which company."""

import re

import pytest

from okno.contacts.companies import company_update
from okno.contacts.models import Company
from okno.contacts.tests.factories import make_contact
from okno.deals.tests.factories import DealFactory
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.services import note_add

INN = "7728123459"
OGRN = "1027700123450"
BIK = "044525999"
SETTLEMENT = "40702810100001234567"
CORRESPONDENT = "30101810600000000999"


@pytest.fixture
def manager(db):
    return UserFactory(language="en")


@pytest.fixture
def stranger(db):
    return UserFactory(language="en", department=DepartmentFactory())


@pytest.fixture
def vector(manager, stranger):
    """ООО Вектор with the manager's card (Анна) and the stranger's (Вера); each card has a note and a deal."""
    anna = make_contact(actor=manager, first_name="Анна", last_name="Кузнецова", company="ООО Вектор")
    vera = make_contact(actor=stranger, first_name="Вера", last_name="Невидимая", company="ООО Вектор")
    company = Company.objects.get(name="ООО Вектор")
    company_update(actor=None, company=company, raw={
        "inn": INN, "kpp": "772801001", "ogrn": OGRN, "bik": BIK, "settlement_account": SETTLEMENT,
        "correspondent_account": CORRESPONDENT, "bank_name": "АО «Пример-Банк»",
        "legal_address": "Москва, ул. Примерная, 1", "phones": ["+7 495 123-45-67 доб. 12"],
        "emails": ["office@vector.example"], "responsible_id": manager.pk})
    note_add(contact=anna, body="Анна просит счёт", author=manager)
    note_add(contact=vera, body="Секретная заметка Веры", author=stranger)
    DealFactory(title="Поставка Анне", contact=anna, responsible=manager)
    DealFactory(title="Сделка Веры", contact=vera, responsible=stranger)
    DealFactory(title="Договор с компанией", company=company, responsible=manager)
    return {"company": company, "anna": anna, "vera": vera}


def test_company_page_shows_requisites_phones_contacts_and_the_merged_timeline(client, manager, vector):
    client.force_login(manager)
    html = client.get(f"/contacts/companies/{vector['company'].pk}/").content.decode()
    # requisites, formatted: the account in its groups, never wrapped
    for text in (INN, "772801001", OGRN, BIK, "40702 810 1 0000 1234567", "АО «Пример-Банк»",
                 "Москва, ул. Примерная, 1"):
        assert text in html, text
    assert 'href="tel:+74951234567,12"' in html and 'href="mailto:office@vector.example"' in html
    assert manager.display_name in html
    # the visible card and its note; not the stranger's card nor its note
    assert f'href="/contacts/{vector["anna"].pk}/"' in html and "Анна просит счёт" in html
    assert "Невидимая" not in html and "Секретная заметка" not in html
    # the deals panel is drawn by the deals app
    assert f'hx-get="/deals/for-company/{vector["company"].pk}/"' in html


def test_deals_panel_lists_the_companys_and_its_cards_deals_the_user_sees(client, manager, vector):
    client.force_login(manager)
    html = client.get(f"/deals/for-company/{vector['company'].pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "Поставка Анне" in html and "Договор с компанией" in html
    assert "Сделка Веры" not in html


def test_timeline_pages_further_back(client, manager, vector):
    from okno.contacts import views_companies

    client.force_login(manager)
    for n in range(3):
        note_add(contact=vector["anna"], body=f"Заметка {n}", author=manager)
    old = views_companies.TIMELINE_PAGE
    views_companies.TIMELINE_PAGE = 2
    try:
        first = client.get(f"/contacts/companies/{vector['company'].pk}/").content.decode()
        second = client.get(f"/contacts/companies/{vector['company'].pk}/", {"tpage": 2}).content.decode()
    finally:
        views_companies.TIMELINE_PAGE = old
    assert "Заметка 2" in first and "Заметка 1" in first and "Заметка 0" not in first and "?tpage=2" in first
    assert "Заметка 0" in second and "Заметка 2" not in second


def test_another_departments_company_is_404_and_a_responsible_sees_their_company(client, manager, stranger, vector):
    secret = make_contact(actor=stranger, first_name="Секрет", company="ЗАО Секрет").company
    client.force_login(manager)
    assert client.get(f"/contacts/companies/{secret.pk}/").status_code == 404
    assert client.get(f"/contacts/companies/{secret.pk}/edit/").status_code == 404
    # a company with no card the manager sees, but theirs as responsible, is theirs to see
    company_update(actor=None, company=secret, raw={"responsible_id": manager.pk})
    html = client.get(f"/contacts/companies/{secret.pk}/").content.decode()
    assert "ЗАО Секрет" in html and "No cards of this company that you can see." in html


def test_new_company_through_the_form_and_its_errors_name_the_field(client, manager):
    client.force_login(manager)
    form = client.get("/contacts/companies/new/").content.decode()
    assert '<label for="id_inn">INN</label>' in form and "10 digits for a company" in form
    # when the INN's check digit is wrong
    r = client.post("/contacts/companies/new/", {"name": "ООО Луч", "inn": "7728123458", "phones": "8 495 123-45-67"})
    assert r.status_code == 400
    html = r.content.decode()
    assert re.search(r'has-error">\s*<label for="id_inn">', html)
    assert "wrong check digit: not a valid INN" in html and 'value="ООО Луч"' in html
    assert not Company.objects.exists()
    # when it is right, the company is created with the manager as its responsible
    r = client.post("/contacts/companies/new/", {"name": "ООО Луч", "inn": INN, "phones": "8 495 123-45-67\n",
                                                 "emails": "a@luch.example"})
    company = Company.objects.get()
    assert r.status_code == 302 and r.url == f"/contacts/companies/{company.pk}/"
    assert (company.inn, company.phones[0]["e164"], company.emails, company.responsible) == (
        INN, "+74951234567", ["a@luch.example"], manager)


def test_edit_form_shows_the_stored_values_and_a_refusal_loses_nothing(client, manager, vector):
    client.force_login(manager)
    url = f"/contacts/companies/{vector['company'].pk}/edit/"
    form = client.get(url).content.decode()
    assert "+7 495 123-45-67" in form and f'value="{SETTLEMENT}"' in form and "office@vector.example" in form
    r = client.post(url, {"name": "ООО Вектор", "bik": BIK, "settlement_account": "40702810200001234567",
                          "responsible_id": manager.pk})
    assert r.status_code == 400
    assert re.search(r'has-error">\s*<label for="id_settlement_account">', r.content.decode())
    vector["company"].refresh_from_db()
    assert vector["company"].settlement_account == SETTLEMENT  # nothing lost


def test_api_creates_reads_patches_and_refuses_naming_the_field(api_as, manager, stranger, vector):
    client = api_as(manager)
    r = client.post("/api/v1/companies", {"name": "ИП Петров", "inn": "771234567859", "ogrn": "316774600123454",
                                          "phones": ["+7 916 123-45-67"], "emails": ["ip@petrov.example"]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["inn"], body["ogrn"], body["responsible_id"], body["contacts"]) == (
        "771234567859", "316774600123454", manager.pk, [])
    assert body["phones"] == [{"e164": "+79161234567", "extension": "", "display": "+7 916 123-45-67"}]
    # a bad INN: 400 naming inn and the reason
    r = client.post("/api/v1/companies", {"name": "ООО Ошибка", "inn": "7728123458"})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "inn", "reason": "wrong check digit: not a valid INN"}]
    # a wrong type: 422 naming the field
    r = client.post("/api/v1/companies", {"name": "ООО Ошибка", "phones": "not a list"})
    assert r.status_code == 422 and "phones" in r.content.decode()
    # PATCH changes only what is given
    pk = vector["company"].pk
    r = client.patch(f"/api/v1/companies/{pk}", {"kpp": "772901001"})
    assert r.status_code == 200
    detail = r.json()
    assert (detail["kpp"], detail["inn"], detail["settlement_account"]) == ("772901001", INN, SETTLEMENT)
    assert detail["contacts"] == [vector["anna"].pk]
    r = client.patch(f"/api/v1/companies/{pk}", {"settlement_account": "40702810200001234567"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "settlement_account"
    # the list carries the INN; another department's company is 404 to read and to change
    assert {row["name"]: row["inn"] for row in client.get("/api/v1/companies").json()}["ООО Вектор"] == INN
    secret = make_contact(actor=stranger, first_name="Секрет", company="ЗАО Секрет").company
    assert client.get(f"/api/v1/companies/{secret.pk}").status_code == 404
    assert client.patch(f"/api/v1/companies/{secret.pk}", {"inn": INN}).status_code == 404


def test_the_list_shows_inn_and_responsible_and_finds_a_company_by_its_inn(client, manager, vector):
    client.force_login(manager)
    html = client.get("/contacts/companies/").content.decode()
    assert INN in html and manager.display_name in html
    found = client.get("/contacts/companies/", {"q": INN[:6]}, headers={"HX-Request": "true",
                                                                       "HX-Target": "company-results"})
    assert "ООО Вектор" in found.content.decode()
    assert "ООО Вектор" not in client.get("/contacts/companies/", {"q": "5406"}).content.decode()
