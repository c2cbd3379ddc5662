"""Business hours: a callback deadline counts only the time the line is staffed."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okno.core.business_hours import BadBusinessHours, business_hours_parse

MSK = ZoneInfo("Europe/Moscow")
WEEKDAYS = {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = business_hours_parse({"timezone": "Europe/Moscow", **WEEKDAYS, "sat": "10:00-15:00"})


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.mark.parametrize(("missed", "minutes", "due"), [
    (msk(2026, 11, 23, 10, 0), 2, msk(2026, 11, 23, 10, 2)),  # Monday, open: two minutes
    (msk(2026, 11, 23, 17, 59), 2, msk(2026, 11, 24, 9, 1)),  # one minute today, one tomorrow
    (msk(2026, 11, 23, 7, 30), 2, msk(2026, 11, 23, 9, 2)),  # before opening: from opening
    (msk(2026, 11, 27, 21, 40), 2, msk(2026, 11, 28, 10, 2)),  # Friday night: Saturday's hours
    (msk(2026, 11, 28, 16, 0), 30, msk(2026, 11, 30, 9, 30)),  # Saturday after close: Monday
])
def test_deadline_counts_open_minutes_only(missed, minutes, due):
    assert OFFICE.add(missed, minutes) == due


def test_deadline_is_in_the_lines_own_time_zone():
    vladivostok = business_hours_parse({"timezone": "Asia/Vladivostok", **WEEKDAYS})
    # 08:00 Moscow on a Monday is 15:00 in Vladivostok: open there
    assert vladivostok.add(msk(2026, 11, 23, 8, 0), 2) == msk(2026, 11, 23, 8, 2)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
       st.floats(min_value=0, max_value=3000))
def test_deadline_falls_in_open_hours_and_never_before_the_plain_one(missed, minutes):
    due = OFFICE.add(missed, minutes)
    assert due >= missed + timedelta(minutes=minutes) - timedelta(microseconds=1)
    local = due.astimezone(MSK)
    span = {0: (540, 1080), 1: (540, 1080), 2: (540, 1080), 3: (540, 1080), 4: (540, 1080), 5: (600, 900)}
    assert local.weekday() in span
    opens, closes = span[local.weekday()]
    assert opens <= local.hour * 60 + local.minute + local.second / 60 <= closes


@pytest.mark.parametrize(("value", "field"), [
    ({"mon": "9-18"}, "business_hours.mon"),
    ({"mon": "18:00-09:00"}, "business_hours.mon"),
    ({"mon": "09:00-25:00"}, "business_hours.mon"),
    ({"timezone": "Mars/Olympus", "mon": "09:00-18:00"}, "business_hours.timezone"),
    ({"monday": "09:00-18:00"}, "business_hours"),
    ({"sat": ""}, "business_hours"),
    ("09:00-18:00", "business_hours"),
])
def test_bad_timetable_names_the_key(value, field):
    with pytest.raises(BadBusinessHours) as exc:
        business_hours_parse(value)
    assert field in exc.value.errors


def test_no_timetable_means_always_open():
    assert business_hours_parse(None) is None and business_hours_parse({}) is None


# ---- the hours are a business calendar -------------------------------------------------------

def test_inline_hours_skip_russias_public_holidays_unless_told_otherwise():
    # a callback missed on the evening of 31 December 2025 is due after the New Year holidays
    assert business_hours_parse(WEEKDAYS).add(msk(2025, 12, 31, 19, 0), 2) == msk(2026, 1, 12, 9, 2)
    # a line open on Saturdays too works Saturday 10 January, the first day after the holidays
    assert OFFICE.add(msk(2025, 12, 31, 19, 0), 2) == msk(2026, 1, 10, 10, 2)
    no_holidays = business_hours_parse({**WEEKDAYS, "country": ""})
    assert no_holidays.add(msk(2025, 12, 31, 19, 0), 2) == msk(2026, 1, 1, 9, 2)
    with pytest.raises(BadBusinessHours) as exc:
        business_hours_parse({**WEEKDAYS, "country": "XX"})
    assert "business_hours.country" in exc.value.errors


@pytest.mark.django_db
def test_a_line_counts_on_its_calendar_then_its_hours_then_its_departments():
    from okno.core.business_hours import business_hours_for
    from okno.core.models import Calendar
    from okno.people.tests.factories import DepartmentFactory

    # given a department whose parent keeps Saturday hours, and a line calendar open on Sunday
    saturdays = Calendar.objects.create(name="Saturdays", hours={"sat": "10:00-16:00"}, country="")
    sundays = Calendar.objects.create(name="Sundays", hours={"sun": "10:00-16:00"}, country="")
    sales = DepartmentFactory(parent=DepartmentFactory(calendar=saturdays))
    friday_night = msk(2026, 11, 27, 21, 0)
    # then
    assert business_hours_for({"calendar_id": sundays.pk}, department=sales).add(friday_night, 2) == msk(
        2026, 11, 29, 10, 2)
    assert business_hours_for({"business_hours": WEEKDAYS}, department=sales).add(friday_night, 2) == msk(
        2026, 11, 30, 9, 2)
    assert business_hours_for({}, department=sales).add(friday_night, 2) == msk(2026, 11, 28, 10, 2)
    assert business_hours_for({}, department=None, fallback=WEEKDAYS).add(friday_night, 2) == msk(2026, 11, 30, 9, 2)
    assert business_hours_for({}, department=None) is None  # nothing named: every minute counts
    with pytest.raises(BadBusinessHours):
        business_hours_for({"calendar_id": 999999})


@pytest.mark.django_db
def test_a_callback_missed_on_new_years_eve_is_due_after_the_holidays():
    from okno.core.business_hours import business_hours_for
    from okno.core.models import Calendar
    from okno.people.tests.factories import DepartmentFactory
    from okno.work.services import callback_for_missed_call

    # given a line whose department works Mon-Fri on Russia's production calendar
    office = Calendar.objects.create(name="Office", hours=WEEKDAYS, country="RU")
    sales = DepartmentFactory(calendar=office)
    # when a call is missed at 19:00 on 31 December 2025
    item = callback_for_missed_call(number="+79990000001", contact=None, department=sales,
                                    missed_at=msk(2025, 12, 31, 19, 0), minutes=2,
                                    hours=business_hours_for({}, department=sales))
    # then the callback is due on the first working morning of 2026
    assert item.due_at == msk(2026, 1, 12, 9, 2)


@pytest.mark.django_db
def test_a_line_naming_no_calendar_is_refused(api):
    r = api.post("/api/v1/channels", {"kind": "mango", "name": "Mango", "settings": {
        "api_key": "k", "api_salt": "s", "calendar_id": 999999}})
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["settings.calendar_id"]
