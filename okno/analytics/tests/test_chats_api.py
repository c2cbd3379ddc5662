"""GET /api/v1/analytics/chats: the figures, grouping, comparison, who sees what, bad input."""

import pytest

from okno.analytics.tests.chats_factories import jivo_channel, make_chat
from okno.analytics.tests.factories import local
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

URL = "/api/v1/analytics/chats"
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def company(db):
    """Sales (with a desk) and support, each with its Jivo widget; chats in November and October."""
    sales = DepartmentFactory(name="Продажи")
    desk = DepartmentFactory(name="Сектор", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    head = UserFactory(role=User.Role.HEAD, department=sales)
    anna = UserFactory(department=desk, first_name="Анна", last_name="А")
    boris = UserFactory(department=sales, first_name="Борис", last_name="Б")
    vera = UserFactory(department=support, first_name="Вера", last_name="В")
    shop, help_ = jivo_channel(department=sales, name="Магазин"), jivo_channel(department=support, name="Помощь")
    make_chat(channel=shop, at=local("2026-11-02", 10), operator=anna, replies=(30, 60), rating="positive")
    make_chat(channel=shop, at=local("2026-11-02", 11), operator=anna, replies=(90,), rating="negative")
    make_chat(channel=shop, at=local("2026-11-03", 23, 30), operator=boris, replies=(20,))
    make_chat(channel=shop, at=local("2026-11-03", 12), replies=())  # the visitor left unanswered
    make_chat(channel=shop, at=local("2026-11-04", 3), replies=(), offline=True, finished_after=None)
    make_chat(channel=shop, at=local("2026-11-04", 4), replies=(), spam=True)
    make_chat(channel=help_, at=local("2026-11-05", 10), operator=vera, replies=(10,), rating="5")
    make_chat(channel=shop, at=local("2026-10-20", 10), operator=anna, replies=(120,))
    return {"sales": sales, "desk": desk, "support": support, "head": head, "anna": anna, "boris": boris,
            "vera": vera, "shop": shop, "help": help_}


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_per_operator_keyed_by_user_id_with_the_previous_period(api, company):
    # when an administrator asks for November by employee against the previous period
    body = api.get(URL, **NOV, group_by="employee", compare="previous").json()
    # then each operator is a row keyed by their user id; missed chats have no operator
    rows = by_key(body["rows"])
    anna, boris, vera = company["anna"], company["boris"], company["vera"]
    assert {k: (r["chats"], r["accepted"], r["missed"]) for k, r in rows.items()} == {
        anna.pk: (2, 2, 0), boris.pk: (1, 1, 0), vera.pk: (1, 1, 0), None: (2, 0, 2)}
    assert rows[None]["label"] == "Без сотрудника"
    assert (rows[None]["missed_offline"], rows[None]["missed_left"], rows[None]["spam"]) == (1, 1, 1)
    # and the response times: Anna's first responses 30 and 90 s, her waits 30, 60 and 90 s
    assert rows[anna.pk]["first_response_seconds_avg"] == 60.0
    assert rows[anna.pk]["response_seconds_avg"] == 60.0
    assert (rows[anna.pk]["rated"], rows[anna.pk]["rating_positive"], rows[anna.pk]["rating_negative"],
            rows[anna.pk]["rating_positive_share"]) == (2, 1, 1, 50.0)
    assert rows[vera.pk]["rating_positive"] == 1  # 5 of 5
    totals = body["totals"]
    assert (totals["chats"], totals["accepted"], totals["missed"], totals["spam"]) == (6, 4, 2, 1)
    # and the previous 30 days beside them
    assert (body["previous"]["from"], body["previous"]["to"]) == ("2026-10-02", "2026-10-31")
    assert by_key(body["previous"]["rows"])[anna.pk]["first_response_seconds_avg"] == 120.0


def test_by_day_department_and_channel(api, company):
    days = api.get(URL, **{"from": "2026-11-02", "to": "2026-11-05"}, group_by="day").json()["rows"]
    # the 23:30 Moscow chat is on the 3rd; every day is a row
    assert [(r["key"], r["chats"]) for r in days] == [("2026-11-02", 2), ("2026-11-03", 2), ("2026-11-04", 1),
                                                      ("2026-11-05", 1)]
    deps = by_key(api.get(URL, **NOV, group_by="department").json()["rows"])
    # a chat's department is its operator's, a missed chat's its channel's
    assert {k: r["chats"] for k, r in deps.items()} == {
        company["desk"].pk: 2, company["sales"].pk: 3, company["support"].pk: 1}
    channels = by_key(api.get(URL, **NOV, group_by="channel").json()["rows"])
    assert {r["label"]: r["chats"] for r in channels.values()} == {"Магазин": 5, "Помощь": 1}


def test_a_head_sees_their_tree_and_a_manager_their_own(api_as, company):
    head, anna = company["head"], company["anna"]
    rows = by_key(api_as(head).get(URL, **NOV).json()["rows"])
    assert set(rows) == {anna.pk, company["boris"].pk, None}
    r = api_as(head).get(URL, **NOV, department=str(company["support"].pk))
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "department"
    body = api_as(anna).get(URL, **NOV).json()
    assert [r["key"] for r in body["rows"]] == [anna.pk] and body["totals"]["chats"] == 2
    r = api_as(anna).get(URL, **NOV, employee=str(company["boris"].pk))
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "employee"


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
    ({**NOV, "group_by": "line"}, "group_by"),
    ({**NOV, "compare": "week"}, "compare"),
    ({**NOV, "outcome": "missed"}, "outcome"),
    ({**NOV, "channel": "x"}, "channel"),
    ({"from": "2026-13-01", "to": "2026-11-01"}, "from"),
    ({"to": "2026-11-01"}, "from"),
])
def test_bad_input_is_a_422_naming_the_field(api, company, params, field):
    r = api.get(URL, **params)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field
