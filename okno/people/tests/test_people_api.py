from django.core.management import call_command

from okno.people.models import ApiToken, Department, User
from okno.people.tests.factories import UserFactory


def test_admin_creates_departments_and_users(api):
    root = api.post("/api/v1/departments", {"name": "Продажи"})
    assert root.status_code == 201
    child = api.post("/api/v1/departments", {"name": "Опт", "parent_id": root.json()["id"]})
    assert child.json()["parent_id"] == root.json()["id"]
    r = api.post("/api/v1/users", {"username": "olga", "password": "long-enough-1", "first_name": "Ольга",
                                   "last_name": "Смирнова", "department_id": child.json()["id"], "role": "head"})
    assert r.status_code == 201, r.content
    user = User.objects.get(username="olga")
    assert user.check_password("long-enough-1") and user.role == "head"
    assert user.department == Department.objects.get(name="Опт")


def test_bad_user_input_names_fields(api):
    r = api.post("/api/v1/users", {"username": "x", "password": "1", "role": "boss", "department_id": 999})
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {"password", "role", "department_id"}


def test_manager_may_not_manage_people(db, api_as):
    r = api_as(UserFactory()).post("/api/v1/departments", {"name": "X"})
    assert r.status_code == 403
    assert not Department.objects.filter(name="X").exists()


def test_issue_api_token_prints_a_working_token(db, client, capsys):
    UserFactory(username="robot")
    call_command("issue_api_token", "robot")
    token = capsys.readouterr().out.strip()
    assert ApiToken.objects.filter(key_hash=ApiToken.hash(token)).exists()
    assert client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/contacts", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_createsuperuser_noinput_makes_an_administrator(db, monkeypatch, api_as):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "very-secret-1")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")
    call_command("createsuperuser", "--noinput", "--username", "boss")
    boss = User.objects.get(username="boss")
    assert boss.is_admin and boss.check_password("very-secret-1")
    assert api_as(boss).post("/api/v1/departments", {"name": "Склад"}).status_code == 201


def test_users_and_departments_answer_a_manager_only_names_of_their_own_department(db, api, api_as):
    # given two departments, a manager in each, and an administrator
    from okno.people.tests.factories import DepartmentFactory

    sales, support = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Поддержка")
    anna = UserFactory(username="anna", department=sales, first_name="Анна", last_name="Смирнова")
    colleague = UserFactory(username="oleg", department=sales, role=User.Role.OPERATOR)
    UserFactory(username="gone", department=sales, is_active=False)
    stranger = UserFactory(username="vera", department=support)
    # when the manager asks for users
    r = api_as(anna).get("/api/v1/users")
    # then only her department's active people, by name: no usernames, no roles
    assert r.status_code == 200
    assert {u["id"] for u in r.json()} == {anna.pk, colleague.pk}
    assert set(r.json()[0]) == {"id", "first_name", "last_name", "department_id"}
    assert "vera" not in r.content.decode() and "oleg" not in r.content.decode()
    # and only her own department
    assert [d["id"] for d in api_as(anna).get("/api/v1/departments").json()] == [sales.pk]
    # while the administrator keeps the full answer
    everyone = api.get("/api/v1/users").json()
    assert {"anna", "oleg", "vera"} <= {u["username"] for u in everyone}
    assert {u["role"] for u in everyone} >= {"manager", "operator"}
    assert {d["id"] for d in api.get("/api/v1/departments").json()} >= {sales.pk, support.pk}
    assert stranger.pk


def test_a_head_sees_their_subtree_and_a_person_without_department_only_themself(db, api_as):
    from okno.people.tests.factories import DepartmentFactory

    sales = DepartmentFactory(name="Продажи")
    moscow = DepartmentFactory(name="Москва", parent=sales)
    other = DepartmentFactory(name="Склад")
    head = UserFactory(department=sales, role=User.Role.HEAD)
    below = UserFactory(department=moscow)
    UserFactory(department=other)
    assert {u["id"] for u in api_as(head).get("/api/v1/users").json()} == {head.pk, below.pk}
    assert {d["id"] for d in api_as(head).get("/api/v1/departments").json()} == {sales.pk, moscow.pk}
    loner = UserFactory(department=None)
    assert [u["id"] for u in api_as(loner).get("/api/v1/users").json()] == [loner.pk]
    assert api_as(loner).get("/api/v1/departments").json() == []
