"""/api/v1/calendars: business calendars, and a due-time check on one of them."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from okno.core.calendar import NoWorkingTime, work_calendar
from okno.core.calendar_services import calendar_create, calendar_update
from okno.core.durations import format_iso_duration, parse_iso_duration
from okno.core.errors import FieldError
from okno.core.models import Calendar

router = Router(tags=["calendars"])


class CalendarIn(Schema):
    # Loose types on purpose: calendar_clean names the wrong field in a 400 ("hours.mon").
    name: Any = None
    timezone: Any = None
    hours: Any = None
    country: Any = None
    extra_days_off: Any = None
    extra_working_days: Any = None
    is_default: bool | None = None


class CalendarOut(Schema):
    id: int
    name: str
    timezone: str
    hours: dict[str, str]
    country: str
    extra_days_off: list[str]
    extra_working_days: list[str]
    is_default: bool


class DueQuery(Schema):
    start: str | None = None
    within: str | None = None
    until: Literal["end_of_working_day"] | None = None
    time: Literal["working", "wall"] = "working"


class DueOut(Schema):
    start: datetime
    due_at: datetime
    within: str | None
    until: str | None
    time: str


def _given(payload: CalendarIn) -> dict:
    return {k: v for k, v in payload.dict(exclude_unset=True).items()}


@router.post("/calendars", response={201: CalendarOut})
def create(request: HttpRequest, payload: CalendarIn):
    return Status(201, calendar_create(actor=request.auth, data=_given(payload)))


@router.get("/calendars", response=list[CalendarOut])
def list_(request: HttpRequest):
    return list(Calendar.objects.all())


@router.get("/calendars/{int:calendar_id}", response=CalendarOut)
def detail(request: HttpRequest, calendar_id: int):
    return get_object_or_404(Calendar, pk=calendar_id)


@router.patch("/calendars/{int:calendar_id}", response=CalendarOut)
def update(request: HttpRequest, calendar_id: int, payload: CalendarIn):
    cal = get_object_or_404(Calendar, pk=calendar_id)
    return calendar_update(actor=request.auth, calendar=cal, data=_given(payload))


@router.get("/calendars/{int:calendar_id}/due", response=DueOut)
def due(request: HttpRequest, calendar_id: int, query: Query[DueQuery]):
    """When something started at `start` (default now) is due `within` a duration, or `until`
    the end of the working day, counted in working or wall time on this calendar."""
    cal = work_calendar(get_object_or_404(Calendar, pk=calendar_id))
    start = timezone.now()
    if query.start:
        try:
            start = datetime.fromisoformat(query.start.replace("Z", "+00:00"))
        except ValueError:
            raise FieldError({"start": "must be an ISO 8601 time such as 2025-10-31T17:50:00+03:00"}) from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=cal.zone)
    if bool(query.within) == bool(query.until):
        raise FieldError({"within": "give either within (an ISO 8601 duration) or until=end_of_working_day"})
    try:
        if query.until:
            due_at = cal.end_of_working_day(start)
        else:
            try:
                duration = parse_iso_duration(query.within)
            except ValueError as exc:
                raise FieldError({"within": str(exc)}) from None
            due_at = cal.add(start, duration, working=query.time == "working").astimezone(cal.zone)
    except NoWorkingTime as exc:
        raise FieldError({"hours": str(exc)}) from None
    return {"start": start, "due_at": due_at, "until": query.until, "time": query.time,
            "within": format_iso_duration(parse_iso_duration(query.within)) if query.within else None}
