"""A department's queue rules: read by its people, changed by its head or an administrator."""

import pytest

from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import DepartmentWorkSettings


@pytest.fixture
def sales(db):
    return DepartmentFactory(name="Продажи")


def test_defaults_until_someone_sets_them(sales, api_as):
    manager = UserFactory(department=sales)
    body = api_as(manager).get(f"/api/v1/departments/{sales.pk}/work-settings").json()
    assert body["priorities"] == {"callback": 1, "new_lead": 2, "task": 3, "follow_up": 4,
                                  "payment_control": 5, "reactivation": 6}
    assert (body["daily_capacity"], body["max_break_minutes"], body["dormant_after_days"],
            body["retry_minutes"]) == (40, 15, 90, 60)


def test_the_head_changes_them_and_fields_left_out_keep_their_value(sales, api_as):
    head = UserFactory(role="head", department=sales)
    api = api_as(head)
    first = api.client.put(f"/api/v1/departments/{sales.pk}/work-settings", headers=api.headers,
                           content_type="application/json",
                           data={"priorities": {"new_lead": 1, "callback": 2}, "daily_capacity": 25})
    second = api.client.put(f"/api/v1/departments/{sales.pk}/work-settings", headers=api.headers,
                            content_type="application/json", data={"max_break_minutes": 5})
    assert first.status_code == 200 and second.status_code == 200
    row = DepartmentWorkSettings.objects.get(department=sales)
    assert row.rank()["new_lead"] == 1 and row.rank()["callback"] == 2 and row.rank()["reactivation"] == 6
    assert (row.daily_capacity, row.max_break_minutes) == (25, 5)


def _put(api, department, body):
    return api.client.put(f"/api/v1/departments/{department.pk}/work-settings", headers=api.headers,
                          content_type="application/json", data=body)


def test_managers_and_other_heads_may_not_change_them_and_strangers_not_read(sales, api_as, admin_user):
    manager = UserFactory(department=sales)
    other_head = UserFactory(role="head", department=DepartmentFactory())
    assert _put(api_as(manager), sales, {"daily_capacity": 1}).status_code == 403
    assert _put(api_as(other_head), sales, {"daily_capacity": 1}).status_code == 403
    assert api_as(other_head).get(f"/api/v1/departments/{sales.pk}/work-settings").status_code == 403
    assert _put(api_as(admin_user), sales, {"daily_capacity": 1}).status_code == 200
    assert DepartmentWorkSettings.objects.get(department=sales).daily_capacity == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"daily_capacity": -1}, "daily_capacity"),
    ({"daily_capacity": "40"}, "daily_capacity"),
    ({"max_break_minutes": 100000}, "max_break_minutes"),
    ({"dormant_after_days": 0}, "dormant_after_days"),
    ({"retry_minutes": True}, "retry_minutes"),
    ({"priorities": {"bogus": 1}}, "priorities.bogus"),
    ({"priorities": {"callback": 0}}, "priorities.callback"),
    ({"priorities": [1, 2]}, "priorities"),
    ({"colour": "red"}, "colour"),
])
def test_bad_settings_are_400_naming_the_field_and_nothing_changes(sales, api_as, body, field):
    head = UserFactory(role="head", department=sales)
    DepartmentWorkSettings.objects.create(department=sales, daily_capacity=33)
    response = _put(api_as(head), sales, body)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}
    assert DepartmentWorkSettings.objects.get(department=sales).daily_capacity == 33


def test_a_body_that_is_not_an_object_is_400(sales, api_as):
    head = UserFactory(role="head", department=sales)
    response = _put(api_as(head), sales, [1])
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "body"
