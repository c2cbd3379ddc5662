"""Round robin over a department with teams below it (issue 15, "Lead routing"): a form's leads
reach the managers of the sub-departments, not only the head who is the department's one direct
member; a channel can keep them to the department's own people."""

import pytest

from okno.contacts.tests.factories import make_contact
from okno.deals.services import lead_assignees_for_new_customers, lead_create
from okno.inbox.tests.factories import make_channel
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales():
    # given: a head alone in "Продажи", two teams of managers below it, one of them a level deeper
    sales = DepartmentFactory(name="Продажи")
    team_a = DepartmentFactory(name="Команда А", parent=sales)
    team_b = DepartmentFactory(name="Команда Б", parent=team_a)
    head = UserFactory(username="head", role=User.Role.HEAD, department=sales)
    managers = [UserFactory(username=f"a{i}", department=team_a) for i in range(2)]
    managers.append(UserFactory(username="b0", department=team_b))
    return {"dept": sales, "head": head, "managers": managers}


def _route(channel, n: int) -> list[str]:
    return [lead_create(contact=make_contact(first_name=f"Клиент{i}", last_name="Новый"), channel=channel)
            .assignee.username for i in range(n)]


def test_leads_go_round_robin_to_the_managers_of_sub_departments(sales):
    channel = make_channel(department=sales["dept"])
    # when
    names = _route(channel, 6)
    # then: every manager twice, the head never
    assert sorted(names) == ["a0", "a0", "a1", "a1", "b0", "b0"]


def test_the_batch_path_routes_the_same_way(sales):
    channel = make_channel(department=sales["dept"])
    turns = lead_assignees_for_new_customers(channel=channel, count=3)
    assert sorted(user.username for user, how in turns) == ["a0", "a1", "b0"]
    assert {how for _, how in turns} == {"round_robin"}


def test_the_head_takes_leads_when_no_manager_is_at_work(sales):
    User.objects.filter(role=User.Role.MANAGER).update(at_work=False)
    channel = make_channel(department=sales["dept"])
    assert _route(channel, 2) == ["head", "head"]
    assert [u.username for u, _ in lead_assignees_for_new_customers(channel=channel, count=1)] == ["head"]


def test_a_channel_can_keep_leads_to_the_department_s_own_people(sales):
    channel = make_channel(department=sales["dept"], settings={"route_subdepartments": False})
    # then: only the department's own member (its head, as nobody else works there)
    assert _route(channel, 2) == ["head", "head"]


def test_the_channel_form_saves_the_choice(client, admin_user, sales):
    client.force_login(admin_user)
    answer = client.post("/inbox/channels/new/", {"kind": "form", "name": "Сайт", "department": sales["dept"].pk,
                                                  "settings": ""})
    assert answer.status_code == 302
    from okno.inbox.models import Channel

    assert Channel.objects.get(name="Сайт").settings["route_subdepartments"] is False  # unticked box
