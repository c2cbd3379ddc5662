"""What every report shares: the period (whole days in the company's time zone), the comparison
with the previous equal period or the same dates a year ago, and the reading of a query string
into them with a 422 naming the field. The calls, chats and process reports all parse through
here, so a period is refused (and compared) the same way everywhere."""

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from okno.core.errors import ApiError
from okno.core.paging import MAX_ID

COMPARES = ("previous", "year")
# A year and a bit: a year against the previous one still answers in one request; longer periods
# are for the rollup that is not built yet (docs/analytics.md).
MAX_DAYS = 400


def invalid(field_name: str, reason: str, status: int = 422) -> ApiError:
    return ApiError("Invalid input", status=status, errors=[{"field": field_name, "reason": reason}])


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, in the company's time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        tz = ZoneInfo(settings.TIME_ZONE)
        return (datetime.combine(self.start, time.min, tzinfo=tz),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz))

    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_ago(self) -> "Period":
        return Period(_year_before(self.start), _year_before(self.end))

    def compared(self, compare: str) -> "Period":
        return self.previous() if compare == "previous" else self.year_ago()

    def day_keys(self) -> list[str]:
        return [(self.start + timedelta(days=i)).isoformat() for i in range(self.days)]


def _year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def parse_date(params, name: str) -> date:
    raw = (params.get(name) or "").strip()
    if not raw:
        raise invalid(name, "is required, as YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid(name, "must be a date as YYYY-MM-DD") from None


def parse_id(params, name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise invalid(name, "must be an id (a whole number from 1)")
    return int(raw)


def parse_known(params, known: set[str]) -> None:
    """A parameter the report does not know is refused, not ignored: a typo in a filter would
    otherwise answer the unfiltered figures as if they were the filtered ones."""
    for name in params:
        if name not in known:
            raise invalid(name, f"unknown parameter; known: {', '.join(sorted(known))}")


def parse_period(params) -> Period:
    """`from`..`to`: both required, `from` not after `to`, at most MAX_DAYS days."""
    start, end = parse_date(params, "from"), parse_date(params, "to")
    if start > end:
        raise invalid("from", "must not be after to")
    period = Period(start, end)
    if period.days > MAX_DAYS:
        raise invalid("to", f"the period must be at most {MAX_DAYS} days")
    if start.year < 2 or end.year > 9998:
        raise invalid("from", "out of range")
    return period


def parse_choice(params, name: str, choices, default: str = "") -> str:
    value = (params.get(name) or default).strip()
    if value and value not in choices:
        raise invalid(name, f"must be one of {', '.join(choices)}")
    return value


def avg(total: float, n: int) -> float | None:
    """An average rounded to 0.1, None where nothing was averaged."""
    return round(total / n, 1) if n else None


def ids_q(model, column: str, ids, *, joined: bool = False) -> Q:
    """`column` among `ids`, as one parameter: thousands of ids as an IN list were a 30 KB
    statement that PostgreSQL planned as a walk of the table (okno.analytics.process_rollup_read).
    `joined`: as a subquery PostgreSQL joins through the column's index, for a table also
    filtered by a time range (with `= ANY(…)` it walked the range and tested every row); else
    `= ANY(…)`, whose length the planner knows (for the subquery it guesses 200, and hashed a
    whole table)."""
    table = connection.ops.quote_name(model._meta.db_table)
    name = f"{table}.{connection.ops.quote_name(column)}"
    if connection.vendor == "postgresql":
        # As an array literal: psycopg's dumping of a list of thousands of ints took longer than the query.
        literal = "{" + ",".join(map(str, map(int, ids))) + "}"
        sql = f"{name} IN (SELECT unnest(%s::bigint[]))" if joined else f"{name} = ANY(%s::bigint[])"
        return Q(RawSQL(sql, (literal,), output_field=BooleanField()))
    return Q(RawSQL(f"{name} IN (SELECT value FROM json_each(%s))", (json.dumps(list(ids)),),
                    output_field=BooleanField()))
