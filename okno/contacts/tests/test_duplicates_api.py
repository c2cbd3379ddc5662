from okno.contacts.duplicates import duplicates_scan
from okno.contacts.models import DuplicatePair
from okno.contacts.tests.factories import make_contact
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def test_card_duplicates_lists_levels_scores_and_reasons(api):
    a = make_contact(first_name="Иван", last_name="Петров", company="Ромашка")
    b = make_contact(first_name="Ivan", last_name="Petrov", company="ООО Ромашка", phones=["+79161234567"])
    c = make_contact(first_name="Иван", last_name="Петров", phones=["8 916 123 45 67"])
    r = api.get(f"/api/v1/contacts/{b.pk}/duplicates")
    assert r.status_code == 200
    body = r.json()
    assert [(x["id"], x["level"]) for x in body] == [(c.pk, "certain"), (a.pk, "likely")]
    assert body[0]["reasons"][0] == "same phone +7 916 123-45-67"
    assert body[1]["reasons"] == ["same name, written in Latin letters, same company"]
    assert 0.75 <= body[1]["score"] < 0.9


def test_groups_api_and_dismiss(api):
    a = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    b = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    duplicates_scan()
    r = api.get("/api/v1/duplicate-groups")
    assert r.status_code == 200
    assert [[c["id"] for c in g["contacts"]] for g in r.json()] == [[a.pk, b.pk]]
    assert r.json()[0]["level"] == "certain"
    r = api.post("/api/v1/duplicate-groups/dismiss", {"ids": [a.pk, b.pk]})
    assert r.json() == {"dismissed": 1}
    assert DuplicatePair.objects.get().dismissed
    assert api.get("/api/v1/duplicate-groups").json() == []
    duplicates_scan(full=True)
    assert api.get("/api/v1/duplicate-groups").json() == []


def _two_departments():
    sales, other = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Опт")
    manager = UserFactory(role=User.Role.MANAGER, department=sales)
    stranger = UserFactory(role=User.Role.MANAGER, department=other)
    mine = make_contact(actor=manager, first_name="Иван", last_name="Петров", phones=["+79161234567"])
    mine2 = make_contact(actor=manager, first_name="Иван", last_name="Петров", emails=["i@p.ru"])
    theirs = make_contact(actor=stranger, first_name="Иван", last_name="Петров", phones=["+79161234567"],
                          emails=["i@p.ru"])
    duplicates_scan()
    return manager, mine, mine2, theirs


def test_manager_does_not_see_groups_with_another_departments_cards(db, api_as):
    # given duplicates spanning two departments
    manager, mine, mine2, theirs = _two_departments()
    assert DuplicatePair.objects.count() == 2
    # when the manager lists groups, then the pairs with the other department's card are left out
    assert api_as(manager).get("/api/v1/duplicate-groups").json() == []
    # and dismissing cannot touch pairs with a card the manager may not see
    assert api_as(manager).post("/api/v1/duplicate-groups/dismiss", {"ids": [mine.pk, theirs.pk]}).json() == {
        "dismissed": 0}
    assert mine2.pk


def test_duplicates_page_lists_groups_with_merge_link_and_dismiss(client, admin_user, db):
    a = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    b = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"])
    duplicates_scan()
    client.force_login(admin_user)
    r = client.get("/contacts/duplicates/")
    assert r.status_code == 200
    html = r.content.decode()
    assert f"/contacts/merge/?ids={a.pk},{b.pk}" in html
    # the page shows the reason translated
    assert f"/contacts/{a.pk}/" in html and "тот же телефон +7 916 123-45-67" in html
    r = client.post("/contacts/duplicates/dismiss/", {"ids": [a.pk, b.pk]})
    assert r.status_code == 302
    assert DuplicatePair.objects.get().dismissed
    assert f"/contacts/merge/?ids={a.pk},{b.pk}" not in client.get("/contacts/duplicates/").content.decode()


def test_duplicates_page_hides_other_departments(client, db):
    manager, mine, mine2, theirs = _two_departments()
    client.force_login(manager)
    html = client.get("/contacts/duplicates/").content.decode()
    assert f"/contacts/{theirs.pk}/" not in html
    assert f"/contacts/{mine.pk}/" not in html
