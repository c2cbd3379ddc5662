"""WorkCalendar: working days from the production calendar, and time counted on them."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okno.core.calendar import NoWorkingTime, WorkCalendar

MSK = ZoneInfo("Europe/Moscow")
WEEKDAYS = {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}
RU = WorkCalendar.from_values(timezone="Europe/Moscow", hours=WEEKDAYS, country="RU")
PLAIN = WorkCalendar.from_values(timezone="Europe/Moscow", hours=WEEKDAYS)


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


def test_russia_works_saturday_2025_11_01_and_rests_monday_11_03():
    assert RU.is_working_day(date(2025, 11, 1))  # a Saturday worked by law
    assert not RU.is_working_day(date(2025, 11, 3))  # the Monday it moved to
    assert not RU.is_working_day(date(2025, 11, 4))  # Unity Day
    assert RU.is_working_day(date(2025, 11, 5))
    # without a country, only the weekly hours count
    assert not PLAIN.is_working_day(date(2025, 11, 1)) and PLAIN.is_working_day(date(2025, 11, 3))


def test_the_worked_saturday_gets_the_hours_of_the_monday_it_stands_in_for():
    cal = WorkCalendar.from_values(hours={**WEEKDAYS, "mon": "10:00-19:00"}, country="RU")
    assert cal.spans(date(2025, 11, 1)) == [(msk(2025, 11, 1, 10), msk(2025, 11, 1, 19))]


def test_new_year_holidays_are_days_off():
    off = [date(2025, 12, 31)] + [date(2026, 1, d) for d in range(1, 12)]
    assert [d for d in off if RU.is_working_day(d)] == []
    assert RU.is_working_day(date(2025, 12, 30)) and RU.is_working_day(date(2026, 1, 12))


@pytest.mark.parametrize("country", ["KZ", "BY", "UZ"])
def test_other_countries_have_their_new_year(country):
    cal = WorkCalendar.from_values(hours=WEEKDAYS, country=country)
    assert not cal.is_working_day(date(2026, 1, 1))


def test_company_exceptions_win_over_the_country():
    cal = WorkCalendar.from_values(hours=WEEKDAYS, country="RU", extra_days_off=["2025-11-01", "2025-11-05"],
                                   extra_working_days=["2025-11-04", "2025-11-08"])
    assert not cal.is_working_day(date(2025, 11, 1)) and not cal.is_working_day(date(2025, 11, 5))
    assert cal.is_working_day(date(2025, 11, 4))
    # an extra working Saturday without hours of its own gets Monday's
    assert cal.spans(date(2025, 11, 8)) == [(msk(2025, 11, 8, 9), msk(2025, 11, 8, 18))]


def test_a_day_may_have_several_spans():
    cal = WorkCalendar.from_values(hours={"mon": "09:00-13:00,14:00-18:00"})
    assert cal.spans(date(2026, 11, 23)) == [(msk(2026, 11, 23, 9), msk(2026, 11, 23, 13)),
                                             (msk(2026, 11, 23, 14), msk(2026, 11, 23, 18))]
    # 12:50 plus 30 minutes: 10 before lunch, 20 after
    assert cal.add(msk(2026, 11, 23, 12, 50), timedelta(minutes=30)) == msk(2026, 11, 23, 14, 20)


@pytest.mark.parametrize(("start", "duration", "due"), [
    (msk(2025, 11, 28, 17, 50), timedelta(minutes=30), msk(2025, 12, 1, 9, 20)),  # Friday 17:50 -> Monday 09:20
    (msk(2025, 11, 29, 12, 0), timedelta(minutes=30), msk(2025, 12, 1, 9, 30)),  # Saturday: from Monday's opening
    (msk(2025, 12, 1, 7, 0), timedelta(hours=1), msk(2025, 12, 1, 10, 0)),  # before opening
    (msk(2025, 10, 31, 17, 50), timedelta(minutes=30), msk(2025, 11, 1, 9, 20)),  # the worked Saturday
    (msk(2025, 10, 31, 17, 0), timedelta(hours=11), msk(2025, 11, 5, 10, 0)),  # 1h Fri, 9h Sat, skip 3-4 Nov
    (msk(2025, 12, 30, 17, 50), timedelta(minutes=30), msk(2026, 1, 12, 9, 20)),  # across the New Year
    (msk(2025, 12, 30, 19, 0), timedelta(minutes=30), msk(2026, 1, 12, 9, 30)),  # after hours, then holidays
    (msk(2025, 11, 28, 17, 50), timedelta(days=1), msk(2025, 12, 1, 17, 50)),  # P1D: the next working day
    (msk(2025, 11, 28, 19, 0), timedelta(days=1, minutes=30), msk(2025, 12, 2, 9, 30)),
])
def test_working_time(start, duration, due):
    assert RU.add(start, duration) == due


def test_wall_time_ignores_the_calendar():
    assert RU.add(msk(2025, 11, 28, 17, 50), timedelta(minutes=30), working=False) == msk(2025, 11, 28, 18, 20)


def test_the_answer_keeps_the_starts_zone():
    due = RU.add(datetime(2025, 11, 28, 14, 50, tzinfo=UTC), timedelta(minutes=30))
    assert due.tzinfo is UTC and due == msk(2025, 12, 1, 9, 20)


def test_end_of_working_day():
    assert RU.end_of_working_day(msk(2025, 11, 28, 10, 0)) == msk(2025, 11, 28, 18, 0)
    assert RU.end_of_working_day(msk(2025, 11, 28, 7, 0)) == msk(2025, 11, 28, 18, 0)  # before opening: today
    assert RU.end_of_working_day(msk(2025, 11, 28, 18, 0)) == msk(2025, 12, 1, 18, 0)  # after hours: next day
    assert RU.end_of_working_day(msk(2025, 12, 31, 10, 0)) == msk(2026, 1, 12, 18, 0)  # a day off


def test_next_time_of_day():
    assert RU.next_time_of_day(msk(2025, 11, 28, 9, 0), time(10)) == msk(2025, 11, 28, 10, 0)
    assert RU.next_time_of_day(msk(2025, 11, 28, 10, 0), time(10)) == msk(2025, 12, 1, 10, 0)  # strictly after
    assert RU.next_time_of_day(msk(2025, 11, 28, 11, 0), time(10), working_days_only=False) == msk(2025, 11, 29, 10)


def test_a_calendar_without_working_time_raises_instead_of_looping():
    closed = WorkCalendar.from_values(hours={})
    with pytest.raises(NoWorkingTime):
        closed.add(msk(2025, 11, 28, 10, 0), timedelta(minutes=30))
    with pytest.raises(NoWorkingTime):
        closed.end_of_working_day(msk(2025, 11, 28, 10, 0))
    with pytest.raises(NoWorkingTime):
        closed.next_time_of_day(msk(2025, 11, 28, 10, 0), time(10))


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError):
        RU.add(datetime(2025, 11, 28, 10, 0), timedelta(minutes=30))


def test_daylight_saving_zones_count_real_minutes():
    berlin = WorkCalendar.from_values(timezone="Europe/Berlin", hours={d: "00:00-24:00" for d in WEEKDAYS})
    # the night clocks go back (26 Oct 2025, a Sunday: closed) is skipped; Monday 00:00 to 01:00
    start = datetime(2025, 10, 24, 23, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.add(start, timedelta(hours=1)) == datetime(2025, 10, 27, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))


def _reference(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """The plain way: step minute by minute, counting the minutes that are working time."""
    at = start.astimezone(UTC).replace(second=0, microsecond=0)
    assert at == start
    while True:
        local = at.astimezone(cal.zone)
        spans = cal.spans(local.date())
        working = any(a <= at < b for a, b in spans)
        if working and minutes == 0:
            return at
        if working:
            minutes -= 1
        elif minutes == 0 and any(at == b for _, b in spans):
            return at
        at += timedelta(minutes=1)


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 10, 25), max_value=datetime(2026, 1, 15)).map(
           lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)),
       st.integers(min_value=1, max_value=1500))
def test_skipping_days_equals_counting_minutes(start, minutes):
    cal = WorkCalendar.from_values(hours={**WEEKDAYS, "wed": "09:00-13:00,14:00-18:00"}, country="RU")
    assert cal.add_working_time(start, timedelta(minutes=minutes)) == _reference(cal, start, minutes)
