"""Companies: seen through the cards a user sees; the pages, and /api/v1/companies."""

import pytest

from okno.contacts import services
from okno.contacts.models import Company
from okno.contacts.selectors import company_get, company_list
from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture
def manager(db):
    return UserFactory(language="en")


@pytest.fixture
def stranger(db):
    """A manager of another department: none of the manager's cards are theirs, nor theirs the manager's."""
    return UserFactory(language="en", department=DepartmentFactory())


@pytest.fixture
def world(manager, stranger):
    """Ромашка is the manager's, Секрет the stranger's, Общая has a card of each, Пустая only a deleted card."""
    mine = make_contact(actor=manager, first_name="Анна", last_name="Кузнецова", company="ООО Ромашка",
                        phones=["+7 916 123-45-67"])
    secret = make_contact(actor=stranger, first_name="Секрет", last_name="Чужой", company="ЗАО Секрет")
    shared_mine = make_contact(actor=manager, first_name="Борис", last_name="Общий", company="Общая")
    shared_theirs = make_contact(actor=stranger, first_name="Вера", last_name="Невидимая", company="Общая",
                                 phones=["+7 903 000-00-01"])
    gone = make_contact(actor=manager, first_name="Глеб", last_name="Удалённый", company="Пустая")
    services.contact_delete(actor=manager, contact=gone)
    return {"mine": mine, "secret": secret, "shared_mine": shared_mine, "shared_theirs": shared_theirs,
            "gone": gone, **{c.name: c for c in Company.objects.all()}}


def test_a_manager_sees_companies_of_the_cards_they_see_and_counts_only_those(manager, world):
    # when the manager lists companies
    rows = list(company_list(user=manager))
    # then the other department's company and the one with only a deleted card are not there
    assert [(c.name, c.contacts_count) for c in rows] == [("Общая", 1), ("ООО Ромашка", 1)]
    # and reading them one by one agrees
    assert company_get(user=manager, pk=world["Общая"].pk).name == "Общая"
    for hidden in ("ЗАО Секрет", "Пустая"):
        with pytest.raises(Exception) as exc:
            company_get(user=manager, pk=world[hidden].pk)
        assert exc.type.__name__ == "Http404", hidden


def test_an_admin_sees_every_company_with_every_active_card_counted(world):
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    rows = {c.name: c.contacts_count for c in company_list(user=admin)}
    assert rows == {"Общая": 2, "ООО Ромашка": 1, "ЗАО Секрет": 1, "Пустая": 0}


def test_search_takes_words_of_the_name_in_any_case_and_with_yo(manager):
    make_contact(actor=manager, first_name="А", company="Пёстрая Ёлка")
    make_contact(actor=manager, first_name="Б", company="Ромашка")
    assert [c.name for c in company_list(user=manager, q="ЕЛКА пестр")] == ["Пёстрая Ёлка"]
    assert [c.name for c in company_list(user=manager, q="ёлка ромашка")] == []


def test_list_page_searches_and_answers_htmx_with_rows_only(client, manager, world):
    client.force_login(manager)
    # when the page is opened, it names the visible companies with their counts, and links them
    page = client.get("/contacts/companies/").content.decode()
    assert f'href="/contacts/companies/{world["ООО Ромашка"].pk}/"' in page
    assert "Общая" in page and "Секрет" not in page and "Пустая" not in page
    assert 'href="/contacts/companies/" class="active"' in page  # the nav link
    # when the live search asks for a part of a name
    r = client.get("/contacts/companies/", {"q": "ромаш"}, headers={**HTMX, "HX-Target": "company-results"})
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert "ООО Ромашка" in html and "Общая" not in html
    # and a search that finds nothing says so
    assert "Nothing found for" in client.get("/contacts/companies/", {"q": "секрет"}).content.decode()


def test_company_page_lists_the_visible_cards_with_phones_and_responsible(client, manager, world):
    client.force_login(manager)
    # when the manager opens the shared company
    html = client.get(f"/contacts/companies/{world['Общая'].pk}/").content.decode()
    # then only the manager's card is listed, linked, with its responsible; the stranger's is not
    assert f'href="/contacts/{world["shared_mine"].pk}/"' in html and "Общий Борис" in html
    assert manager.display_name in html
    assert "Невидимая" not in html and "+7 903 000-00-01" not in html
    # and a card's phone is shown, formatted, with a tel: link
    mine = client.get(f"/contacts/companies/{world['ООО Ромашка'].pk}/").content.decode()
    assert 'href="tel:+79161234567"' in mine and "+7 916 123-45-67" in mine


def test_another_departments_company_is_404_on_the_page(client, manager, world):
    client.force_login(manager)
    assert client.get(f"/contacts/companies/{world['ЗАО Секрет'].pk}/").status_code == 404
    assert client.get(f"/contacts/companies/{world['Пустая'].pk}/").status_code == 404
    assert client.get("/contacts/companies/999999/").status_code == 404


def test_the_card_links_its_company(client, manager, world):
    client.force_login(manager)
    html = client.get(f"/contacts/{world['mine'].pk}/").content.decode()
    assert html.count(f'href="/contacts/companies/{world["ООО Ромашка"].pk}/"') == 2  # the heading and the field


def test_anonymous_is_sent_to_login(client, db):
    r = client.get("/contacts/companies/")
    assert r.status_code == 302 and r.url.startswith("/login/")


def test_api_lists_and_reads_companies_as_the_caller_sees_them(api_as, manager, world):
    client = api_as(manager)
    # when the manager lists companies, and searches
    rows = client.get("/api/v1/companies").json()
    found = client.get("/api/v1/companies", q="общ").json()
    # then only the visible ones come back, with the count of visible cards
    assert [(r["id"], r["name"], r["contacts_count"]) for r in rows] == [
        (world["Общая"].pk, "Общая", 1), (world["ООО Ромашка"].pk, "ООО Ромашка", 1)]
    assert [r["name"] for r in found] == ["Общая"]
    # when one company is read, its contacts are the ids the manager may see
    detail = client.get(f"/api/v1/companies/{world['Общая'].pk}")
    assert detail.status_code == 200
    assert detail.json()["contacts"] == [world["shared_mine"].pk]
    # and another department's company answers 404, like a missing one
    for pk in (world["ЗАО Секрет"].pk, world["Пустая"].pk, 999999):
        r = client.get(f"/api/v1/companies/{pk}")
        assert (r.status_code, r.json()) == (404, {"detail": "Not found"}), pk


def test_api_admin_reads_every_card_of_a_company_and_pages(api, world):
    detail = api.get(f"/api/v1/companies/{world['Общая'].pk}").json()
    assert sorted(detail["contacts"]) == sorted([world["shared_mine"].pk, world["shared_theirs"].pk])
    page = api.get("/api/v1/companies", limit=2, offset=1).json()
    assert [r["name"] for r in page] == ["Общая", "ООО Ромашка"]
    assert api.get("/api/v1/companies", limit=0).status_code == 422


def test_api_without_a_token_is_401(client, world):
    assert client.get("/api/v1/companies").status_code == 401
