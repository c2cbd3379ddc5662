"""Business hours: a deadline counts only the time the line is staffed.

A line's hours are a business calendar (okno.core.calendar): weekly hours in a time zone, the
country's public holidays and transferred days off, and the company's own days off. Which one,
for a line (channel), in this order:

1. `"calendar_id": 3` in the line's settings: that Calendar;
2. the old inline timetable in the line's settings, kept working for existing lines:
   `"business_hours": {"timezone": "Europe/Moscow", "mon": "09:00-18:00", ..., "country": "RU"}`
   (a day not named is closed; `country` is optional, RU by default, "" for no holidays);
3. the calendar of the line's department, else of its parent department, and so on up;
4. OKNO_BUSINESS_HOURS (the same inline form) for every line that names none;
5. none of these: every minute counts (a line may well be staffed round the clock).

A callback due "2 minutes" after a call missed at 21:40 on Friday is due at 09:02 on Monday:
nobody could have called back in between, and a deadline that has passed before anyone came in
would escalate for nothing. One missed on the evening of 31 December is due after the New Year
holidays.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from okno.core.calendar import DAYS, WorkCalendar, calendar_of_department, work_calendar

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class BadBusinessHours(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class BusinessHours:
    """A view of a WorkCalendar for callbacks, which count minutes of open time."""

    calendar: WorkCalendar

    @property
    def zone(self) -> ZoneInfo:
        return self.calendar.zone

    def add(self, start: datetime, minutes: float) -> datetime:
        """`start` plus `minutes` of open time (from the next opening when it falls outside hours)."""
        due = self.calendar.add_working_time(start, timedelta(minutes=minutes))
        return due.astimezone(start.tzinfo)


def business_hours_parse(value: dict | None, *, field: str = "business_hours") -> BusinessHours | None:
    """The inline timetable, or None for "always open"; BadBusinessHours names each wrong key."""
    if value in (None, {}, ""):
        return None
    if not isinstance(value, dict):
        raise BadBusinessHours({field: "must be an object of weekdays (mon..sun) and a timezone"})
    errors: dict[str, str] = {}
    timezone = str(value.get("timezone") or "Europe/Moscow")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors[f"{field}.timezone"] = f"unknown time zone {value.get('timezone')!r}"
    unknown = sorted(set(value) - {*DAYS, "timezone", "country"})
    if unknown:
        errors[field] = (f"unknown keys {', '.join(unknown)}: use mon, tue, wed, thu, fri, sat, sun, "
                         "timezone and country")
    country = str(value.get("country", "RU") or "").upper()
    if country:
        from okno.core.calendar_services import supported_countries

        if country not in supported_countries():
            errors[f"{field}.country"] = f"{country!r} is not a country with a production calendar (RU, KZ, BY, UZ...)"
    hours: dict[str, str] = {}
    for name in DAYS:
        raw = value.get(name) or ""
        if not raw:
            continue
        m = _SPAN.match(str(raw))
        opens = int(m[1]) * 60 + int(m[2]) if m else -1
        closes = int(m[3]) * 60 + int(m[4]) if m else -1
        if not m or int(m[2]) > 59 or int(m[4]) > 59 or not 0 <= opens < closes <= 24 * 60:
            errors[f"{field}.{name}"] = f"{raw!r} is not a span like 09:00-18:00 within one day"
        else:
            hours[name] = f"{opens // 60:02d}:{opens % 60:02d}-{closes // 60:02d}:{closes % 60:02d}"
    if not errors and not hours:
        errors[field] = "no day is open: leave business_hours out for a line that is always open"
    if errors:
        raise BadBusinessHours(errors)
    return BusinessHours(WorkCalendar.from_values(timezone=timezone, hours=hours, country=country))


def business_hours_for(settings_: dict | None, *, department=None,
                       fallback: dict | None = None) -> BusinessHours | None:
    """The hours a line counts on, in the order of the module docstring. `department` is the
    line's Department (or None). A calendar_id naming no calendar, or a timetable kept before it
    was checked, raises BadBusinessHours for the caller to log."""
    settings_ = settings_ or {}
    calendar_id = settings_.get("calendar_id")
    if calendar_id not in (None, ""):
        from okno.core.models import Calendar

        row = Calendar.objects.filter(pk=_as_id(calendar_id)).first() if _as_id(calendar_id) else None
        if row is None:
            raise BadBusinessHours({"settings.calendar_id": f"no calendar {calendar_id!r}"})
        return BusinessHours(work_calendar(row))
    if settings_.get("business_hours"):
        return business_hours_parse(settings_["business_hours"])
    row = calendar_of_department(department)
    if row is not None:
        return BusinessHours(work_calendar(row))
    return business_hours_parse(fallback) if fallback else None


def business_hours_settings_errors(settings_: dict, *, prefix: str = "settings") -> dict[str, str]:
    """A line's calendar_id and inline business_hours, checked before they are kept."""
    errors: dict[str, str] = {}
    calendar_id = settings_.get("calendar_id")
    if calendar_id not in (None, ""):
        from okno.core.models import Calendar

        pk = _as_id(calendar_id)
        if pk is None or not Calendar.objects.filter(pk=pk).exists():
            errors[f"{prefix}.calendar_id"] = f"no calendar {calendar_id!r}: give the id of a calendar"
    try:
        business_hours_parse(settings_.get("business_hours"), field=f"{prefix}.business_hours")
    except BadBusinessHours as exc:
        errors.update(exc.errors)
    return errors


def _as_id(value) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if pk > 0 and not isinstance(value, bool) else None
