"""A department names its business calendar: in the form, in the API, refused when unknown."""

import pytest
from django.test import Client

from okno.core.models import Calendar
from okno.people.models import Department
from okno.people.tests.factories import UserFactory


@pytest.fixture
def admin(db):
    return UserFactory(role="admin")


def test_the_department_form_sets_and_clears_the_calendar(admin):
    # given a calendar and a department
    cal = Calendar.objects.create(name="Москва 9–18", hours={"mon": "09:00-18:00"})
    client = Client()
    client.force_login(admin)
    # when an administrator creates the department with it
    r = client.post("/people/departments/new/", {"name": "Продажи", "parent": "", "calendar": str(cal.pk)})
    # then it counts on that calendar
    assert r.status_code == 302
    dep = Department.objects.get(name="Продажи")
    assert dep.calendar_id == cal.pk
    # and the edit form clears it
    client.post(f"/people/departments/{dep.pk}/", {"name": "Продажи", "parent": "", "calendar": ""})
    dep.refresh_from_db()
    assert dep.calendar_id is None


def test_an_unknown_calendar_is_refused_naming_the_field(admin, api_as):
    api = api_as(admin)
    r = api.post("/api/v1/departments", {"name": "Склад", "calendar_id": 999999})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"field": "calendar_id", "reason": "no such calendar"}]
    assert not Department.objects.filter(name="Склад").exists()
