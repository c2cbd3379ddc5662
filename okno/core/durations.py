"""ISO 8601 durations (`PT30M`, `P1D`, `PT1H30M`, `P1DT2H`, `P2W`) as robots and deadlines write them.

Only fixed-length units are accepted: weeks, days, hours, minutes and seconds. Months and years
are refused because their length depends on the date they start from (a month after 31 January
has no single answer), and a deadline must mean the same thing whenever it is read. How days
count in working time is okno.core.calendar's rule (WorkCalendar.add).
"""

import re
from datetime import timedelta

MESSAGE = "must be an ISO 8601 duration such as PT30M or P1D"

_NUM = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$"
)


def parse_iso_duration(text: str) -> timedelta:
    """`PT30M` -> timedelta(minutes=30). Raises ValueError(MESSAGE ...) for anything else,
    including months and years (variable length) and negative or empty durations."""
    if not isinstance(text, str):
        raise ValueError(MESSAGE)
    value = text.strip().upper()
    m = _DURATION.match(value)
    if not m or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(MESSAGE)
    years, months, weeks, days, hours, minutes, seconds = (
        float(g.replace(",", ".")) if g is not None else None for g in m.groups())
    if years is not None or months is not None:
        raise ValueError(f"{MESSAGE}: months and years have no fixed length, use days (P30D) or weeks (P4W)")
    return timedelta(weeks=weeks or 0, days=days or 0, hours=hours or 0, minutes=minutes or 0,
                     seconds=seconds or 0)


def format_iso_duration(td: timedelta) -> str:
    """timedelta(hours=1, minutes=30) -> "PT1H30M"; whole days as "P1D"; zero as "PT0S"."""
    if td < timedelta(0):
        raise ValueError("a duration cannot be negative")
    total = td.total_seconds()
    days, rest = divmod(int(total), 86400)
    fraction = total - int(total)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P"
    if days:
        out += f"{days}D"
    time_part = ""
    if hours:
        time_part += f"{hours}H"
    if minutes:
        time_part += f"{minutes}M"
    if seconds or fraction:
        secs = seconds + fraction
        time_part += f"{secs:g}S" if fraction else f"{seconds}S"
    if time_part:
        out += "T" + time_part
    return out if out != "P" else "PT0S"
