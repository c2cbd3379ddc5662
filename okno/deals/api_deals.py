"""/api/v1/deals: deals over HTTP, visible as their cards are (another department's: 404).

Amounts and prices travel as strings ("1500.00") so that no JSON reader turns money into a
binary float; they are accepted as strings or numbers.
"""

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status

from okno.core.errors import FieldError
from okno.core.paging import RowId, limit_query, offset_query
from okno.deals.deal_extras import deal_extras
from okno.deals.deal_services import deal_create, deal_data_clean, deal_move_to_stage, deal_update
from okno.deals.models import Deal, Stage
from okno.deals.selectors import DealFilters, deal_get, deal_list, pipelines_visible

router = Router(tags=["deals"])

Money = str | int | float


class LineIn(Schema):
    name: str = ""
    sku: str | int = ""
    quantity: Money = 1
    price: Money = 0


class DealIn(Schema):
    pipeline_id: int
    stage_id: int | None = None
    title: str | None = None
    amount: Money | None = None
    currency: str | None = None
    contact_id: int | None = None
    company_id: int | None = None
    responsible_id: int | None = None
    source: str | None = None
    utm: dict | None = None
    custom: dict | None = None
    external_id: str | None = None
    lines: list[LineIn] | None = None


class DealPatch(Schema):
    title: str | None = None
    amount: Money | None = None
    currency: str | None = None
    contact_id: int | None = None
    company_id: int | None = None
    responsible_id: int | None = None
    source: str | None = None
    utm: dict | None = None
    custom: dict | None = None
    external_id: str | None = None
    lines: list[LineIn] | None = None
    # Given: the deal is moved after the other changes, as POST /move would.
    stage_id: int | None = None
    lost_reason: str | int | None = None


class MoveIn(Schema):
    stage_id: int
    lost_reason: str | int | None = None


class LineOut(Schema):
    id: int
    name: str
    sku: str
    quantity: str
    price: str
    total: str


class DealStageOut(Schema):
    id: int
    name: str
    kind: str


class DealOut(Schema):
    id: int
    pipeline_id: int
    stage_id: int
    stage: DealStageOut
    title: str
    amount: str
    currency: str
    contact_id: int | None
    company_id: int | None
    lead_id: int | None
    conversation_id: int | None
    responsible_id: int | None
    department_id: int | None
    source: str
    utm: dict
    custom: dict
    external_id: str
    lost_reason_id: int | None
    is_overdue: bool
    stage_entered_at: datetime
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    lines: list[LineOut]


class DealDetailOut(DealOut):
    deadlines: list[dict]
    extras: dict


def deal_out(deal: Deal) -> dict:
    return {
        "id": deal.pk, "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id,
        "stage": {"id": deal.stage.pk, "name": deal.stage.name, "kind": deal.stage.kind},
        "title": deal.title, "amount": str(deal.amount), "currency": deal.currency,
        "contact_id": deal.contact_id, "company_id": deal.company_id, "lead_id": deal.lead_id,
        "conversation_id": deal.conversation_id, "responsible_id": deal.responsible_id,
        "department_id": deal.department_id, "source": deal.source, "utm": deal.utm, "custom": deal.custom,
        "external_id": deal.external_id, "lost_reason_id": deal.lost_reason_id, "is_overdue": deal.is_overdue,
        "stage_entered_at": deal.stage_entered_at, "closed_at": deal.closed_at, "created_at": deal.created_at,
        "updated_at": deal.updated_at,
        "lines": [{"id": line.pk, "name": line.name, "sku": line.sku, "quantity": str(line.quantity),
                   "price": str(line.price), "total": str(line.total)} for line in deal.lines.all()],
    }


def deal_detail_out(deal: Deal) -> dict:
    """The deal with what other domains add (robots' `deadlines`; always present, [] by default)."""
    extras = deal_extras(deal)
    body = deal_out(deal)
    body["deadlines"] = extras.pop("deadlines")
    body["extras"] = extras
    return body


def deal_saved(pk: int) -> Deal:
    """The deal as a write left it, for the answer to that write: the person who made the change
    sees its result even when it took the deal outside what they may see (a new responsible)."""
    return Deal.objects.select_related("stage").get(pk=pk)


def _stage(stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise FieldError({"stage_id": "no such stage"})
    return stage


def _raw(payload: Schema, **kwargs) -> dict:
    raw = payload.dict(**kwargs)
    if raw.get("lines") is not None:
        raw["lines"] = [dict(line) for line in raw["lines"]]
    return raw


@router.post("/deals", response={201: DealDetailOut})
def create_deal(request: HttpRequest, payload: DealIn):
    """A new deal; it enters the pipeline's first open stage unless `stage_id` names another."""
    raw = _raw(payload, exclude_unset=True)
    pipeline = pipelines_visible(user=request.auth).filter(pk=raw.pop("pipeline_id")).first()
    if pipeline is None:
        raise FieldError({"pipeline_id": "no such pipeline"})
    data = deal_data_clean(raw, pipeline=pipeline, actor=request.auth)
    deal = deal_create(actor=request.auth, pipeline=pipeline, data=data, via="api")
    return Status(201, deal_detail_out(deal_saved(deal.pk)))


@router.get("/deals", response=list[DealOut])
def list_deals(request: HttpRequest, pipeline: RowId | None = None, stage: RowId | None = None,
               responsible: RowId | None = None, contact: RowId | None = None, company: RowId | None = None,
               q: str = "", created_from: datetime | None = None, created_to: datetime | None = None,
               overdue: bool | None = None, limit: int = limit_query(100, le=1000), offset: int = offset_query(),
               contact_id: RowId | None = None, pipeline_id: RowId | None = None):
    """Newest first. `created_from` inclusive, `created_to` exclusive (ISO 8601 with an offset).
    `contact_id` and `pipeline_id` are the same filters as `contact` and `pipeline`."""
    filters = DealFilters(responsible_id=responsible, contact_id=contact or contact_id, company_id=company, q=q,
                          created_from=created_from, created_to=created_to, overdue=overdue)
    qs = deal_list(user=request.auth, pipeline_id=pipeline or pipeline_id, stage_id=stage, filters=filters)
    return [deal_out(d) for d in qs.prefetch_related("lines")[offset:offset + limit]]


@router.get("/deals/{int:deal_id}", response=DealDetailOut)
def get_deal(request: HttpRequest, deal_id: int):
    return deal_detail_out(deal_get(user=request.auth, pk=deal_id))


@router.patch("/deals/{int:deal_id}", response=DealDetailOut)
def update_deal(request: HttpRequest, deal_id: int, payload: DealPatch):
    deal = deal_get(user=request.auth, pk=deal_id)
    raw = _raw(payload, exclude_unset=True)
    stage_id, reason = raw.pop("stage_id", None), raw.pop("lost_reason", None)
    stage = _stage(stage_id) if stage_id is not None else None
    data = deal_data_clean(raw, pipeline=deal.pipeline, partial=True, actor=request.auth)
    with transaction.atomic():
        deal = deal_update(actor=request.auth, deal=deal, data=data, via="api")
        if stage is not None:
            deal_move_to_stage(deal=deal, stage=stage, actor=request.auth, via="api", reason=reason)
    return deal_detail_out(deal_saved(deal_id))


@router.post("/deals/{int:deal_id}/move", response=DealDetailOut)
def move_deal(request: HttpRequest, deal_id: int, payload: MoveIn):
    """Moves the deal; 400 naming the field when the stage's required fields are empty."""
    deal = deal_get(user=request.auth, pk=deal_id)
    deal_move_to_stage(deal=deal, stage=_stage(payload.stage_id), actor=request.auth, via="api",
                       reason=payload.lost_reason)
    return deal_detail_out(deal_saved(deal_id))


class StageChangeOut(Schema):
    id: int
    from_stage_id: int | None
    to_stage_id: int
    actor_id: int | None
    via: str
    at: datetime


@router.get("/deals/{int:deal_id}/history", response=list[StageChangeOut])
def deal_history(request: HttpRequest, deal_id: int):
    """Every move of the deal, oldest first (the first one from no stage: its creation)."""
    return list(deal_get(user=request.auth, pk=deal_id).stage_changes.all())
