"""People admin pages and the language switch, through Django's test client."""

import pytest

from okno.people.models import Department, User
from okno.people.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def admin(db):
    return UserFactory(username="boss", role=User.Role.ADMIN, department=None, language="en")


@pytest.fixture
def manager(db):
    return UserFactory(language="en")


@pytest.mark.parametrize("path", ["/people/", "/people/departments/new/", "/people/users/new/"])
def test_people_pages_are_for_administrators_only(client, manager, path):
    client.force_login(manager)
    assert client.get(path).status_code == 403
    assert client.post(path, {"name": "X", "username": "x", "password": "long-enough-1"}).status_code == 403
    assert not Department.objects.filter(name="X").exists() and not User.objects.filter(username="x").exists()


def test_admin_sees_the_department_tree_and_users(client, admin):
    # given a parent with a child department and a member
    parent = DepartmentFactory(name="Продажи")
    child = DepartmentFactory(name="Москва", parent=parent)
    UserFactory(first_name="Анна", last_name="Смирнова", department=child)
    client.force_login(admin)
    # when the admin opens the people page
    html = client.get("/people/").content.decode()
    # then the child is listed after its parent, indented, and the member with the department
    tree = html.split('id="department-tree"')[1].split("</ul>")[0]
    assert tree.index("Продажи") < tree.index("Москва")
    assert 'margin-left: 1rem' in tree
    assert "Анна Смирнова" in html


def test_admin_creates_departments_and_users(client, admin):
    client.force_login(admin)
    # when the admin creates a department under another, then a user in it
    client.post("/people/departments/new/", {"name": "Продажи", "parent": ""})
    sales = Department.objects.get(name="Продажи")
    r = client.post("/people/departments/new/", {"name": "Москва", "parent": sales.pk})
    assert r.status_code == 302
    moscow = Department.objects.get(name="Москва")
    assert moscow.parent_id == sales.pk
    r = client.post("/people/users/new/", {"username": "anna", "password": "long-enough-1", "first_name": "Анна",
                                           "last_name": "Смирнова", "role": "head", "department": moscow.pk})
    # then the user exists with that role and department, and can log in
    assert r.status_code == 302
    anna = User.objects.get(username="anna")
    assert (anna.role, anna.department_id) == ("head", moscow.pk)
    assert client.login(username="anna", password="long-enough-1")


def test_user_form_shows_service_errors_beside_fields(client, admin):
    client.force_login(admin)
    r = client.post("/people/users/new/", {"username": "boss", "password": "short", "role": "manager"})
    html = r.content.decode()
    assert r.status_code == 400
    assert "this username is taken" in html.split('name="username"')[1].split("</div>")[0]
    assert "This password is too short" in html.split('name="password"')[1].split("</div>")[0]
    assert User.objects.count() == 1


def test_admin_changes_role_department_and_blocks_a_user(client, admin, manager):
    other = DepartmentFactory()
    client.force_login(admin)
    r = client.post(f"/people/users/{manager.pk}/", {"first_name": manager.first_name, "last_name": "Новая",
                                                     "role": "head", "department": other.pk})
    assert r.status_code == 302
    manager.refresh_from_db()
    assert (manager.role, manager.department_id, manager.is_active, manager.last_name) == (
        "head", other.pk, False, "Новая")
    assert "blocked" in client.get("/people/").content.decode()


def test_admin_cannot_lock_themself_out_or_loop_the_tree(client, admin):
    parent = DepartmentFactory()
    child = DepartmentFactory(parent=parent)
    client.force_login(admin)
    r = client.post(f"/people/users/{admin.pk}/", {"role": "manager", "is_active": "on"})
    assert r.status_code == 400
    admin.refresh_from_db()
    assert admin.role == "admin"
    r = client.post(f"/people/departments/{parent.pk}/", {"name": parent.name, "parent": child.pk})
    assert r.status_code == 400 and "a department cannot be its own parent" in r.content.decode()
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_language_switch_is_saved_on_the_user_and_changes_the_text(client, manager):
    client.force_login(manager)
    assert "Contacts" in client.get("/contacts/").content.decode()
    # when the user switches to Russian
    r = client.post("/people/language/", {"language": "ru", "next": "/contacts/"})
    # then it is remembered on the user and the page speaks Russian
    assert r.status_code == 302 and r.url == "/contacts/"
    manager.refresh_from_db()
    assert manager.language == "ru"
    html = client.get("/contacts/").content.decode()
    assert "Контакты" in html and "Новый контакт" in html and "New contact" not in html
    # and back to English
    client.post("/people/language/", {"language": "en", "next": "/contacts/"})
    assert "New contact" in client.get("/contacts/").content.decode()
    # an outside `next` or an unknown language changes nothing
    r = client.post("/people/language/", {"language": "xx", "next": "https://evil.example/"})
    assert r.url == "/"
    manager.refresh_from_db()
    assert manager.language == "en"


def test_language_switch_works_before_login(client, db):
    assert "Войти" in client.get("/login/").content.decode()  # Russian by default
    client.post("/people/language/", {"language": "en", "next": "/login/"})
    assert "Log in" in client.get("/login/").content.decode()


def test_presence_switch_takes_a_manager_out_of_routing_and_back(db, client):
    from okno.people.tests.factories import UserFactory

    manager = UserFactory()
    client.force_login(manager)
    page = client.get("/contacts/")
    assert 'name="at_work" value="0"' in page.content.decode()
    client.post("/people/presence/", {"at_work": "0", "next": "/contacts/"})
    manager.refresh_from_db()
    assert manager.at_work is False
    assert 'name="at_work" value="1"' in client.get("/contacts/").content.decode()
    client.post("/people/presence/", {"at_work": "1"})
    manager.refresh_from_db()
    assert manager.at_work is True
