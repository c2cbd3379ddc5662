"""Working time on a business calendar: deadlines, delayed robots and callbacks count on it.

A `WorkCalendar` is the pure, immutable form of a `Calendar` row:

- **Weekly hours** per weekday in the calendar's time zone, one or more spans a day
  (`"09:00-13:00,14:00-18:00"`); a weekday without hours is a day off.
- **The country's production calendar** from the `holidays` package: public holidays and
  transferred days off are days off even on a weekday with hours; a weekend day the law makes a
  working day (Russia, 2025-11-01, a Saturday worked so that Monday 2025-11-03 is off) is worked.
  No country (`""`) means the weekly hours alone.
- **The company's own exceptions**, which win over both: `extra_days_off`, `extra_working_days`.

Which hours does a working day get whose weekday has none (a working Saturday, an extra working
Sunday)? The hours of the weekday it stands in for when the package says (2025-11-01 stands in
for Monday 2025-11-03, so it gets Monday's hours), else Monday's hours, else the first weekday
that has hours. Shortened pre-holiday days (one hour less in Russia) are not modelled.

Counting (`add`): wall time adds the duration as is. Working time counts whole days of the
duration (`P1D`, `P2D`, and so `PT24H` too) as working days (the same clock time on the n-th next
working day, from the start moved to the next opening when it is outside hours), then the rest
(`PT30M`) as working time: Friday 17:50 plus `PT30M` on Mon-Fri 09:00-18:00 is Monday 09:20.
Every loop is bounded: a calendar with no working time at all raises `NoWorkingTime`.
"""

from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 24 * 60
# How far any search looks ahead before saying the calendar has no working time: three years
# covers the longest real run of days off (New Year holidays, a company's summer closure) many
# times over, and at a cached look-up a day it costs a few milliseconds at worst.
HORIZON_DAYS = 3 * 366

Span = tuple[int, int]  # (opens, closes) in minutes since local midnight; closes may be 1440


class NoWorkingTime(ValueError):
    """The calendar has no working time within the search horizon (no hours, or every day off)."""


@lru_cache(maxsize=64)
def _country_holidays(country: str):
    # One lazily-expanding table per country and process: the package fills a year on first use.
    return holidays_lib.country_holidays(country)


_holidays_lock = threading.Lock()


def _country_day(country: str, d: date) -> tuple[bool, bool, int | None]:
    """(is a day off by law, is a weekend day made working by law, weekday it stands in for)."""
    table = _country_holidays(country)
    with _holidays_lock:  # the table grows on first look at a year; keep that single-threaded
        off = d in table
        table.get(date(d.year + 1, 1, 1))  # next year's transfers may name a day of this year
        worked = d in table.weekend_workdays
    stands_for = _stands_for(table, d) if worked else None
    return off, worked, stands_for


def _stands_for(table, d: date) -> int | None:
    """The weekday a legally worked weekend day replaces, from the package's substitution tables
    (`special_*holidays`: `(to_month, to_day, from_month, from_day[, from_year])` per year)."""
    for name in dir(table):
        if not name.startswith("special_"):
            continue
        mapping = getattr(table, name, None)
        if not isinstance(mapping, dict):
            continue
        for year in (d.year, d.year + 1):
            entries = mapping.get(year, ())
            if entries and not isinstance(entries[0], tuple):
                entries = (entries,)
            for entry in entries:
                if len(entry) >= 4 and not isinstance(entry[2], str):
                    from_year = entry[4] if len(entry) > 4 else year
                    if (from_year, entry[2], entry[3]) == (d.year, d.month, d.day):
                        return date(year, entry[0], entry[1]).weekday()
    return None


def parse_spans(raw: str) -> tuple[Span, ...]:
    """"09:00-13:00,14:00-18:00" -> ((540, 780), (840, 1080)). ValueError with the reason."""
    spans: list[Span] = []
    for part in str(raw).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            start, end = (p.strip() for p in part.split("-"))
            opens, closes = _minutes(start), _minutes(end)
        except ValueError:
            raise ValueError(f"{part!r} is not a span like 09:00-18:00") from None
        if not opens < closes:
            raise ValueError(f"{part!r}: the start must be before the end within one day")
        spans.append((opens, closes))
    spans.sort()
    for (_, prev_end), (next_start, _) in zip(spans, spans[1:], strict=False):
        if next_start < prev_end:
            raise ValueError(f"{raw!r}: spans overlap")
    return tuple(spans)


def _minutes(text: str) -> int:
    hh, mm = text.split(":")
    if not (hh.isdigit() and mm.isdigit() and len(mm) == 2 and 1 <= len(hh) <= 2):
        raise ValueError(text)
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ValueError(text)
    return h * 60 + m


def format_spans(spans: tuple[Span, ...]) -> str:
    return ",".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in spans)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class WorkCalendar:
    zone: ZoneInfo
    # Spans per weekday, Monday first; an empty tuple is a day off.
    week: tuple[tuple[Span, ...], ...]
    country: str = ""
    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    # Per-date memo of the day's spans in UTC; not part of the value.
    _memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    # ---- building ----------------------------------------------------------------------------
    @classmethod
    def from_values(cls, *, timezone: str = "Europe/Moscow", hours: dict | None = None, country: str = "",
                    extra_days_off=(), extra_working_days=()) -> WorkCalendar:
        """From already validated values (calendar_clean); malformed input raises ValueError."""
        hours = hours or {}
        return cls(
            zone=ZoneInfo(timezone),
            week=tuple(parse_spans(hours.get(name) or "") for name in DAYS),
            country=(country or "").upper(),
            extra_days_off=frozenset(_as_date(d) for d in extra_days_off or ()),
            extra_working_days=frozenset(_as_date(d) for d in extra_working_days or ()),
        )

    @classmethod
    def from_row(cls, row) -> WorkCalendar:
        return cls.from_values(timezone=row.timezone, hours=row.hours, country=row.country,
                               extra_days_off=row.extra_days_off, extra_working_days=row.extra_working_days)

    # ---- days --------------------------------------------------------------------------------
    def is_working_day(self, d: date) -> bool:
        return bool(self._day_hours(d))

    def _day_hours(self, d: date) -> tuple[Span, ...]:
        """Local spans of `d` (empty on a day off), by the rules in the module docstring."""
        if d in self.extra_days_off:
            return ()
        own = self.week[d.weekday()]
        stands_for = None
        if d in self.extra_working_days:
            if own:
                return own
        elif self.country:
            off, worked, stands_for = _country_day(self.country, d)
            if off:
                return ()
            if not worked or own:
                return own
        else:
            return own
        if stands_for is not None and self.week[stands_for]:
            return self.week[stands_for]
        return self.week[0] or next((s for s in self.week if s), ())

    def _utc_spans(self, d: date) -> tuple[tuple[datetime, datetime], ...]:
        spans = self._memo.get(d)
        if spans is None:
            spans = tuple((self._at(d, a), self._at(d, b)) for a, b in self._day_hours(d))
            if len(self._memo) > 20000:  # a long-lived process: keep the memo bounded
                self._memo.clear()
            self._memo[d] = spans
        return spans

    def _at(self, d: date, minute: int) -> datetime:
        if minute >= MINUTES_A_DAY:
            local = datetime.combine(d + timedelta(days=1), time(0), self.zone)
        else:
            local = datetime.combine(d, time(minute // 60, minute % 60), self.zone)
        return local.astimezone(UTC)

    def spans(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working spans of `d` as aware datetimes in the calendar's zone (empty: a day off)."""
        return [(a.astimezone(self.zone), b.astimezone(self.zone)) for a, b in self._utc_spans(d)]

    def _no_time(self) -> NoWorkingTime:
        return NoWorkingTime("the calendar has no working hours within three years: give it working hours")

    # ---- moments -----------------------------------------------------------------------------
    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when it is working time, else the next moment working time starts (UTC)."""
        at = _utc(at)
        day = at.astimezone(self.zone).date() - timedelta(days=1)  # a span may end after midnight UTC
        for _ in range(HORIZON_DAYS):
            for opens, closes in self._utc_spans(day):
                if at < closes:
                    return max(at, opens)
            day += timedelta(days=1)
        raise self._no_time()

    def add(self, start: datetime, duration: timedelta, *, working: bool = True) -> datetime:
        """`start` plus `duration`: wall time, or working time by the rule in the module docstring.
        The answer is in `start`'s time zone."""
        if duration < timedelta(0):
            raise ValueError("a duration cannot be negative")
        if not working:
            return (_utc(start) + duration).astimezone(start.tzinfo)
        at = self.next_opening(start)
        if duration.days:
            at = self._add_working_days(at, duration.days)
        rest = timedelta(seconds=duration.seconds, microseconds=duration.microseconds)
        return self.add_working_time(at, rest).astimezone(start.tzinfo)

    def _add_working_days(self, at: datetime, days: int) -> datetime:
        local = at.astimezone(self.zone)
        day, clock = local.date(), local.timetz().replace(tzinfo=None)
        for _ in range(days):
            day = self._next_working_day(day)
        moment = datetime.combine(day, clock, self.zone).astimezone(UTC)
        return self.next_opening(moment)

    def _next_working_day(self, day: date) -> date:
        for _ in range(HORIZON_DAYS):
            day += timedelta(days=1)
            if self._utc_spans(day):
                return day
        raise self._no_time()

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """`start` plus `duration` of working time only, every unit counted as working time
        (the callbacks' minutes); from the next opening when `start` is outside hours. UTC."""
        remaining = duration
        at = _utc(start)
        day = at.astimezone(self.zone).date() - timedelta(days=1)
        # Whole days are skipped one cached look-up at a time: at most a few per typical deadline
        # and bounded by the duration (a working day has at least a minute) plus the horizon.
        limit = HORIZON_DAYS + int(duration.total_seconds() // 60) + 2
        for _ in range(limit):
            for opens, closes in self._utc_spans(day):
                if at >= closes:
                    continue
                cursor = max(at, opens)
                if cursor + remaining <= closes:
                    return cursor + remaining
                remaining -= closes - cursor
                at = closes
            day += timedelta(days=1)
        raise self._no_time()

    def end_of_working_day(self, at: datetime) -> datetime:
        """The close of the working day containing `at`; after hours or on a day off, the close of
        the next working day. In the calendar's zone."""
        at_utc = _utc(at)
        day = at_utc.astimezone(self.zone).date()
        spans = self._utc_spans(day)
        if not spans or at_utc >= spans[-1][1]:
            day = self._next_working_day(day)
            spans = self._utc_spans(day)
        return spans[-1][1].astimezone(self.zone)

    def next_time_of_day(self, at: datetime, t: time, *, working_days_only: bool = True) -> datetime:
        """The first moment strictly after `at` whose local clock reads `t`, on a working day
        unless `working_days_only` is False (robots run "at 10:00"). In the calendar's zone."""
        at_utc = _utc(at)
        day = at_utc.astimezone(self.zone).date()
        for _ in range(HORIZON_DAYS):
            if not working_days_only or self._utc_spans(day):
                moment = datetime.combine(day, t.replace(tzinfo=None), self.zone)
                if moment.astimezone(UTC) > at_utc:
                    return moment
            day += timedelta(days=1)
        raise self._no_time()

    def hours_text(self) -> dict[str, str]:
        return {name: format_spans(spans) for name, spans in zip(DAYS, self.week, strict=True) if spans}


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime: give the time with its time zone")
    return moment.astimezone(UTC)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# ---- which calendar -----------------------------------------------------------------------------
BUILT_IN = {"timezone": "Europe/Moscow", "country": "RU",
            "hours": {name: "09:00-18:00" for name in DAYS[:5]}}

# A row's values -> its WorkCalendar. Keyed by the values themselves, so an edited row is never
# served stale and the same calendar shared by thousands of deals is built once per process.
_built: dict[tuple, WorkCalendar] = {}
# The company default: looked up at most once a minute per process (another process's edit is
# seen within that minute; an edit through this process's services clears it at once).
DEFAULT_TTL_SECONDS = 60
_default: tuple[float, WorkCalendar] | None = None
_lock = threading.Lock()


def _key(row) -> tuple:
    import json
    return (row.timezone, json.dumps(row.hours or {}, sort_keys=True), row.country or "",
            tuple(sorted(map(str, row.extra_days_off or ()))), tuple(sorted(map(str, row.extra_working_days or ()))))


def work_calendar(cal) -> WorkCalendar:
    """The WorkCalendar of a Calendar row (or the company's when None); cached by the row's values."""
    if cal is None:
        return default_work_calendar()
    if isinstance(cal, int):
        from okno.core.models import Calendar
        cal = Calendar.objects.filter(pk=cal).first()
        if cal is None:
            return default_work_calendar()
    key = _key(cal)
    found = _built.get(key)
    if found is None:
        found = WorkCalendar.from_row(cal)
        with _lock:
            if len(_built) > 256:
                _built.clear()
            _built[key] = found
    return found


def work_calendar_for(*candidates) -> WorkCalendar:
    """The first calendar given (a pipeline's, then a department's...), else the company default
    (the Calendar with is_default), else the built-in Mon-Fri 09:00-18:00, Europe/Moscow, RU."""
    for cal in candidates:
        if cal is not None:
            return work_calendar(cal)
    return default_work_calendar()


def calendar_of_department(department):
    """The Calendar row of a department, else of its parent, and so on up; None when no
    department on the way names one. (Typed loosely: core does not import people.)"""
    seen = 0
    while department is not None and seen < 50:  # a tree is dozens deep at most; a cycle stops here
        if getattr(department, "calendar_id", None):
            return department.calendar
        department = department.parent if getattr(department, "parent_id", None) else None
        seen += 1
    return None


def default_work_calendar() -> WorkCalendar:
    global _default
    now = _time.monotonic()
    cached = _default
    if cached is not None and now - cached[0] < DEFAULT_TTL_SECONDS:
        return cached[1]
    from okno.core.models import Calendar
    row = Calendar.objects.filter(is_default=True).order_by("id").first()
    result = work_calendar(row) if row is not None else built_in_calendar()
    _default = (now, result)
    return result


@lru_cache(maxsize=1)
def built_in_calendar() -> WorkCalendar:
    return WorkCalendar.from_values(**BUILT_IN)


def invalidate_cache() -> None:
    """Forget the company default (called by the calendar services on every save)."""
    global _default
    _default = None
