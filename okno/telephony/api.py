"""/api/v1/calls: calls on the cards a user may see."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from okno.core.paging import RowId, limit_query
from okno.telephony.click_to_call import call_request
from okno.telephony.models import Call
from okno.telephony.recordings import recording_url
from okno.telephony.selectors import calls_visible

router = Router(tags=["calls"])


class CallOut(Schema):
    id: int
    direction: str
    outcome: str
    customer_number: str
    line: str
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: int | None
    talk_seconds: int | None
    employee_id: int | None
    contact_id: int | None
    recording_url: str

    @staticmethod
    def resolve_recording_url(call: Call) -> str:
        # Our own URL (session auth, the card's visibility), never the PBX's: "" until fetched.
        return recording_url(call)


def _visible(request: HttpRequest):
    return calls_visible(user=request.auth).select_related("recording")


@router.get("/calls", response=list[CallOut])
def list_calls(request: HttpRequest, contact: RowId | None = None, from_: datetime | None = Query(None, alias="from"),
               to: datetime | None = None, limit: int = limit_query(100, le=1000)):
    qs = _visible(request)
    if contact is not None:
        qs = qs.filter(contact_id=contact)
    if from_ is not None:
        qs = qs.filter(started_at__gte=from_)
    if to is not None:
        qs = qs.filter(started_at__lt=to)
    return list(qs[:limit])


@router.get("/calls/{int:call_id}", response=CallOut)
def get_call(request: HttpRequest, call_id: int):
    return get_object_or_404(_visible(request), pk=call_id)


class CallRequestIn(Schema):
    contact_id: int | None = None
    number: str = ""


class CallRequestOut(Schema):
    id: int
    status: str
    number: str
    extension: str
    contact_id: int | None
    command_id: str


@router.post("/calls", response={202: CallRequestOut})
def place_call(request: HttpRequest, body: CallRequestIn):
    """Click-to-call: the PBX rings your extension, then the customer; the call shows on the card
    from the PBX's events."""
    return Status(202, call_request(actor=request.auth, contact_id=body.contact_id, number=body.number))
