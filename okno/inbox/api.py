"""/api/v1/channels and /api/v1/inbound-events."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from okno.core.access import require_admin
from okno.core.paging import limit_query
from okno.inbox.channels import channel_create, channel_rotate_secret, channel_webhook_url
from okno.inbox.models import Channel, InboundEvent
from okno.inbox.services import inbound_event_retry

router = Router(tags=["inbox"])


class ChannelIn(Schema):
    kind: str
    name: str
    settings: dict = {}
    department_id: int | None = None
    fallback_user_id: int | None = None


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    webhook_url: str
    secret: str
    department_id: int | None
    fallback_user_id: int | None


class EventOut(Schema):
    id: int
    channel_id: int
    received_at: datetime
    event_type: str
    status: str
    attempts: int
    error: str


def _channel_out(c: Channel) -> dict:
    return {"id": c.pk, "kind": c.kind, "name": c.name, "webhook_url": channel_webhook_url(c), "secret": c.secret,
            "department_id": c.department_id, "fallback_user_id": c.fallback_user_id}


@router.post("/channels", response={201: ChannelOut})
def create_channel(request: HttpRequest, payload: ChannelIn):
    channel = channel_create(actor=request.auth, kind=payload.kind, name=payload.name, settings_=payload.settings,
                             department_id=payload.department_id, fallback_user_id=payload.fallback_user_id)
    return Status(201, _channel_out(channel))


@router.get("/channels", response=list[ChannelOut])
def list_channels(request: HttpRequest):
    require_admin(request.auth, "Only an administrator manages channels")
    return [_channel_out(c) for c in Channel.objects.order_by("pk")]


@router.post("/channels/{int:channel_id}/rotate-secret", response=ChannelOut)
def rotate_secret(request: HttpRequest, channel_id: int):
    require_admin(request.auth, "Only an administrator manages channels")
    return _channel_out(channel_rotate_secret(actor=request.auth, channel=get_object_or_404(Channel, pk=channel_id)))


@router.get("/inbound-events", response=list[EventOut])
def list_events(request: HttpRequest, status: str = "", limit: int = limit_query(100, le=1000)):
    require_admin(request.auth, "Only an administrator manages channels")
    qs = InboundEvent.objects.order_by("-pk").defer("body")
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])


@router.post("/inbound-events/{int:event_id}/retry", response=EventOut)
def retry_event(request: HttpRequest, event_id: int):
    require_admin(request.auth, "Only an administrator manages channels")
    event = get_object_or_404(InboundEvent.objects.defer("body"), pk=event_id)
    inbound_event_retry(event=event)
    event.refresh_from_db()
    return event
