"""The search, filters and sort of the contact list, shared by the list page and its export.

One parse of the query string (`ContactFilters.from_query`) and one queryset
(`contacts_listed`): what the list shows and what the export writes cannot drift apart.
Bad values are dropped, never an error: a shared link with a stale id shows everything.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from okno.contacts.models import Contact
from okno.contacts.selectors import contact_list
from okno.core.paging import id_or_none
from okno.people.models import User

# Sort keys the list offers -> the ORM ordering; an unknown key falls back to newest first.
SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("last_name", "first_name", "middle_name", "id"),
    "-name": ("-last_name", "-first_name", "-middle_name", "-id"),
}
DEFAULT_SORT = "-created"


def contact_sort_choices() -> list[tuple[str, str]]:
    return [("-created", _("Newest first")), ("created", _("Oldest first")),
            ("name", _("By name, A to Z")), ("-name", _("By name, Z to A"))]


@dataclass(frozen=True)
class ContactFilters:
    """What a person asked the contact list to show."""

    q: str = ""
    phone: str = ""
    email: str = ""
    tag: str = ""
    responsible: int | None = None
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, params: QueryDict | dict) -> "ContactFilters":
        sort = params.get("sort") or DEFAULT_SORT
        # `responsible_id` is the API's name of the same filter.
        responsible = params.get("responsible") or params.get("responsible_id")
        return cls(
            q=(params.get("q") or "").strip()[:200],
            phone=(params.get("phone") or "").strip()[:64],
            email=(params.get("email") or "").strip()[:254],
            tag=(params.get("tag") or "")[:100],
            responsible=id_or_none(str(responsible)) if responsible else None,
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )

    def query(self) -> dict[str, str]:
        """Back to query-string values (the export links, a job's stored parameters)."""
        out = {"q": self.q, "phone": self.phone, "email": self.email, "tag": self.tag,
               "responsible": self.responsible or ""}
        if self.sort != DEFAULT_SORT:
            out["sort"] = self.sort
        return {k: str(v) for k, v in out.items() if v not in ("", None)}


def contacts_listed(*, user: User, filters: ContactFilters) -> QuerySet[Contact]:
    """The list's rows in the list's order, only cards `user` may see."""
    return contact_list(
        user=user, q=filters.q, phone=filters.phone, email=filters.email, tag=filters.tag,
        responsible_id=filters.responsible,
    # A search ranks its matches (exact, part, typo; search.py) before the chosen order.
    ).order_by(*(("search_rank",) if filters.q else ()), *SORTS[filters.sort])
