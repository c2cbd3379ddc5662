"""/api/v1/leads: the customer's requests, visible as their cards are; converting a lead to a
deal, closing it as lost, reassigning in bulk; /api/v1/lost-reasons."""

from datetime import datetime
from typing import Annotated

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from okno.core.errors import FieldError
from okno.core.paging import RowId, limit_query, offset_query
from okno.deals import lead_services
from okno.deals.api_deals import DealDetailOut, deal_detail_out, deal_saved
from okno.deals.models import Lead, LostReason
from okno.deals.selectors import lead_get, leads_visible, pipelines_visible
from okno.people.models import User

router = Router(tags=["leads"])


class LeadOut(Schema):
    id: int
    contact_id: int
    channel_id: int | None
    conversation_id: int | None
    title: str
    source: str
    utm: dict
    status: str
    assignee_id: int | None
    department_id: int | None
    routed_by: str
    lost_reason_id: int | None
    closed_at: datetime | None
    created_at: datetime


class ConvertIn(Schema):
    pipeline_id: int
    stage_id: int | None = None
    title: str | None = None
    amount: str | int | float | None = None
    currency: str | None = None
    responsible_id: int | None = None
    custom: dict | None = None


class LoseIn(Schema):
    reason: str | int | None = None


class ReassignIn(Schema):
    lead_ids: list[int]
    assignee_id: int | None = None


# A place in the list: a PositiveIntegerField (PostgreSQL's integer, with a check for >= 0).
Position = Annotated[int, Field(ge=0, le=2**31 - 1)]


class LostReasonIn(Schema):
    name: str = ""
    position: Position | None = None


class LostReasonPatch(Schema):
    name: str | None = None
    position: Position | None = None
    is_active: bool | None = None


class LostReasonOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool


@router.get("/leads", response=list[LeadOut])
def list_leads(request: HttpRequest, contact: RowId | None = None, status: str = "", channel: RowId | None = None,
               assignee: RowId | None = None, unassigned: bool = False, created_from: datetime | None = None,
               created_to: datetime | None = None, limit: int = limit_query(100, le=1000),
               offset: int = offset_query()):
    """Newest first; `status` open = new or in work; `created_to` exclusive."""
    qs = leads_visible(user=request.auth)
    if contact is not None:
        qs = qs.filter(contact_id=contact)
    if status == "open":
        qs = qs.filter(status__in=Lead.OPEN)
    elif status:
        qs = qs.filter(status=status)
    if channel is not None:
        qs = qs.filter(channel_id=channel)
    if assignee is not None:
        qs = qs.filter(assignee_id=assignee)
    if unassigned:
        qs = qs.filter(assignee__isnull=True)
    if created_from:
        qs = qs.filter(created_at__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__lt=created_to)
    return list(qs.order_by("-created_at", "-id")[offset:offset + limit])


@router.get("/leads/{int:lead_id}", response=LeadOut)
def get_lead(request: HttpRequest, lead_id: int):
    return lead_get(user=request.auth, pk=lead_id)


@router.post("/leads/{int:lead_id}/convert", response={201: DealDetailOut})
def convert_lead(request: HttpRequest, lead_id: int, payload: ConvertIn):
    """The lead becomes a deal in the pipeline (its first open stage unless `stage_id`)."""
    lead = lead_get(user=request.auth, pk=lead_id)
    data = payload.dict(exclude_unset=True)
    pipeline = pipelines_visible(user=request.auth).filter(pk=data.pop("pipeline_id")).first()
    if pipeline is None:
        raise FieldError({"pipeline_id": "no such pipeline"})
    deal = lead_services.lead_convert(actor=request.auth, lead=lead, pipeline=pipeline,
                                      data={k: v for k, v in data.items() if v is not None}, via="api")
    return Status(201, deal_detail_out(deal_saved(deal.pk)))


@router.post("/leads/{int:lead_id}/lose", response=LeadOut)
def lose_lead(request: HttpRequest, lead_id: int, payload: LoseIn):
    lead = lead_get(user=request.auth, pk=lead_id)
    return lead_services.lead_lose(actor=request.auth, lead=lead, reason=payload.reason)


@router.post("/leads/reassign")
def reassign_leads(request: HttpRequest, payload: ReassignIn):
    """Heads and administrators: the leads they see go to `assignee_id` (null: back to the queue)."""
    assignee = None
    if payload.assignee_id is not None:
        assignee = User.objects.filter(pk=payload.assignee_id).first()
        if assignee is None:
            raise FieldError({"assignee_id": "no such user you may assign"})
    changed = lead_services.lead_reassign(actor=request.auth, leads=payload.lead_ids, assignee=assignee)
    return {"changed": changed}


@router.get("/lost-reasons", response=list[LostReasonOut])
def list_lost_reasons(request: HttpRequest, include_inactive: bool = False):
    qs = LostReason.objects.all()
    return list(qs if include_inactive else qs.filter(is_active=True))


@router.post("/lost-reasons", response={201: LostReasonOut})
def create_lost_reason(request: HttpRequest, payload: LostReasonIn):
    return Status(201, lead_services.lost_reason_create(actor=request.auth, name=payload.name,
                                                        position=payload.position))


@router.patch("/lost-reasons/{int:reason_id}", response=LostReasonOut)
def update_lost_reason(request: HttpRequest, reason_id: int, payload: LostReasonPatch):
    reason = LostReason.objects.filter(pk=reason_id).first()
    if reason is None:
        raise Http404("No such reason")
    return lead_services.lost_reason_update(actor=request.auth, reason=reason, data=payload.dict(exclude_unset=True))
