"""Business hours: a deadline counts only the time the line is staffed.

A line (channel) may say when it works, in its own time zone:

    "business_hours": {"timezone": "Europe/Moscow", "mon": "09:00-18:00", ..., "fri": "09:00-17:00"}

A day not named is closed. A callback due "2 minutes" after a call missed at 21:40 on Friday is
due at 09:02 on Monday: nobody could have called back in between, and a deadline that has
passed before anyone came in would escalate for nothing. Without business hours every minute
counts (OKNO_BUSINESS_HOURS sets a default for every line). Holidays are not modelled yet.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class BadBusinessHours(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    # Per weekday (Monday 0): (opens, closes) as minutes since midnight, or None when closed.
    days: tuple[tuple[int, int] | None, ...]

    def add(self, start: datetime, minutes: float) -> datetime:
        """`start` plus `minutes` of open time (from the next opening when it falls outside hours)."""
        remaining = timedelta(minutes=minutes)
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(8 * 53):  # a year and more of weeks: enough for any real timetable
            span = self.days[day.weekday()]
            if span is not None:
                opens = _at(day, span[0], self.zone)
                closes = _at(day, span[1], self.zone)
                cursor = max(local, opens)
                if cursor < closes:
                    if cursor + remaining <= closes:
                        return (cursor + remaining).astimezone(start.tzinfo)
                    remaining -= closes - cursor
            day += timedelta(days=1)
        return start + timedelta(minutes=minutes)


def _at(day, minute: int, zone: ZoneInfo) -> datetime:
    if minute >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), zone)
    return datetime.combine(day, time(minute // 60, minute % 60), zone)


def business_hours_parse(value: dict | None, *, field: str = "business_hours") -> BusinessHours | None:
    """The timetable, or None for "always open"; BadBusinessHours names each wrong key."""
    if value in (None, {}, ""):
        return None
    if not isinstance(value, dict):
        raise BadBusinessHours({field: "must be an object of weekdays (mon..sun) and a timezone"})
    errors: dict[str, str] = {}
    zone = None
    try:
        zone = ZoneInfo(str(value.get("timezone") or "Europe/Moscow"))
    except (ZoneInfoNotFoundError, ValueError):
        errors[f"{field}.timezone"] = f"unknown time zone {value.get('timezone')!r}"
    unknown = sorted(set(value) - {*DAYS, "timezone"})
    if unknown:
        errors[field] = f"unknown keys {', '.join(unknown)}: use mon, tue, wed, thu, fri, sat, sun and timezone"
    days: list[tuple[int, int] | None] = []
    for name in DAYS:
        raw = value.get(name) or ""
        if not raw:
            days.append(None)
            continue
        m = _SPAN.match(str(raw))
        opens = int(m[1]) * 60 + int(m[2]) if m else -1
        closes = int(m[3]) * 60 + int(m[4]) if m else -1
        if not m or int(m[2]) > 59 or int(m[4]) > 59 or not 0 <= opens < closes <= 24 * 60:
            errors[f"{field}.{name}"] = f"{raw!r} is not a span like 09:00-18:00 within one day"
            days.append(None)
        else:
            days.append((opens, closes))
    if not errors and all(d is None for d in days):
        errors[field] = "no day is open: leave business_hours out for a line that is always open"
    if errors:
        raise BadBusinessHours(errors)
    return BusinessHours(zone=zone, days=tuple(days))
