"""Calendar settings pages: a form per calendar, for administrators only."""

from okno.core.models import Calendar
from okno.people.models import User
from okno.people.tests.factories import UserFactory


def _form(**over):
    data = {"name": "Office", "timezone": "Europe/Moscow", "country": "RU",
            "hours_mon": "09:00-18:00", "hours_tue": "09:00-13:00,14:00-18:00", "hours_sat": "",
            "extra_days_off": "2026-12-30\n2026-12-29\n", "extra_working_days": ""}
    data.update(over)
    return data


def test_administrator_adds_a_calendar_through_the_form(client, admin_user):
    client.force_login(admin_user)
    # given the form shows a labelled input per weekday and a country select
    page = client.get("/settings/calendars/new/").content.decode()
    assert 'name="hours_mon"' in page and 'name="hours_sun"' in page and '<select name="country"' in page
    # when
    r = client.post("/settings/calendars/new/", _form(is_default="on"))
    # then
    assert r.status_code == 302
    cal = Calendar.objects.get()
    assert cal.hours == {"mon": "09:00-18:00", "tue": "09:00-13:00,14:00-18:00"}
    assert cal.extra_days_off == ["2026-12-29", "2026-12-30"] and cal.is_default
    assert "Office" in client.get("/settings/calendars/").content.decode()


def test_bad_values_come_back_on_their_fields(client, admin_user):
    client.force_login(admin_user)
    r = client.post("/settings/calendars/new/", _form(hours_tue="14:00-13:00", timezone="Nowhere/City",
                                                      extra_days_off="31.12.2026"))
    assert r.status_code == 400
    form = r.context["form"]
    assert {"hours_tue", "timezone", "extra_days_off"} <= set(form.errors)
    assert not Calendar.objects.exists()


def test_administrator_edits_a_calendar(client, admin_user):
    cal = Calendar.objects.create(name="Office", hours={"mon": "09:00-18:00"}, country="RU")
    client.force_login(admin_user)
    assert 'value="09:00-18:00"' in client.get(f"/settings/calendars/{cal.pk}/").content.decode()
    r = client.post(f"/settings/calendars/{cal.pk}/", _form(name="Shop", country="", hours_sat="10:00-16:00"))
    assert r.status_code == 302
    cal.refresh_from_db()
    assert (cal.name, cal.country, cal.hours["sat"]) == ("Shop", "", "10:00-16:00")


def test_a_manager_may_not_open_the_settings(client, db):
    client.force_login(UserFactory(role=User.Role.MANAGER))
    assert client.get("/settings/calendars/").status_code == 403
    assert client.post("/settings/calendars/new/", _form()).status_code == 403
    assert not Calendar.objects.exists()
