"""The filters and sort shared by the board, the deal list and its export.

One parse of the query string, one application to a queryset already scoped by visibility:
what the list shows and what the export writes cannot drift apart.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.http import QueryDict
from django.utils import timezone

from okno.core.paging import id_or_none
from okno.deals import selectors

# Sort keys the list offers -> the ORM ordering; a key not listed falls back to newest first.
SORTS = {
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "stage": ("stage__position", "stage_id", "-created_at", "-id"),
    "-stage": ("-stage__position", "-stage_id", "-created_at", "-id"),
    "entered": ("stage_entered_at", "id"),
    "-entered": ("-stage_entered_at", "-id"),
}
DEFAULT_SORT = "-created"


def _int(raw: str | None) -> int | None:
    return id_or_none(raw)


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class DealFilters:
    """What a person asked to see. Bad values are dropped, never an error: a shared link
    with a stale id shows everything rather than a 500."""

    q: str = ""
    responsible: int | None = None
    mine: bool = False
    created_from: date | None = None
    created_to: date | None = None
    overdue: bool = False
    pipeline: int | None = None
    stage: int | None = None
    contact: int | None = None
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, params: QueryDict) -> "DealFilters":
        sort = params.get("sort", DEFAULT_SORT)
        return cls(
            q=params.get("q", "").strip()[:200],
            responsible=_int(params.get("responsible")),
            mine=params.get("mine") in ("1", "on", "true"),
            created_from=_date(params.get("from")),
            created_to=_date(params.get("to")),
            overdue=params.get("overdue") in ("1", "on", "true"),
            pipeline=_int(params.get("pipeline")),
            stage=_int(params.get("stage")),
            contact=_int(params.get("contact")),
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )

    def query(self, *, with_sort: bool = True) -> dict[str, str]:
        """Back to query-string values (for links: load more, export, sort headers)."""
        out = {"q": self.q, "responsible": self.responsible or "", "mine": "1" if self.mine else "",
               "from": self.created_from.isoformat() if self.created_from else "",
               "to": self.created_to.isoformat() if self.created_to else "",
               "overdue": "1" if self.overdue else "", "pipeline": self.pipeline or "", "stage": self.stage or "",
               "contact": self.contact or ""}
        if with_sort and self.sort != DEFAULT_SORT:
            out["sort"] = self.sort
        return {k: str(v) for k, v in out.items() if v not in ("", None)}

    @property
    def active(self) -> bool:
        return bool(self.query(with_sort=False))

    def for_selectors(self, *, user) -> selectors.DealFilters:
        """The selectors' filters (okno.deals.selectors.DealFilters): dates become the local
        day's bounds, "my deals" the user's id."""
        tz = timezone.get_current_timezone()
        return selectors.DealFilters(
            responsible_id=user.pk if self.mine else self.responsible,
            q=self.q,
            contact_id=self.contact,
            created_from=datetime.combine(self.created_from, time.min, tzinfo=tz) if self.created_from else None,
            created_to=(datetime.combine(self.created_to + timedelta(days=1), time.min, tzinfo=tz)
                        if self.created_to else None),
            overdue=True if self.overdue else None,
        )

    def ordering(self) -> tuple[str, ...]:
        return SORTS[self.sort]
