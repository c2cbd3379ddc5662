"""/api/v1/contacts: the card over HTTP."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest, HttpResponseRedirect
from ninja import Router, Schema, Status
from pydantic import Field

from okno.contacts import services
from okno.contacts.matching import Candidate, Probe, find_candidates
from okno.contacts.merge import contact_merge, contact_merge_undo
from okno.contacts.models import Contact
from okno.contacts.selectors import (
    ContactMerged,
    ServedBy,
    candidates_disclosed,
    contact_get,
    contact_list,
    contacts_visible,
)
from okno.core.errors import ApiError, ErrorOut
from okno.core.paging import limit_query, offset_query
from okno.timeline.models import Activity
from okno.timeline.services import note_add

router = Router(tags=["contacts"])


class PhoneIn(Schema):
    number: str
    kind: str = "mobile"


class HandleIn(Schema):
    kind: str
    handle: str


class ContactIn(Schema):
    first_name: str = ""
    last_name: str = ""
    middle_name: str = ""
    phones: list[str | PhoneIn] = []
    emails: list[str] = []
    handles: list[HandleIn] = []
    company: str | None = None
    city: str = ""
    source: str = ""
    responsible_id: int | None = None
    tags: list[str] | None = None
    custom: dict = {}


class ContactPatch(Schema):
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    phones: list[str | PhoneIn] | None = None
    emails: list[str] | None = None
    handles: list[HandleIn] | None = None
    company: str | None = None
    city: str | None = None
    source: str | None = None
    responsible_id: int | None = None
    tags: list[str] | None = None
    custom: dict | None = None


class PhoneOut(Schema):
    number: str
    extension: str
    kind: str
    display: str


class CandidateOut(Schema):
    id: int
    level: Literal["certain", "likely", "possible"]
    score: float
    reasons: list[str]


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    middle_name: str
    full_name: str
    phones: list[PhoneOut]
    emails: list[str]
    handles: list[HandleIn]
    company: str | None
    city: str
    source: str
    responsible_id: int | None
    department_id: int | None
    tags: list[str]
    custom: dict
    created_at: datetime
    updated_at: datetime


class ServedByOut(Schema):
    responsible: str
    department: str


class ContactCreated(ContactOut):
    duplicates: list[CandidateOut]
    served_by: list[ServedByOut]


class ActivityOut(Schema):
    id: int
    kind: str
    occurred_at: datetime
    summary: str
    author_id: int | None
    detail_type: str | None
    detail_id: int | None


class NoteIn(Schema):
    body: str = Field(min_length=1, max_length=20000)


def contact_out(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "middle_name": contact.middle_name,
        "full_name": contact.full_name,
        "phones": [
            {"number": p.e164, "extension": p.extension, "kind": p.kind, "display": p.display}
            for p in contact.phones.all()
        ],
        "emails": [e.email for e in contact.emails.all()],
        "handles": [{"kind": h.kind, "handle": h.handle} for h in contact.handles.all()],
        "company": contact.company.name if contact.company_id else None,
        "city": contact.city,
        "source": contact.source,
        "responsible_id": contact.responsible_id,
        "department_id": contact.department_id,
        "tags": sorted(t.name for t in contact.tags.all()),
        "custom": contact.custom,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _raw(payload: Schema, *, exclude_unset: bool) -> dict:
    data = payload.dict(exclude_unset=exclude_unset)
    if data.get("phones") is not None:
        data["phones"] = [p if isinstance(p, str) else dict(p) for p in data["phones"]]
    return data


def get_visible_contact(request: HttpRequest, contact_id: int) -> Contact:
    """A card for reading or changing; a merged-away card answers 409 naming the kept one.

    Reads of the card itself redirect (GET /contacts/{id} answers 301); a write aimed at a
    merged card is refused rather than silently applied elsewhere, so the caller re-reads.
    """
    try:
        return contact_get(user=request.auth, pk=contact_id)
    except ContactMerged as merged:
        raise ApiError(f"This contact was merged into #{merged.kept_id}", status=409, merged_into=merged.kept_id,
                       location=f"/api/v1/contacts/{merged.kept_id}") from None


def served_by_text(served: list[ServedBy]) -> str:
    who = "; ".join(f"{s.responsible or 'no one yet'} ({s.department or 'no department'})" for s in served)
    return f"This customer is already served by {who}; ask them"


def _refusal_disclosed(user, refusal: ApiError) -> ApiError:
    """The service's 409 lists every candidate; the caller is told only what they may learn."""
    candidates = [Candidate(contact_id=c["id"], level=c["level"], score=c["score"], reasons=c["reasons"])
                  for c in refusal.extra.get("candidates", [])]
    shown, served = candidates_disclosed(user=user, candidates=candidates)
    detail = refusal.detail if shown or not served else served_by_text(served)
    return ApiError(detail, status=409, candidates=[c.as_dict() for c in shown],
                    served_by=[s.as_dict() for s in served])


@router.post("", response={201: ContactCreated, 409: ErrorOut})
def create_contact(request: HttpRequest, payload: ContactIn, on_duplicate: Literal["create", "reject"] = "create"):
    """`on_duplicate=reject` refuses (409) a certain or likely match, also one in another
    department: that card is not shown, only who serves the customer (`served_by`)."""
    data = services.contact_data_clean(_raw(payload, exclude_unset=False), actor=request.auth)
    try:
        contact, candidates = services.contact_create(actor=request.auth, data=data, on_duplicate=on_duplicate)
    except ApiError as refusal:
        if refusal.status != 409:
            raise
        raise _refusal_disclosed(request.auth, refusal) from None
    shown, served = candidates_disclosed(user=request.auth, candidates=candidates)
    body = contact_out(contact)
    body["duplicates"] = [c.as_dict() for c in shown]
    body["served_by"] = [s.as_dict() for s in served]
    return Status(201, body)


@router.get("", response=list[ContactOut])
def list_contacts(request: HttpRequest, q: str = "", phone: str = "", email: str = "",
                  limit: int = limit_query(50), offset: int = offset_query()):
    qs = contact_list(user=request.auth, q=q, phone=phone, email=email)
    qs = qs.prefetch_related("phones", "emails", "handles", "tags")
    return [contact_out(c) for c in qs[offset: offset + limit]]


@router.get("/{int:contact_id}", response={200: ContactOut, 301: None})
def get_contact(request: HttpRequest, contact_id: int):
    try:
        return contact_out(contact_get(user=request.auth, pk=contact_id))
    except ContactMerged as merged:
        return HttpResponseRedirect(f"/api/v1/contacts/{merged.kept_id}", status=301)


@router.patch("/{int:contact_id}", response={200: ContactOut, 409: ErrorOut})
def patch_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    contact = get_visible_contact(request, contact_id)
    data = services.contact_data_clean(_raw(payload, exclude_unset=True), actor=request.auth, partial=True)
    return contact_out(services.contact_update(actor=request.auth, contact=contact, data=data))


@router.delete("/{int:contact_id}", response={204: None, 409: ErrorOut})
def delete_contact(request: HttpRequest, contact_id: int):
    services.contact_delete(actor=request.auth, contact=get_visible_contact(request, contact_id))
    return Status(204, None)


@router.get("/{int:contact_id}/activities", response={200: list[ActivityOut], 409: ErrorOut})
def list_activities(request: HttpRequest, contact_id: int, limit: int = limit_query(100, le=1000)):
    contact = get_visible_contact(request, contact_id)
    rows = Activity.objects.filter(contact=contact).select_related("detail_type")[:limit]
    return [
        {"id": a.pk, "kind": a.kind, "occurred_at": a.occurred_at, "summary": a.summary, "author_id": a.author_id,
         "detail_type": a.detail_type.model if a.detail_type_id else None, "detail_id": a.detail_id}
        for a in rows
    ]


@router.post("/{int:contact_id}/notes", response={201: ActivityOut, 409: ErrorOut})
def add_note(request: HttpRequest, contact_id: int, payload: NoteIn):
    contact = get_visible_contact(request, contact_id)
    if not payload.body.strip():
        raise ApiError("Invalid input", errors=[{"field": "body", "reason": "a note cannot be empty"}])
    a = note_add(contact=contact, body=payload.body.strip(), author=request.auth)
    return Status(201, {"id": a.pk, "kind": a.kind, "occurred_at": a.occurred_at, "summary": a.summary,
                 "author_id": a.author_id, "detail_type": "note", "detail_id": a.detail_id})


@router.get("/{int:contact_id}/duplicates", response={200: list[CandidateOut], 409: ErrorOut})
def contact_duplicates(request: HttpRequest, contact_id: int):
    contact = get_visible_contact(request, contact_id)
    candidates = find_candidates(Probe.of(contact), exclude_ids={contact.pk},
                                 within=contacts_visible(user=request.auth))
    return [c.as_dict() for c in candidates]


class MergeIn(Schema):
    keep_id: int
    merge_ids: list[int]
    # field name ("first_name", "company", "custom.<key>"...) -> id of the card whose value wins
    fields: dict[str, int] | None = None


class MergeOut(Schema):
    merge_id: int
    contact: ContactOut
    restored_ids: list[int] = []


def _kept_out(contact_id: int) -> dict:
    return contact_out(Contact.objects.select_related("company").get(pk=contact_id))


@router.post("/merge", response={200: MergeOut, 409: ErrorOut})
def merge_contacts(request: HttpRequest, payload: MergeIn):
    merge = contact_merge(actor=request.auth, keep_id=payload.keep_id, merge_ids=payload.merge_ids,
                          fields=payload.fields)
    return {"merge_id": merge.pk, "contact": _kept_out(merge.kept_id)}


@router.post("/merges/{int:merge_id}/undo", response={200: MergeOut, 409: ErrorOut})
def undo_merge(request: HttpRequest, merge_id: int):
    merge = contact_merge_undo(actor=request.auth, merge_id=merge_id)
    # A restored card of a department the caller does not see is restored, but not named.
    seen = set(contacts_visible(user=request.auth).filter(pk__in=merge.merged_ids).values_list("pk", flat=True))
    return {"merge_id": merge.pk, "contact": _kept_out(merge.kept_id),
            "restored_ids": [pk for pk in merge.merged_ids if pk in seen]}
