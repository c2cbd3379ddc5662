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
