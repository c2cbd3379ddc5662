"""/api/v1/leads: the customer's requests, visible as their cards are."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from okno.deals.models import Lead
from okno.people.visibility import contact_visibility_q

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
    created_at: datetime


def _visible(request: HttpRequest):
    return Lead.objects.filter(contact_visibility_q(request.auth, prefix="contact__"))


@router.get("/leads", response=list[LeadOut])
def list_leads(request: HttpRequest, contact: int | None = None, status: str = "",
               limit: int = Query(100, ge=1, le=1000)):
    qs = _visible(request)
    if contact is not None:
        qs = qs.filter(contact_id=contact)
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])


@router.get("/leads/{int:lead_id}", response=LeadOut)
def get_lead(request: HttpRequest, lead_id: int):
    return get_object_or_404(_visible(request), pk=lead_id)
