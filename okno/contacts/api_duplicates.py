"""/api/v1/duplicate-groups: the duplicate groups found by the background scan."""

from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema

from okno.contacts.duplicates import duplicate_group_dismiss, duplicate_groups
from okno.core.paging import limit_query, offset_query

router = Router(tags=["duplicates"])


class GroupContactOut(Schema):
    id: int
    full_name: str


class PairOut(Schema):
    contact_a: int
    contact_b: int
    level: Literal["certain", "likely", "possible"]
    score: float
    reasons: list[str]


class GroupOut(Schema):
    level: Literal["certain", "likely", "possible"]
    score: float
    contacts: list[GroupContactOut]
    pairs: list[PairOut]


class DismissIn(Schema):
    ids: list[int]


class DismissOut(Schema):
    dismissed: int


@router.get("/duplicate-groups", response=list[GroupOut])
def list_duplicate_groups(request: HttpRequest, limit: int = limit_query(50),
                          offset: int = offset_query()):
    groups = duplicate_groups(user=request.auth)[offset: offset + limit]
    return [
        {
            "level": g.level, "score": round(g.score, 3),
            "contacts": [{"id": c.pk, "full_name": c.full_name} for c in g.contacts],
            "pairs": [{"contact_a": p.contact_a_id, "contact_b": p.contact_b_id, "level": p.level,
                       "score": round(p.score, 3), "reasons": p.reasons} for p in g.pairs],
        }
        for g in groups
    ]


@router.post("/duplicate-groups/dismiss", response=DismissOut)
def dismiss_duplicate_group(request: HttpRequest, payload: DismissIn):
    """"Not duplicates": the pairs among these contacts are not shown or brought back again."""
    return {"dismissed": duplicate_group_dismiss(user=request.auth, contact_ids=payload.ids)}
