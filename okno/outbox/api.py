"""/api/v1/webhook-endpoints (and /api/v1/message-templates, from api_templates.py)."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from okno.core.paging import MAX_LIMIT
from okno.outbox import services
from okno.outbox.api_templates import router as templates_router
from okno.outbox.models import WebhookEndpoint
from okno.outbox.selectors import endpoint_deliveries

router = Router(tags=["webhook-endpoints"])
router.add_router("", templates_router)


class EndpointIn(Schema):
    url: str
    events: list[str]
    allow_private_network: bool = False
    description: str = ""


class EndpointOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    is_active: bool
    disabled_reason: str
    allow_private_network: bool
    created_at: datetime
    # Shown when the endpoint is created, and to administrators.
    secret: str | None = None


class DeliveryOut(Schema):
    id: int
    message_id: int
    webhook_id: str
    event: str
    attempt: int
    ok: bool
    status_code: int | None
    error: str
    duration_ms: int
    at: datetime
    message_status: str


class DeliveriesQuery(Schema):
    limit: int = Field(100, ge=1, le=MAX_LIMIT)


def _out(endpoint: WebhookEndpoint, *, show_secret: bool) -> dict:
    return {"id": endpoint.pk, "url": endpoint.url, "events": endpoint.events, "description": endpoint.description,
            "is_active": endpoint.is_active, "disabled_reason": endpoint.disabled_reason,
            "allow_private_network": endpoint.allow_private_network, "created_at": endpoint.created_at,
            "secret": endpoint.secret if show_secret else None}


def _admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_admin", False))


@router.post("/webhook-endpoints", response={201: EndpointOut})
def create_endpoint(request: HttpRequest, payload: EndpointIn):
    endpoint = services.webhook_endpoint_create(
        actor=request.user, url=payload.url, events=payload.events,
        allow_private_network=payload.allow_private_network, description=payload.description)
    return Status(201, _out(endpoint, show_secret=True))


@router.get("/webhook-endpoints", response=list[EndpointOut])
def list_endpoints(request: HttpRequest):
    return [_out(e, show_secret=_admin(request)) for e in WebhookEndpoint.objects.order_by("pk")]


@router.get("/webhook-endpoints/{endpoint_id}", response=EndpointOut)
def get_endpoint(request: HttpRequest, endpoint_id: int):
    return _out(get_object_or_404(WebhookEndpoint, pk=endpoint_id), show_secret=_admin(request))


@router.delete("/webhook-endpoints/{endpoint_id}", response={204: None})
def delete_endpoint(request: HttpRequest, endpoint_id: int):
    services.webhook_endpoint_delete(actor=request.user, endpoint=get_object_or_404(WebhookEndpoint, pk=endpoint_id))
    return Status(204, None)


@router.post("/webhook-endpoints/{endpoint_id}/enable", response=EndpointOut)
def enable_endpoint(request: HttpRequest, endpoint_id: int):
    endpoint = services.webhook_endpoint_enable(actor=request.user,
                                                endpoint=get_object_or_404(WebhookEndpoint, pk=endpoint_id))
    return _out(endpoint, show_secret=_admin(request))


class TestOut(Schema):
    message_id: int
    webhook_id: str


@router.post("/webhook-endpoints/{endpoint_id}/test", response={202: TestOut})
def test_endpoint(request: HttpRequest, endpoint_id: int):
    """Queues a signed `webhook.test` event to the endpoint; its try shows in the delivery log."""
    message = services.webhook_endpoint_test(actor=request.user,
                                             endpoint=get_object_or_404(WebhookEndpoint, pk=endpoint_id))
    return Status(202, {"message_id": message.pk, "webhook_id": message.key})


@router.get("/webhook-endpoints/{endpoint_id}/deliveries", response=list[DeliveryOut])
def list_deliveries(request: HttpRequest, endpoint_id: int, query: Query[DeliveriesQuery]):
    """The endpoint's delivery log, newest first: one row per try, with the message's current status."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    return [{"id": a.pk, "message_id": a.message_id, "webhook_id": a.message.key,
             "event": a.message.payload.get("event", ""), "attempt": a.attempt, "ok": a.ok,
             "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms, "at": a.at,
             "message_status": a.message.status}
            for a in endpoint_deliveries(endpoint=endpoint)[:query.limit]]
