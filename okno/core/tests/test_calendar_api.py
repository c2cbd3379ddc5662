"""/api/v1/calendars: administrators keep calendars; everyone can read them and check a due time."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from okno.core import calendar as calendar_module
from okno.core.calendar import built_in_calendar, work_calendar_for
from okno.core.models import Calendar
from okno.people.models import User
from okno.people.tests.factories import UserFactory

MSK = ZoneInfo("Europe/Moscow")
WEEKDAYS = {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(autouse=True)
def _forget_default():
    calendar_module.invalidate_cache()
    yield
    calendar_module.invalidate_cache()


def test_administrator_creates_a_calendar(api):
    # when
    r = api.post("/api/v1/calendars", {"name": "Office", "timezone": "Asia/Almaty", "country": "kz",
                                       "hours": {**WEEKDAYS, "sat": "10:00-13:00, 14:00-16:00"},
                                       "extra_days_off": ["2026-12-30"], "is_default": True})
    # then
    assert r.status_code == 201, r.content
    body = r.json()
    cal = Calendar.objects.get(pk=body["id"])
    assert (cal.name, cal.timezone, cal.country, cal.is_default) == ("Office", "Asia/Almaty", "KZ", True)
    assert cal.hours["sat"] == "10:00-13:00,14:00-16:00" and cal.extra_days_off == ["2026-12-30"]
    assert body["hours"] == cal.hours
    assert api.get(f"/api/v1/calendars/{cal.pk}").json()["name"] == "Office"
    assert [c["id"] for c in api.get("/api/v1/calendars").json()] == [cal.pk]


def test_only_the_minimum_is_required(api):
    r = api.post("/api/v1/calendars", {"name": "Shop", "hours": {"mon": "09:00-18:00"}})
    assert r.status_code == 201, r.content
    assert (r.json()["timezone"], r.json()["country"], r.json()["is_default"]) == ("Europe/Moscow", "RU", False)


@pytest.mark.parametrize(("body", "field"), [
    ({"hours": {"mon": "09:00-13:00,12:00-18:00"}}, "hours.mon"),  # overlapping
    ({"hours": {"mon": "18:00-09:00"}}, "hours.mon"),
    ({"hours": {"tue": "9-18"}}, "hours.tue"),
    ({"hours": {"mon": "09:00-25:00"}}, "hours.mon"),
    ({"hours": {"monday": "09:00-18:00"}}, "hours"),
    ({"hours": {}}, "hours"),
    ({"hours": "09:00-18:00"}, "hours"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"country": "XX"}, "country"),
    ({"extra_days_off": ["2026-01-01", "2026-02-01", "31.12.2026"]}, "extra_days_off[2]"),
    ({"extra_days_off": ["2026-01-01"], "extra_working_days": ["2026-01-01"]}, "extra_working_days"),
    ({"name": ""}, "name"),
])
def test_bad_calendar_is_a_400_naming_the_field(api, body, field):
    # when
    r = api.post("/api/v1/calendars", {"name": "Office", "hours": WEEKDAYS, **body})
    # then
    assert r.status_code == 400, r.content
    assert field in {e["field"] for e in r.json()["errors"]}
    assert not Calendar.objects.exists()


def test_a_manager_may_read_but_not_change_calendars(api, api_as):
    # given
    cal_id = api.post("/api/v1/calendars", {"name": "Office", "hours": WEEKDAYS}).json()["id"]
    manager = api_as(UserFactory(role=User.Role.MANAGER))
    # then
    assert manager.get("/api/v1/calendars").status_code == 200
    assert manager.post("/api/v1/calendars", {"name": "Mine", "hours": WEEKDAYS}).status_code == 403
    assert manager.patch(f"/api/v1/calendars/{cal_id}", {"name": "Mine"}).status_code == 403
    assert Calendar.objects.get().name == "Office"


def test_patch_changes_only_what_is_given_and_moves_the_default(api):
    # given
    first = api.post("/api/v1/calendars", {"name": "A", "hours": WEEKDAYS, "is_default": True}).json()["id"]
    second = api.post("/api/v1/calendars", {"name": "B", "hours": WEEKDAYS}).json()["id"]
    # when
    r = api.patch(f"/api/v1/calendars/{second}", {"is_default": True, "hours": {"mon": "10:00-19:00"}})
    # then
    assert r.status_code == 200, r.content
    assert Calendar.objects.get(pk=second).is_default and not Calendar.objects.get(pk=first).is_default
    assert Calendar.objects.get(pk=second).hours == {"mon": "10:00-19:00"}
    assert Calendar.objects.get(pk=second).name == "B"
    assert api.patch(f"/api/v1/calendars/{second}", {"is_default": False}).status_code == 400
    assert api.patch(f"/api/v1/calendars/{second}", {"hours": {"mon": "x"}}).status_code == 400
    assert api.patch("/api/v1/calendars/999999", {"name": "C"}).status_code == 404


def test_due_check(api):
    cal_id = api.post("/api/v1/calendars", {"name": "Office", "hours": WEEKDAYS, "country": "RU"}).json()["id"]
    # a deal arriving Friday at 17:50 is due Monday at 09:20
    r = api.get(f"/api/v1/calendars/{cal_id}/due", start="2025-11-28T17:50:00+03:00", within="PT30M")
    assert r.status_code == 200, r.content
    assert datetime.fromisoformat(r.json()["due_at"]) == datetime(2025, 12, 1, 9, 20, tzinfo=MSK)
    r = api.get(f"/api/v1/calendars/{cal_id}/due", start="2025-11-28T17:50:00+03:00", within="PT30M", time="wall")
    assert datetime.fromisoformat(r.json()["due_at"]) == datetime(2025, 11, 28, 18, 20, tzinfo=MSK)
    r = api.get(f"/api/v1/calendars/{cal_id}/due", start="2025-12-31T10:00:00+03:00", until="end_of_working_day")
    assert datetime.fromisoformat(r.json()["due_at"]) == datetime(2026, 1, 12, 18, 0, tzinfo=MSK)


@pytest.mark.parametrize(("params", "field"), [
    ({"start": "2025-11-28T17:50:00+03:00", "within": "30 minutes"}, "within"),
    ({"start": "2025-11-28T17:50:00+03:00", "within": "P1M"}, "within"),
    ({"start": "Friday", "within": "PT30M"}, "start"),
    ({"start": "2025-11-28T17:50:00+03:00"}, "within"),
])
def test_due_check_bad_input_names_the_field(api, params, field):
    cal_id = api.post("/api/v1/calendars", {"name": "Office", "hours": WEEKDAYS}).json()["id"]
    r = api.get(f"/api/v1/calendars/{cal_id}/due", **params)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == field


def test_which_calendar_applies(db):
    # given no calendar at all: the built-in Mon-Fri 09:00-18:00 Moscow with Russia's holidays
    assert work_calendar_for(None, None) == built_in_calendar()
    assert not work_calendar_for().is_working_day(date(2026, 1, 5))
    # given a company default
    Calendar.objects.create(name="Company", hours={"sat": "10:00-16:00"}, country="", is_default=True)
    calendar_module.invalidate_cache()
    assert work_calendar_for(None).is_working_day(date(2026, 11, 28))  # a Saturday
    # the first calendar given wins
    own = Calendar.objects.create(name="Own", hours={"sun": "10:00-16:00"}, country="")
    assert work_calendar_for(None, own).is_working_day(date(2026, 11, 29))  # a Sunday
    assert work_calendar_for(own.pk).is_working_day(date(2026, 11, 29))


def test_an_edited_row_is_never_served_stale(db):
    cal = Calendar.objects.create(name="Own", hours=WEEKDAYS, country="")
    start = datetime(2026, 11, 27, 17, 50, tzinfo=MSK)  # a Friday
    assert work_calendar_for(cal).add(start, timedelta(minutes=30)) == datetime(2026, 11, 30, 9, 20, tzinfo=MSK)
    cal.hours = {**WEEKDAYS, "sat": "10:00-16:00"}
    cal.save()
    assert work_calendar_for(cal).add(start, timedelta(minutes=30)) == datetime(2026, 11, 28, 10, 20, tzinfo=MSK)
