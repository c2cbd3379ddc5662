"""The supervisor board: who sees it, what it counts, and its live pushes."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.push.models import Push
from okno.work.board_live import PUSH_KIND
from okno.work.models import WorkItem
from okno.work.states import agent_state_set
from okno.work.tests.factories import make_item


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


@pytest.fixture
def head(sales):
    return UserFactory(department=sales, role=User.Role.HEAD, first_name="Ирина", last_name="Главная")


@pytest.fixture
def anna(sales):
    return UserFactory(department=sales, first_name="Анна", last_name="Звонкова")


def _worked_one_item(user, sales):
    """Anna: 3 minutes on a call and 1 of wrap-up on one item today, then closed it."""
    t0 = timezone.now() - timedelta(minutes=10)
    item = make_item(assignee=user, department=sales)
    agent_state_set(user=user, state="on_call", item=item, at=t0)
    agent_state_set(user=user, state="wrap_up", item=item, at=t0 + timedelta(minutes=3))
    agent_state_set(user=user, state="idle", at=t0 + timedelta(minutes=4))
    WorkItem.objects.filter(pk=item.pk).update(status="done", closed_at=t0 + timedelta(minutes=4))
    return item


def test_api_counts_states_done_handle_time_and_the_queue(head, anna, sales, api_as):
    # given Anna worked one item (4 minutes) and is idle; Boris is on a break; a queue waits
    _worked_one_item(anna, sales)
    boris = UserFactory(department=sales, first_name="Борис")
    agent_state_set(user=boris, state="break")
    old = make_item(kind="callback", department=sales, due_in_minutes=-30)
    make_item(kind="callback", department=sales, due_in_minutes=-5)
    make_item(kind="new_lead", department=sales, due_in_minutes=-1)
    make_item(kind="follow_up", department=sales, due_in_minutes=60)
    make_item(kind="callback", department=DepartmentFactory(name="Чужой"), due_in_minutes=-50)
    # when the head reads the board
    answer = api_as(head).get("/api/v1/work/board")
    # then each manager's state and figures, the department's queue per kind and its oldest item
    assert answer.status_code == 200, answer.content
    body = answer.json()
    managers = {m["user_id"]: m for m in body["managers"]}
    assert managers[anna.pk]["state"] == "idle" and managers[anna.pk]["done_today"] == 1
    assert managers[anna.pk]["handled_items"] == 1 and managers[anna.pk]["aht_seconds"] == pytest.approx(240, abs=1)
    assert managers[boris.pk]["state"] == "break" and managers[boris.pk]["aht_seconds"] is None
    assert managers[head.pk]["state"] == "offline"
    assert body["queue"] == [{"kind": "callback", "due": 2}, {"kind": "new_lead", "due": 1}]
    assert body["waiting_later"] == 1
    assert body["oldest"]["id"] == old.pk
    assert body["by_state"] == {"idle": 1, "break": 1, "offline": 1}


def test_managers_are_refused_and_a_head_sees_only_their_subtree(anna, head, sales, api_as, client):
    other = DepartmentFactory(name="Склад")
    assert api_as(anna).get("/api/v1/work/board").status_code == 403
    assert api_as(head).get(f"/api/v1/work/board?department={other.pk}").status_code == 404
    client.force_login(anna)
    assert client.get("/work/board/").status_code == 403


def test_the_page_shows_the_board_and_its_nav_item(head, anna, sales, client):
    _worked_one_item(anna, sales)
    make_item(kind="callback", department=sales, due_in_minutes=-3)
    client.force_login(head)
    with translation.override("en"):
        page = client.get("/work/board/")
        counters = client.get("/work/board/?part=counters")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Табло руководителя" in html and 'href="/work/board/"' in html
    assert f'id="agent-{anna.pk}"' in html and "4:00" in html and "Звонкова" in html
    assert counters.status_code == 200 and 'id="board-counters"' in counters.content.decode()
    assert "<html" not in counters.content.decode()


def test_the_board_nav_item_is_for_heads_only(anna, client):
    client.force_login(anna)
    assert 'href="/work/board/"' not in client.get("/work/").content.decode()


def test_a_state_change_is_pushed_to_the_departments_watchers(head, anna, sales, django_capture_on_commit_callbacks):
    # given an administrator, the head, and a head of another department
    admin = UserFactory(role=User.Role.ADMIN)
    stranger = UserFactory(department=DepartmentFactory(name="Склад"), role=User.Role.HEAD)
    # when Anna goes on a break (and the change commits)
    with django_capture_on_commit_callbacks(execute=True):
        agent_state_set(user=anna, state="break")
    # then the head and the administrator get the change; Anna and the other head do not
    pushes = Push.objects.filter(kind=PUSH_KIND)
    assert set(pushes.values_list("user_id", flat=True)) == {head.pk, admin.pk}
    assert pushes.first().payload["user_id"] == anna.pk and pushes.first().payload["state"] == "break"
    assert stranger.pk not in set(pushes.values_list("user_id", flat=True))
