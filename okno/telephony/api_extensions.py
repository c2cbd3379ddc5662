"""/api/v1/channels/{id}/extensions: who is behind each extension of a PBX channel
(administrators). The Unmatched extensions page names them too, through the same service."""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Schema, Status
from pydantic import Field

from okno.core.access import require_admin
from okno.core.paging import MAX_ID
from okno.inbox.models import Channel
from okno.telephony.api import router
from okno.telephony.models import PbxExtension
from okno.telephony.services import MAX_CODE, extension_add, extension_remove, require_pbx_channel


class ExtensionIn(Schema):
    code: str = Field(min_length=1, max_length=MAX_CODE)
    user_id: int = Field(ge=1, le=MAX_ID)


class ExtensionOut(Schema):
    id: int
    channel_id: int
    code: str
    user_id: int
    user_name: str


class ExtensionAddedOut(ExtensionOut):
    calls_updated: int  # calls already kept through the extension that now have the employee


def _out(e: PbxExtension, **extra) -> dict:
    return {"id": e.pk, "channel_id": e.channel_id, "code": e.code, "user_id": e.user_id,
            "user_name": e.user.display_name, **extra}


@router.get("/channels/{int:channel_id}/extensions", response=list[ExtensionOut], tags=["telephony"])
def list_extensions(request: HttpRequest, channel_id: int):
    require_admin(request.auth, "Only an administrator manages extensions")
    channel = get_object_or_404(Channel, pk=channel_id)
    require_pbx_channel(channel)
    return [_out(e) for e in channel.extensions.select_related("user").order_by("code")]


@router.post("/channels/{int:channel_id}/extensions", response={201: ExtensionAddedOut}, tags=["telephony"],
             openapi_extra={"x-okno-errors": [400, 409]})
def add_extension(request: HttpRequest, channel_id: int, body: ExtensionIn):
    """Names the employee behind an extension; 400 naming `channel` (not a PBX), `code` or
    `user_id` (no such active user), 409 naming `code` when the channel already has it."""
    channel = get_object_or_404(Channel, pk=channel_id)
    extension, updated = extension_add(actor=request.auth, channel=channel, code=body.code, user_id=body.user_id)
    return Status(201, _out(extension, calls_updated=updated))


@router.delete("/channels/{int:channel_id}/extensions/{code}", response={204: None}, tags=["telephony"])
def remove_extension(request: HttpRequest, channel_id: int, code: str):
    """Forgets the extension; the calls already kept keep their employee. 404 when there is none."""
    channel = get_object_or_404(Channel, pk=channel_id)
    if not extension_remove(actor=request.auth, channel=channel, code=code):
        raise Http404("No such extension")
    return Status(204, None)
