"""Team boards: a head publishes a figure per employee to the department; its members see it."""

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from okno.analytics.boards import board_figures, board_save, boards_for_user
from okno.analytics.models_boards import TeamBoard
from okno.analytics.tests.factories import make_call
from okno.core.errors import ApiError, FieldError
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def team(db):
    sales = DepartmentFactory(name="Продажи")
    north = DepartmentFactory(name="Север", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    return {
        "sales": sales, "north": north, "support": support,
        "head": UserFactory(role=User.Role.HEAD, department=sales),
        "anna": UserFactory(department=sales, first_name="Анна", last_name="А"),
        "boris": UserFactory(department=north, first_name="Борис", last_name="Б"),
        "olga": UserFactory(department=support, first_name="Ольга", last_name="О"),
        "admin": UserFactory(role=User.Role.ADMIN, department=None),
    }


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_head_publishes_a_board_with_the_form_and_members_see_it(team):
    # given calls of today: Anna missed two, Boris one, Olga (another department) three
    now = timezone.localtime()
    for who, missed in (("anna", 2), ("boris", 1), ("olga", 3)):
        for _ in range(missed):
            make_call(at=now.replace(hour=0, minute=5), employee=team[who], outcome="missed")
    # when the head sets up "missed calls today" for sales with the form
    response = signed_in(team["head"]).post("/reports/boards/new/", {
        "name": "Пропущенные сегодня", "department": team["sales"].pk, "metric": "calls:missed",
        "period": "today", "published": "on"})
    board = TeamBoard.objects.get()
    assert response.status_code == 302 and (board.kind, board.metric, board.created_by) == ("calls", "missed",
                                                                                          team["head"])
    # then Boris (a manager of a department below) sees everyone's misses of the tree, largest first
    page = signed_in(team["boris"]).get(f"/reports/boards/{board.pk}/")
    assert page.status_code == 200
    lines = [(line.label, line.value) for line in page.context["figures"]["lines"]]
    assert lines == [("Анна А", 2), ("Борис Б", 1)]
    assert page.context["figures"]["total"] == 3
    assert "analytics/live.js" in page.content.decode()
    # and the board is listed under Reports for him
    assert board.name in signed_in(team["boris"]).get("/reports/boards/").content.decode()


def test_a_board_is_not_shown_outside_its_department_nor_unpublished_to_members(team):
    board = board_save(actor=team["head"], department_id=team["sales"].pk, name="Пропущенные", kind="calls",
                       metric="missed", period="today", published=True)
    draft = board_save(actor=team["head"], department_id=team["sales"].pk, name="Черновик", kind="calls",
                       metric="calls", period="week", published=False)
    # then Olga of support gets a 404, Boris sees the published one only, the head and the admin both
    assert signed_in(team["olga"]).get(f"/reports/boards/{board.pk}/").status_code == 404
    assert list(boards_for_user(user=team["boris"])) == [board]
    assert set(boards_for_user(user=team["head"])) == {board, draft}
    assert set(boards_for_user(user=team["admin"])) == {board, draft}
    assert signed_in(team["boris"]).get(f"/reports/boards/{draft.pk}/").status_code == 404


def test_only_a_head_of_the_tree_or_an_administrator_sets_a_board_up(team):
    # when a manager opens the form, and a head tries another department
    assert signed_in(team["anna"]).get("/reports/boards/new/").status_code == 403
    with pytest.raises(ApiError) as refused:
        board_save(actor=team["head"], department_id=team["support"].pk, name="Чужая", kind="calls",
                   metric="missed", period="today", published=True)
    # then both are refused, naming the department
    assert refused.value.status == 403 and refused.value.errors[0]["field"] == "department"
    assert not TeamBoard.objects.exists()


def test_a_figure_the_report_has_not_is_refused_naming_the_field(team):
    with pytest.raises(FieldError) as bad:
        board_save(actor=team["admin"], department_id=team["sales"].pk, name=" ", kind="calls",
                   metric="rating_positive", period="decade", published=True)
    assert bad.value.by_field == {"name": "required", "metric": "not a figure of this report",
                                  "period": "unknown period"}
    response = signed_in(team["admin"]).post("/reports/boards/new/", {
        "name": "x", "department": team["sales"].pk, "metric": "calls:nonsense", "period": "today"})
    assert response.status_code == 400 and not TeamBoard.objects.exists()


def test_the_weeks_board_counts_from_monday(team):
    board = TeamBoard(department=team["sales"], name="Неделя", kind="calls", metric="calls", period="week")
    figures = board_figures(board=board, viewer=team["anna"], today=date(2026, 12, 3))
    assert (figures["period"].start, figures["period"].end) == (date(2026, 11, 30), date(2026, 12, 3))


def test_the_head_edits_and_removes_the_board(team):
    board = board_save(actor=team["head"], department_id=team["sales"].pk, name="Пропущенные", kind="calls",
                       metric="missed", period="today", published=True)
    client = signed_in(team["head"])
    client.post(f"/reports/boards/{board.pk}/edit/", {"name": "Не перезвонили", "department": team["sales"].pk,
                                                      "metric": "calls:missed_not_called_back", "period": "week"})
    board.refresh_from_db()
    assert (board.name, board.metric, board.period, board.published) == ("Не перезвонили", "missed_not_called_back",
                                                                         "week", False)
    assert signed_in(team["boris"]).post(f"/reports/boards/{board.pk}/remove").status_code in (403, 404)
    assert client.post(f"/reports/boards/{board.pk}/remove").status_code == 302
    assert not TeamBoard.objects.exists()
