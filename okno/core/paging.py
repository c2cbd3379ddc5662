"""Bounds of list pages: how many rows one answer may hold and how far one may skip.

An unbounded integer from the query string reached the database: `offset=99999999999999999999`
does not fit SQLite's or PostgreSQL's 64-bit integers and the list answered 500. Every API
list takes its `limit` and `offset` from here, so a value out of bounds is a 422 naming the
field and the bound, and ids used as filters (`contact=`, `pipeline=`) are bounded the same way.

UI pages use Django's Paginator: `get_page` already answers the last page for a page number
past the end, however large, and the first for one that is not a number.
"""

from typing import Annotated, Any

from ninja import Query
from pydantic import Field

MAX_LIMIT = 500
# Ten million rows in: past this, skipping is a scan of the table; nobody pages this far.
MAX_OFFSET = 10_000_000
# The largest id a 64-bit primary key holds (BigAutoField on SQLite and PostgreSQL).
MAX_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def limit_query(default: int = 50, *, le: int = MAX_LIMIT) -> Any:
    """`limit`: 1 to `le` rows (500 unless the endpoint always allowed more)."""
    return Query(default, ge=1, le=le, description=f"rows in one answer, 1 to {le}")


def offset_query() -> Any:
    """`offset`: 0 to MAX_OFFSET rows skipped."""
    return Query(0, ge=0, le=MAX_OFFSET, description=f"rows skipped, 0 to {MAX_OFFSET}")


def id_query() -> Any:
    """An optional id used as a filter: 1 to MAX_ID, or absent."""
    return Query(None, ge=1, le=MAX_ID)


def id_or_none(raw: str | None) -> int | None:
    """An id typed into a UI query or form (`?responsible=12`, a ticked row), or None when it is
    not one: not digits, 0, or past MAX_ID (SQLite cannot even bind such a number: a 500)."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def ids_of(values: list[str]) -> list[int]:
    """The ids among a form's ticked values, in order; anything else is left out."""
    return [v for v in (id_or_none(raw) for raw in values) if v is not None]
