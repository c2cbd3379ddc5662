"""GET/POST /api/v1/suppliers and the directory's pages."""

from django.test import Client

from okno.deals.models import Supplier
from okno.people.models import User
from okno.people.tests.factories import UserFactory


def test_a_supplier_is_created_and_listed(api):
    r = api.post("/api/v1/suppliers", {"name": "ООО Мебель-Опт", "emails": ["Orders@Mebel.example"],
                                       "phones": ["8 (495) 123-45-67"], "terms": "50% предоплата",
                                       "custom": {"manager": "Ирина"}})
    assert r.status_code == 201, r.content
    s = Supplier.objects.get()
    assert s.emails == ["orders@mebel.example"] and s.phones[0]["e164"] == "+74951234567"
    assert s.custom == {"manager": "Ирина"}
    listed = api.get("/api/v1/suppliers", q="мебель").json()
    assert [x["name"] for x in listed] == ["ООО Мебель-Опт"]


def test_bad_fields_are_named(api):
    r = api.post("/api/v1/suppliers", {"name": "", "emails": ["nope"], "phones": ["12"]})
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {"name", "emails[0]", "phones[0]"}
    assert not Supplier.objects.exists()


def test_a_manager_reads_but_does_not_change(db, api_as):
    manager = api_as(UserFactory(role=User.Role.MANAGER))
    assert manager.get("/api/v1/suppliers").status_code == 200
    assert manager.post("/api/v1/suppliers", {"name": "X"}).status_code == 403


def test_pages_list_create_and_edit(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    r = browser.post("/documents/suppliers/new/", {"name": "Фабрика", "emails": "f@fab.ru\n", "phones": "",
                                                   "terms": "", "custom": "срок: 5 дней", "is_active": "on"})
    assert r.status_code == 302
    s = Supplier.objects.get()
    assert s.custom == {"срок": "5 дней"}
    assert "Фабрика" in browser.get("/documents/suppliers/").content.decode()
    r = browser.post(f"/documents/suppliers/{s.pk}/", {"name": "Фабрика", "emails": "bad", "phones": "",
                                                        "terms": "", "custom": ""})
    assert r.status_code == 200 and "field-error" in r.content.decode() or "emails" in r.content.decode()
    s.refresh_from_db()
    assert s.emails == ["f@fab.ru"]


def test_a_lines_supplier_is_named_through_the_api_and_the_panel(api, admin_user):
    from okno.documents.tests.factories import make_deal_with_lines, make_supplier

    supplier = make_supplier()
    deal = make_deal_with_lines()
    line = deal.lines.get()
    r = api.client.put(f"/api/v1/deals/{deal.pk}/lines/{line.pk}/supplier", data={"supplier_id": supplier.pk},
                       content_type="application/json", headers=api.headers)
    assert r.status_code == 200 and r.json()["supplier_id"] == supplier.pk
    line.refresh_from_db()
    assert line.supplier_id == supplier.pk
    r = api.client.put(f"/api/v1/deals/{deal.pk}/lines/{line.pk}/supplier", data={"supplier_id": 999999},
                       content_type="application/json", headers=api.headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "supplier_id"
    browser = Client()
    browser.force_login(admin_user)
    r = browser.post(f"/documents/deal/{deal.pk}/lines/{line.pk}/supplier/", {"supplier_id": ""})
    assert r.status_code == 200
    line.refresh_from_db()
    assert line.supplier_id is None
