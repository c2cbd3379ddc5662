"""The stores REST API (mounted at /api/v1 by okno/api.py): connections, and Okno's own store API.

Connections are an administrator's (403 otherwise). `PUT /stores/{id}/orders/{external_id}`
is how a shop of Okno's own kind upserts an order; the order is stored as an event first, then
taken at once: the answer says whether it became a deal or is held, and why.
"""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from okno.core.access import require_admin
from okno.core.errors import ApiError, ErrorOut, FieldError
from okno.stores import adapters
from okno.stores.adapters.base import StoreUnreachable
from okno.stores.connections import (
    settings_shown,
    store_connection_create,
    store_connection_update,
    store_events_retry,
    webhook_path,
)
from okno.stores.drains import store_event_process
from okno.stores.hooks import order_body
from okno.stores.models import StoreConnection, StoreEvent, StoreLog, StoreOrder

router = Router(tags=["stores"])
ADMIN_ONLY = "Only an administrator manages store connections"
Money = str | int | float


class StoreConnectionIn(Schema):
    kind: str
    name: str
    settings: dict = {}
    pipeline_id: int
    status_map: dict | list = {}


class StoreConnectionPatch(Schema):
    name: str | None = None
    settings: dict | None = None
    pipeline_id: int | None = None
    status_map: dict | list | None = None
    is_active: bool | None = None


class StoreConnectionOut(Schema):
    id: int
    kind: str
    name: str
    settings: dict
    pipeline_id: int
    status_map: dict
    webhook_url: str
    is_active: bool
    last_sync_at: datetime | None
    last_error: str
    problems: int


class StoreCustomerIn(Schema):
    name: str = ""
    phone: str | list[str] = ""
    email: str | list[str] = ""


class StoreLineIn(Schema):
    name: str
    sku: str | int = ""
    quantity: Money = 1
    price: Money = 0


class StoreOrderIn(Schema):
    number: str | int = ""
    status: str
    updated_at: datetime | None = None
    version: int | None = None
    customer: StoreCustomerIn = StoreCustomerIn()
    lines: list[StoreLineIn] = []
    total: Money | None = None
    currency: str = ""
    delivery: dict = {}
    payment: dict = {}
    comment: str = ""


class StoreOrderTakenOut(Schema):
    event_id: int
    status: str
    reason: str
    detail: str
    deal_id: int | None


class StoreEventOut(Schema):
    id: int
    source: str
    topic: str
    external_id: str
    status: str
    reason: str
    error: str
    attempts: int
    created_at: datetime


class StoreLogOut(Schema):
    id: int
    kind: str
    message: str
    order_id: int | None
    at: datetime


def connection_out(request: HttpRequest, connection: StoreConnection) -> dict:
    return {
        "id": connection.pk, "kind": connection.kind, "name": connection.name,
        "settings": settings_shown(connection), "pipeline_id": connection.pipeline_id,
        "status_map": {status: stage for status, stage in connection.status_map},
        "webhook_url": request.build_absolute_uri(webhook_path(connection)), "is_active": connection.is_active,
        "last_sync_at": connection.last_sync_at, "last_error": connection.last_error,
        "problems": connection.events.filter(status=StoreEvent.Status.PROBLEM).count(),
    }


def _connection(request: HttpRequest, pk: int) -> StoreConnection:
    require_admin(request.auth, ADMIN_ONLY)
    return get_object_or_404(StoreConnection, pk=pk)


@router.post("/stores", response={201: StoreConnectionOut})
def create_store(request: HttpRequest, payload: StoreConnectionIn):
    """A store connection; answers its `webhook_url` to paste into the store's webhook settings."""
    connection = store_connection_create(actor=request.auth, kind=payload.kind, name=payload.name,
                                         settings=payload.settings, pipeline_id=payload.pipeline_id,
                                         status_map=payload.status_map)
    return Status(201, connection_out(request, connection))


@router.get("/stores", response=list[StoreConnectionOut])
def list_stores(request: HttpRequest):
    require_admin(request.auth, ADMIN_ONLY)
    return [connection_out(request, c) for c in StoreConnection.objects.all()]


@router.get("/stores/{int:store_id}", response=StoreConnectionOut)
def get_store(request: HttpRequest, store_id: int):
    return connection_out(request, _connection(request, store_id))


@router.put("/stores/{int:store_id}", response=StoreConnectionOut)
def update_store(request: HttpRequest, store_id: int, payload: StoreConnectionPatch):
    """Changes what is given; a changed `status_map` retries the orders held for a missing status."""
    connection = store_connection_update(actor=request.auth, connection=_connection(request, store_id),
                                         data=payload.dict(exclude_unset=True))
    return connection_out(request, connection)


class StoreTestOut(Schema):
    ok: bool
    detail: str


@router.post("/stores/{int:store_id}/test", response=StoreTestOut)
def test_store(request: HttpRequest, store_id: int):
    """Calls the store's API once with the connection's settings and says what answered."""
    connection = _connection(request, store_id)
    try:
        return {"ok": True, "detail": adapters.get(connection.kind).test_connection(settings=connection.settings)}
    except StoreUnreachable as exc:
        return {"ok": False, "detail": str(exc)}


@router.put("/stores/{int:store_id}/orders/{external_id}",
            response={200: StoreOrderTakenOut, 202: StoreOrderTakenOut, 409: ErrorOut})
def upsert_order(request: HttpRequest, store_id: int, external_id: str, payload: StoreOrderIn):
    """Okno's own store API: creates or updates the order `external_id`. 200 when it is a deal;
    202 when it is kept but held (`reason`: no_contact, status_unmapped, stage_refused)."""
    connection = _connection(request, store_id)
    if connection.kind != StoreConnection.Kind.OKNO:
        raise ApiError("This connection takes orders by its store's webhooks, not by this API", status=409)
    external_id = external_id.strip()
    if not external_id or len(external_id) > 100:
        raise FieldError({"external_id": "must be 1 to 100 characters"})
    event = StoreEvent.objects.create(connection=connection, source=StoreEvent.Source.API, topic="upsert",
                                      external_id=external_id, body=order_body(external_id, payload.dict()))
    event = store_event_process(event)
    if event.status == StoreEvent.Status.REJECTED:
        raise FieldError({"body": event.error})
    order = StoreOrder.objects.filter(connection=connection, external_id=external_id).first()
    body = {"event_id": event.pk, "status": event.status, "reason": event.reason, "detail": event.error,
            "deal_id": order.deal_id if order else None}
    return Status(200 if event.status == StoreEvent.Status.DONE else 202, body)


@router.get("/stores/{int:store_id}/events", response=list[StoreEventOut])
def store_events(request: HttpRequest, store_id: int, status: str = ""):
    """The newest 200 stored orders of the connection (`status=problem`: the held ones)."""
    events = _connection(request, store_id).events.order_by("-pk")
    if status:
        events = events.filter(status=status)
    return list(events[:200])


@router.post("/stores/{int:store_id}/retry", response=dict)
def retry_store_events(request: HttpRequest, store_id: int):
    """Sends every held or failed order of the connection back to the drain."""
    return {"retried": store_events_retry(connection=_connection(request, store_id))}


@router.get("/stores/{int:store_id}/log", response=list[StoreLogOut])
def store_log(request: HttpRequest, store_id: int):
    return list(StoreLog.objects.filter(connection=_connection(request, store_id)).order_by("-pk")[:200])
