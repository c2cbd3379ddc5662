"""Calendars: validation (API and settings form alike) and the administrator's writes.

Reasons are English, as every service's are (pages translate them with reason_text); the fixed
ones are marked with gettext_noop so that makemessages offers them."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils.translation import gettext_noop as _

from okno.core.access import require_admin
from okno.core.calendar import DAYS, invalidate_cache, parse_spans
from okno.core.errors import FieldError
from okno.core.models import Calendar

FIELDS = ("name", "timezone", "hours", "country", "extra_days_off", "extra_working_days", "is_default")


@lru_cache(maxsize=1)
def supported_countries() -> dict[str, str]:
    """Two-letter codes the `holidays` package has a production calendar for -> its English name."""
    import holidays
    from holidays.registry import COUNTRIES

    codes = {code for code in holidays.list_supported_countries() if len(code) == 2}
    names = {entry[1]: module.replace("_", " ").title() for module, entry in COUNTRIES.items()}
    return {code: names.get(code, code) for code in sorted(codes)}


def calendar_clean(data: dict) -> dict:
    """Validated, normalised calendar values: the time zone exists, hours are mon..sun spans
    "HH:MM-HH:MM[,HH:MM-HH:MM]" with start before end and no overlap, at least one day has hours,
    the country is one the holidays package knows (or empty for none), extra days are ISO dates
    and no date is both off and on. Raises FieldError naming each wrong field
    ("hours.mon", "timezone", "country", "extra_days_off[2]")."""
    errors: dict[str, str] = {}
    out: dict = {}
    if "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = _("give the calendar a name")
        elif len(name) > 200:
            errors["name"] = _("at most 200 characters")
        out["name"] = name
    if "timezone" in data:
        tz = str(data.get("timezone") or "").strip()
        try:
            if not tz:
                raise ValueError
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = _("unknown time zone %(tz)r: use a name such as Europe/Moscow") % {"tz": tz}
        out["timezone"] = tz
    if "hours" in data:
        out["hours"] = _clean_hours(data.get("hours"), errors)
    if "country" in data:
        country = str(data.get("country") or "").strip().upper()
        if country and country not in supported_countries():
            errors["country"] = _("%(code)r is not a country with a production calendar (RU, KZ, BY, UZ...); "
                                  "leave it empty for none") % {"code": country}
        out["country"] = country
    for key in ("extra_days_off", "extra_working_days"):
        if key in data:
            out[key] = _clean_dates(key, data.get(key), errors)
    if not errors and set(out.get("extra_days_off", ())) & set(out.get("extra_working_days", ())):
        both = sorted(set(out["extra_days_off"]) & set(out["extra_working_days"]))
        errors["extra_working_days"] = _("%(days)s cannot be both a day off and a working day") % {
            "days": ", ".join(both)}
    if "is_default" in data:
        out["is_default"] = bool(data.get("is_default"))
    if errors:
        raise FieldError(errors)
    return out


def _clean_hours(value, errors: dict) -> dict:
    if not isinstance(value, dict):
        errors["hours"] = _('must be an object of weekdays, e.g. {"mon": "09:00-18:00"}')
        return {}
    unknown = sorted(set(value) - set(DAYS))
    if unknown:
        errors["hours"] = _("unknown days %(days)s: use mon, tue, wed, thu, fri, sat, sun") % {
            "days": ", ".join(map(str, unknown))}
    hours = {}
    for day in DAYS:
        raw = value.get(day)
        if raw in (None, ""):
            continue
        if not isinstance(raw, str):
            errors[f"hours.{day}"] = _('must be a text such as "09:00-18:00" or "09:00-13:00,14:00-18:00"')
            continue
        try:
            spans = parse_spans(raw)
        except ValueError as exc:
            errors[f"hours.{day}"] = _("%(reason)s: write spans as 09:00-18:00 or 09:00-13:00,14:00-18:00") % {
                "reason": exc}
            continue
        if spans:
            hours[day] = ",".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans)
    if not hours and not any(k.startswith("hours") for k in errors):
        errors["hours"] = _("no day has working hours: give at least one day, e.g. mon 09:00-18:00")
    return hours


def _clean_dates(key: str, value, errors: dict) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [line for line in value.replace(",", "\n").splitlines()]
    if not isinstance(value, (list, tuple)):
        errors[key] = _("must be a list of dates such as 2026-12-31")
        return []
    days = set()
    for i, raw in enumerate(value):
        text = str(raw or "").strip()
        if not text:
            continue
        try:
            days.add(date.fromisoformat(text).isoformat())
        except ValueError:
            errors[f"{key}[{i}]"] = _("%(value)r is not a date such as 2026-12-31") % {"value": text}
    return sorted(days)


@transaction.atomic
def calendar_create(*, actor, data: dict) -> Calendar:
    """An administrator adds a calendar. Name and hours are required; time zone defaults to
    Europe/Moscow and the country to RU. Marking it the company default unmarks the previous one."""
    require_admin(actor, _("Only an administrator may change calendars"))
    values = calendar_clean({"timezone": "Europe/Moscow", "country": "RU", "extra_days_off": [],
                             "extra_working_days": [], "is_default": False,
                             **{k: v for k, v in data.items() if k in FIELDS},
                             "name": data.get("name"), "hours": data.get("hours")})
    if values["is_default"]:
        Calendar.objects.filter(is_default=True).update(is_default=False)
    cal = Calendar.objects.create(**values)
    transaction.on_commit(invalidate_cache)
    return cal


@transaction.atomic
def calendar_update(*, actor, calendar: Calendar, data: dict) -> Calendar:
    """An administrator changes some of a calendar's values (absent keys keep theirs). The
    company default can be moved to another calendar but not removed: mark another one instead."""
    require_admin(actor, _("Only an administrator may change calendars"))
    current = {k: getattr(calendar, k) for k in FIELDS}
    changed = {k: v for k, v in data.items() if k in FIELDS}
    values = calendar_clean({**current, **changed})
    if "is_default" in changed and values["is_default"] is False and calendar.is_default:
        raise FieldError({"is_default": _("mark another calendar as the company default instead")})
    if values["is_default"]:
        Calendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(is_default=False)
    for key, value in values.items():
        setattr(calendar, key, value)
    calendar.save()
    transaction.on_commit(invalidate_cache)
    return calendar
