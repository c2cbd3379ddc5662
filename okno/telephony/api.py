"""/api/v1/calls: calls on the cards a user may see."""

from dataclasses import replace
from datetime import date, datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from okno.core.paging import RowId, limit_query
from okno.telephony.call_list import (
    FILTER_PARAMS,
    OUTCOMES,
    CallFilter,
    call_filter_parse,
    calls_filtered,
    invalid,
)
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


def _moment(params, name: str) -> tuple[date | None, datetime | None]:
    """`from`/`to`: a date (whole days in the company's time zone, both included, as the report
    counts them) or a date and time (`to` excluded, as before)."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None, None
    if len(raw) == 10:
        try:
            return date.fromisoformat(raw), None
        except ValueError:
            pass
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(name, "must be a date (YYYY-MM-DD) or a date and time (ISO 8601)") from None
    return None, at if timezone.is_aware(at) else timezone.make_aware(at)


@router.get("/calls", response=list[CallOut], openapi_extra={"x-okno-errors": [422]})
def list_calls(request: HttpRequest, contact: RowId | None = None,
               from_: str | None = Query(None, alias="from", description="a day (YYYY-MM-DD) or a moment"),
               to: str | None = Query(None, description="a day (included) or a moment (excluded)"),
               direction: str | None = Query(None, description="in, out or internal"),
               line: str | None = Query(None, description="the line (DID) as the PBX sent it"),
               department: str | None = Query(None, description="a department's id, or none"),
               employee: str | None = Query(None, description="a user's id, or none"),
               client: str | None = Query(None, description="a contact's id, or none"),
               tag: str | None = Query(None, description="a tag's id: calls of contacts with it"),
               outcome: list[str] = Query([], description=", ".join(OUTCOMES) + "; repeated: all of them"),
               limit: int = limit_query(100, le=1000)):
    """Calls on the cards you may see, newest first. The filters are the calls report's
    (docs/analytics.md): `outcome=missed_not_called_back` lists the calls behind that figure."""
    # Declared above for the schema; read (and refused by field) by the parser the calls page uses.
    params = request.GET.copy()
    for name in ("from", "to"):
        params.pop(name, None)
    f = call_filter_parse(params, known={*FILTER_PARAMS, "contact", "limit"} - {"from", "to"})
    start_day, start_at = _moment(request.GET, "from")
    end_day, end_at = _moment(request.GET, "to")
    if start_day and end_day and start_day > end_day:
        raise invalid("from", "must not be after to")
    f = replace(f, start=start_day, end=end_day)
    qs = _visible(request)
    if contact is not None:
        qs = qs.filter(contact_id=contact)
    if start_at is not None:
        qs = qs.filter(started_at__gte=start_at)
    if end_at is not None:
        qs = qs.filter(started_at__lt=end_at)
    if f == CallFilter():
        return list(qs[:limit])  # no report filter: calls in progress too, as before
    return list(calls_filtered(qs, f)[:limit])


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


from okno.telephony import api_extensions  # noqa: E402, F401 (its routes are on this router)
