"""GET /api/v1/analytics/calls: grouping, comparison, who sees what, bad input; PUT settings."""

import json

import pytest
from django.test import Client

from okno.analytics.models import AnalyticsSettings, DepartmentThreshold
from okno.analytics.tests.factories import local, make_call
from okno.contacts.tests.factories import make_contact
from okno.people.models import ApiToken, User
from okno.people.tests.factories import DepartmentFactory, UserFactory

URL = "/api/v1/analytics/calls"


@pytest.fixture
def company(db):
    """Sales with two managers and a head; support with one manager; calls in November and October."""
    sales = DepartmentFactory(name="Продажи")
    desk = DepartmentFactory(name="Сектор", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    head = UserFactory(role=User.Role.HEAD, department=sales, first_name="Глава", last_name="Продаж")
    anna = UserFactory(department=desk, first_name="Анна", last_name="А")
    boris = UserFactory(department=sales, first_name="Борис", last_name="Б")
    vera = UserFactory(department=support, first_name="Вера", last_name="В")
    for day, who in (("2026-11-02", anna), ("2026-11-02", anna), ("2026-11-03", boris), ("2026-11-03", vera),
                     ("2026-10-20", anna)):
        make_call(at=local(day, 10), employee=who)
    make_call(at=local("2026-11-03", 23, 30), employee=boris, outcome="missed")  # late evening, Moscow
    return {"sales": sales, "desk": desk, "support": support, "head": head, "anna": anna, "boris": boris,
            "vera": vera}


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_grouped_by_employee_keyed_by_user_id_with_the_previous_period(api, company):
    # when an administrator asks for 1-30 November against the previous period
    body = api.get(URL, **{"from": "2026-11-01", "to": "2026-11-30", "group_by": "employee",
                           "compare": "previous"}).json()
    # then each employee is a row keyed by their id
    rows = by_key(body["rows"])
    anna, boris, vera = company["anna"], company["boris"], company["vera"]
    assert {k: r["calls"] for k, r in rows.items()} == {anna.pk: 2, boris.pk: 2, vera.pk: 1}
    assert rows[boris.pk]["missed"] == 1
    assert rows[anna.pk]["label"] == anna.display_name
    assert body["totals"]["calls"] == 5
    # and the previous 30 days (2-31 October) beside them
    assert (body["previous"]["from"], body["previous"]["to"]) == ("2026-10-02", "2026-10-31")
    assert by_key(body["previous"]["rows"])[anna.pk]["calls"] == 1
    assert body["previous"]["totals"]["calls"] == 1


def test_days_are_whole_days_in_the_company_time_zone(api, company):
    # when grouped by day over 2-3 November
    rows = api.get(URL, **{"from": "2026-11-02", "to": "2026-11-03", "group_by": "day"}).json()["rows"]
    # then the 23:30 Moscow call (20:30 UTC) is on the 3rd, and every day is a row
    assert [(r["key"], r["calls"]) for r in rows] == [("2026-11-02", 2), ("2026-11-03", 3)]


def test_department_line_and_client_groupings_and_filters(api, company):
    # given a call of a card on another line
    contact = make_contact(first_name="Ольга", last_name="Клиентова")
    make_call(at=local("2026-11-05", 10), employee=company["vera"], contact=contact, line="+74952220000")
    params = {"from": "2026-11-01", "to": "2026-11-30"}
    # then
    deps = by_key(api.get(URL, **params, group_by="department").json()["rows"])
    assert deps[company["support"].pk]["calls"] == 2
    lines = by_key(api.get(URL, **params, group_by="line").json()["rows"])
    assert lines["+74952220000"]["calls"] == 1
    clients = by_key(api.get(URL, **params, group_by="client").json()["rows"])
    assert clients[contact.pk]["label"] == str(contact)
    assert clients[None]["calls"] == 5
    only = api.get(URL, **params, group_by="employee", department=company["sales"].pk).json()
    assert only["totals"]["calls"] == 2  # the department's own calls, not its desk's
    assert api.get(URL, **params, employee=company["anna"].pk).json()["totals"]["calls"] == 2
    assert api.get(URL, **params, direction="out").json()["totals"]["calls"] == 0
    # and the same period a year ago
    assert api.get(URL, **params, compare="year").json()["previous"]["from"] == "2025-11-01"


def test_a_head_sees_their_tree_and_a_manager_only_themselves(api_as, company):
    params = {"from": "2026-11-01", "to": "2026-11-30", "group_by": "employee"}
    # when the head of sales asks
    head = api_as(company["head"]).get(URL, **params).json()
    # then sales and its desk, not support
    assert set(by_key(head["rows"])) == {company["anna"].pk, company["boris"].pk}
    # when a manager asks
    anna = api_as(company["anna"]).get(URL, **params).json()
    # then only her own calls
    assert set(by_key(anna["rows"])) == {company["anna"].pk}
    assert anna["totals"]["calls"] == 2


def test_a_filter_outside_what_one_may_see_is_refused(api_as, company):
    params = {"from": "2026-11-01", "to": "2026-11-30"}
    # a head asking for another department, a manager for a colleague
    refused = api_as(company["head"]).get(URL, **params, department=company["support"].pk)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "department"
    refused = api_as(company["anna"]).get(URL, **params, employee=company["boris"].pk)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "employee"
    # and without a token nothing
    assert api_as(None).get(URL, **params).status_code == 401


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
    ({"from": "2026-11-01", "to": "2026-11-31"}, "to"),
    ({"to": "2026-11-01"}, "from"),
    ({"from": "2026-11-01", "to": "2026-11-02", "group_by": "weekday"}, "group_by"),
    ({"from": "2026-11-01", "to": "2026-11-02", "compare": "last"}, "compare"),
    ({"from": "2026-11-01", "to": "2026-11-02", "direction": "sideways"}, "direction"),
    ({"from": "2026-11-01", "to": "2026-11-02", "employee": "x"}, "employee"),
    ({"from": "2026-11-01", "to": "2026-11-02", "department": "99999999999999999999999"}, "department"),
    ({"from": "2026-11-01", "to": "2026-11-02", "outcome": "sideways"}, "outcome"),
    ({"from": "2026-11-01", "to": "2026-11-02", "tag": "999999"}, "tag"),
    ({"from": "2026-11-01", "to": "2026-11-02", "tag": "red"}, "tag"),
    ({"from": "2026-11-01", "to": "2026-11-02", "colour": "red"}, "colour"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ({"from": "2026-11-01", "to": "2026-11-02", "line": "+7495\x00"}, "line"),
])
def test_bad_input_is_a_422_naming_the_field(api, params, field):
    response = api.get(URL, **params)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field


def _put(user, body):
    return Client().put("/api/v1/analytics/settings", data=json.dumps(body), content_type="application/json",
                        headers={"Authorization": f"Bearer {ApiToken.issue(user)}"})


def test_settings_are_put_by_an_administrator(admin_user, company):
    # when an administrator sets the threshold, the window and support's own threshold
    response = _put(admin_user, {"success_threshold_seconds": 15, "callback_window_minutes": 45,
                                 "departments": [{"department_id": company["support"].pk,
                                                  "success_threshold_seconds": 40}]})
    # then they are stored
    assert response.status_code == 200, response.content
    conf = AnalyticsSettings.objects.get(pk=1)
    assert (conf.success_threshold_seconds, conf.callback_window_minutes) == (15, 45)
    assert DepartmentThreshold.objects.get(department=company["support"]).success_threshold_seconds == 40
    # and a null returns the department to the company's
    _put(admin_user, {"departments": [{"department_id": company["support"].pk, "success_threshold_seconds": None}]})
    assert not DepartmentThreshold.objects.exists()
    assert AnalyticsSettings.objects.get(pk=1).success_threshold_seconds == 15


def test_settings_refuse_a_negative_threshold_and_a_manager(admin_user, company):
    response = _put(admin_user, {"success_threshold_seconds": -1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "success_threshold_seconds"
    response = _put(admin_user, {"departments": [{"department_id": 999999, "success_threshold_seconds": 5}]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "departments.999999"
    assert _put(company["anna"], {"success_threshold_seconds": 5}).status_code == 403
    assert not AnalyticsSettings.objects.exists()
