from okno.contacts.models import Contact, CustomField, FieldChange
from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def test_create_normalises_phones_and_returns_candidates(api):
    # given an existing customer
    old = make_contact(first_name="Иван", last_name="Петров", phones=["+7 916 123-45-67"])
    # when the same number arrives in another format
    r = api.post("/api/v1/contacts", {"first_name": "Ваня", "last_name": "Петров", "phones": ["8 (916) 123-45-67"],
                                      "emails": ["Ivan@Example.COM"]})
    # then the card is created, stored in E.164, and the old card is named as a certain duplicate
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["phones"][0]["number"] == "+79161234567"
    assert body["emails"] == ["ivan@example.com"]
    assert body["duplicates"][0]["id"] == old.pk
    assert body["duplicates"][0]["level"] == "certain"
    assert "same phone +7 916 123-45-67" in body["duplicates"][0]["reasons"]
    assert Contact.objects.count() == 2


def test_reject_on_duplicate_answers_409_and_creates_nothing(api):
    make_contact(phones=["9161234567"])
    r = api.post("/api/v1/contacts?on_duplicate=reject", {"first_name": "X", "phones": ["+7(916)123 45 67"]})
    assert r.status_code == 409
    assert r.json()["candidates"][0]["level"] == "certain"
    assert Contact.objects.count() == 1


def test_invalid_phone_and_email_name_the_field(api):
    r = api.post("/api/v1/contacts", {"first_name": "A", "phones": ["+7 916 123-45-67", "12"], "emails": ["nope"]})
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"phones[1]", "emails[0]"}
    assert Contact.objects.count() == 0


def test_custom_fields_are_typed(api):
    CustomField.objects.create(key="budget", label="Бюджет", type="number")
    CustomField.objects.create(key="birthday", label="ДР", type="date")
    CustomField.objects.create(key="segment", label="Сегмент", type="choice", choices=["A", "B"])
    bad = api.post("/api/v1/contacts", {"first_name": "A", "custom": {
        "budget": "много", "birthday": "31.02.2020", "segment": "C", "nope": 1}})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"custom.budget", "custom.birthday", "custom.segment",
                                                          "custom.nope"}
    ok = api.post("/api/v1/contacts", {"first_name": "A", "custom": {
        "budget": "1500,5", "birthday": "1990-05-01", "segment": "B"}})
    assert ok.status_code == 201, ok.content
    assert ok.json()["custom"] == {"budget": 1500.5, "birthday": "1990-05-01", "segment": "B"}


def test_wrong_type_is_422_with_field(api):
    r = api.post("/api/v1/contacts", {"first_name": ["x"]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "first_name"


def test_search_by_any_phone_format_email_and_name(api):
    c = make_contact(first_name="Пётр", last_name="Алексеев", phones=["+7 916 123-45-67"], emails=["p@a.ru"])
    make_contact(first_name="Иван", last_name="Иванов", phones=["+7 903 000-00-01"])
    for fmt in ["8 (916) 123-45-67", "+7 916 1234567", "9161234567", "8-916-123-45-67", "+7(916)123 45 67"]:
        assert [x["id"] for x in api.get("/api/v1/contacts", phone=fmt).json()] == [c.pk], fmt
        assert [x["id"] for x in api.get("/api/v1/contacts", q=fmt).json()] == [c.pk], fmt
    assert [x["id"] for x in api.get("/api/v1/contacts", email="P@A.RU").json()] == [c.pk]
    assert [x["id"] for x in api.get("/api/v1/contacts", q="петр алекс").json()] == [c.pk]


def test_patch_keeps_field_history(api, admin_user):
    c = make_contact(first_name="Иван", city="Москва")
    r = api.patch(f"/api/v1/contacts/{c.pk}", {"city": "Тверь", "phones": ["+375 29 123-45-67"]})
    assert r.status_code == 200, r.content
    assert r.json()["phones"][0]["number"] == "+375291234567"
    change = FieldChange.objects.get(contact=c, field="city")
    assert (change.old, change.new, change.user_id) == ("Москва", "Тверь", admin_user.pk)
    assert FieldChange.objects.get(contact=c, field="phones").new == "+375 29 123-45-67"


def test_no_token_is_401(client):
    assert client.get("/api/v1/contacts").status_code == 401


def test_other_departments_card_is_404(db, api_as):
    sales, support = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Поддержка")
    alice = UserFactory(department=sales)
    bob = UserFactory(department=support)
    card = make_contact(actor=alice)
    assert api_as(alice).get(f"/api/v1/contacts/{card.pk}").status_code == 200
    assert api_as(bob).get(f"/api/v1/contacts/{card.pk}").status_code == 404
    assert api_as(bob).patch(f"/api/v1/contacts/{card.pk}", {"city": "X"}).status_code == 404
    assert api_as(bob).get("/api/v1/contacts").json() == []


def test_head_sees_subdepartment_manager_sees_own_department(db, api_as):
    root = DepartmentFactory(name="Продажи")
    team = DepartmentFactory(name="Команда 1", parent=root)
    head = UserFactory(department=root, role=User.Role.HEAD)
    manager = UserFactory(department=team)
    colleague = UserFactory(department=team)
    card = make_contact(actor=manager)
    assert api_as(head).get(f"/api/v1/contacts/{card.pk}").status_code == 200
    assert api_as(colleague).get(f"/api/v1/contacts/{card.pk}").status_code == 200
    team.share_contacts = False
    team.save()
    assert api_as(colleague).get(f"/api/v1/contacts/{card.pk}").status_code == 404


def test_delete_hides_but_keeps(api):
    c = make_contact()
    assert api.delete(f"/api/v1/contacts/{c.pk}").status_code == 204
    assert api.get(f"/api/v1/contacts/{c.pk}").status_code == 404
    assert Contact.objects.get(pk=c.pk).status == Contact.Status.DELETED


def test_notes_land_on_the_timeline(api):
    c = make_contact()
    assert api.post(f"/api/v1/contacts/{c.pk}/notes", {"body": "Перезвонить в пятницу"}).status_code == 201
    assert api.post(f"/api/v1/contacts/{c.pk}/notes", {"body": "   "}).status_code == 400
    kinds = [(a["kind"], a["summary"]) for a in api.get(f"/api/v1/contacts/{c.pk}/activities").json()]
    assert kinds == [("note", "Перезвонить в пятницу")]


def test_messenger_handles_are_kept_and_validated(api):
    r = api.post("/api/v1/contacts", {"first_name": "Ольга", "handles": [{"kind": "Telegram", "handle": "123456789"}]})
    assert r.status_code == 201, r.content
    assert r.json()["handles"] == [{"kind": "telegram", "handle": "123456789"}]
    bad = api.patch(f"/api/v1/contacts/{r.json()['id']}", {"handles": [{"kind": "icq", "handle": "1"},
                                                                       {"kind": "vk", "handle": ""}]})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"handles[0].kind", "handles[1].handle"}
    ok = api.patch(f"/api/v1/contacts/{r.json()['id']}", {"handles": [{"kind": "vk", "handle": "id42"}]})
    assert ok.json()["handles"] == [{"kind": "vk", "handle": "id42"}]
    assert FieldChange.objects.get(field="handles").old == "telegram:123456789"


def test_reject_ignores_mere_namesakes(api):
    # given a namesake with nothing else in common
    make_contact(first_name="Иван", last_name="Иванов", phones=["+7 903 111-22-33"])
    # when a different Иван Иванов is created with on_duplicate=reject
    r = api.post("/api/v1/contacts?on_duplicate=reject", {"first_name": "Иван", "last_name": "Иванов",
                                                          "phones": ["+7 926 444-55-66"]})
    # then he is created, and the namesake is still named as a possible duplicate
    assert r.status_code == 201, r.content
    assert [d["level"] for d in r.json()["duplicates"]] == ["possible"]
