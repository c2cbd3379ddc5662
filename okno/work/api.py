"""/api/v1/work-items: a card's work items, visible as the card is; /api/v1/work/next: the queue."""

import json
from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from okno.core.errors import ErrorOut, FieldError
from okno.core.paging import RowId, limit_query
from okno.people.models import Department
from okno.work import queue
from okno.work.selectors import work_items_visible
from okno.work.services import workitem_done

router = Router(tags=["work items"])


class WorkItemOut(Schema):
    id: int
    kind: str
    status: str
    contact_id: int | None
    number: str
    assignee_id: int | None
    department_id: int | None
    due_at: datetime
    repeats: int
    created_at: datetime
    closed_at: datetime | None
    closed_reason: str
    title: str
    deal_id: int | None


class DoneIn(Schema):
    reason: str = ""


class CloseIn(Schema):
    outcome: str
    note: str = ""
    next_at: datetime | None = None
    # The lost reason (id or name from the list) for not_interested on an item with an open lead.
    lost_reason: str | int | None = None
    # not_interested: which of the customer's open deals is lost (default: the item's deal, else its lead).
    lose_deal_id: int | None = None


class WorkSettingsOut(Schema):
    department_id: int
    priorities: dict[str, int]
    daily_capacity: int
    max_break_minutes: int
    dormant_after_days: int
    retry_minutes: int
    wrap_up_seconds: int
    # Managers take the department's queue items only by Next (not on "My work").
    next_only: bool


def _settings_out(row) -> dict:
    return {"department_id": row.department_id, "priorities": row.rank(), "daily_capacity": row.daily_capacity,
            "max_break_minutes": row.max_break_minutes, "dormant_after_days": row.dormant_after_days,
            "retry_minutes": row.retry_minutes, "wrap_up_seconds": row.wrap_up_seconds,
            "next_only": row.next_only}


def _json_body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise FieldError({"body": "must be JSON"}) from None
    if not isinstance(body, dict):
        raise FieldError({"body": "must be a JSON object"})
    return body


@router.get("/work-items", response=list[WorkItemOut])
def list_work_items(request: HttpRequest, contact: RowId | None = None, kind: str = "", status: str = "",
                    limit: int = limit_query(100, le=1000)):
    qs = work_items_visible(request.auth)
    if contact is not None:
        qs = qs.filter(contact_id=contact)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])


@router.post("/work-items/{int:item_id}/done", response=WorkItemOut)
def done_work_item(request: HttpRequest, item_id: int, payload: DoneIn | None = None):
    """Closes the item as done (a second call changes nothing); robots listening to
    `workitem.done` on the deal's stage run."""
    item = get_object_or_404(work_items_visible(request.auth), pk=item_id)
    return workitem_done(actor=request.auth, item=item, reason=payload.reason if payload else "")


# These read their JSON body themselves (to name each refused field), so they declare what a
# body can be refused with.
BODY_ERRORS = {"x-okno-errors": [400, 404, 413, 422]}


@router.post("/work-items", response={201: WorkItemOut, 409: ErrorOut}, openapi_extra=BODY_ERRORS)
def create_work_item(request: HttpRequest):
    """An item by hand: `{kind, contact_id, assignee_id | department_id, due_at | due_date, title}`.
    A person's full day answers 409 with `next_free_day`."""
    return Status(201, queue.workitem_create(actor=request.auth, data=_json_body(request)))


@router.post("/work-items/{int:item_id}/close", response={200: WorkItemOut, 409: ErrorOut})
def close_work_item(request: HttpRequest, item_id: int, payload: CloseIn):
    """The call's outcome: done, no_answer (retry later), call_back (at next_at, capacity checked),
    not_interested (closed; the chosen deal, else the item's deal, else its lead lost with lost_reason)."""
    item = get_object_or_404(work_items_visible(request.auth), pk=item_id)
    return queue.workitem_close(actor=request.auth, item=item, outcome=payload.outcome, note=payload.note,
                                next_at=payload.next_at, lost_reason=payload.lost_reason,
                                lose_deal_id=payload.lose_deal_id)


class AssignIn(Schema):
    assignee_id: int


@router.post("/work-items/{int:item_id}/assign", response={200: WorkItemOut, 409: ErrorOut})
def assign_work_item(request: HttpRequest, item_id: int, payload: AssignIn):
    """A head gives an open item of their queue to one of their people (capacity checked)."""
    item = get_object_or_404(work_items_visible(request.auth), pk=item_id)
    return queue.workitem_assign(actor=request.auth, item=item, assignee_id=payload.assignee_id)


@router.post("/work/next", response={200: WorkItemOut, 204: None, 409: ErrorOut})
def next_work_item(request: HttpRequest):
    """The caller's next item, claimed for them (never handed to two people); 204 when nothing is due."""
    item = queue.workitem_next(actor=request.auth)
    if item is None:
        return Status(204, None)
    return item


@router.get("/departments/{int:department_id}/work-settings", response=WorkSettingsOut)
def get_work_settings(request: HttpRequest, department_id: int):
    department = get_object_or_404(Department, pk=department_id)
    queue.access_department_settings(actor=request.auth, department=department, write=False)
    row = queue.work_settings_for(department)
    return _settings_out(row)


@router.put("/departments/{int:department_id}/work-settings", response=WorkSettingsOut,
            openapi_extra=BODY_ERRORS)
def put_work_settings(request: HttpRequest, department_id: int):
    """`{"priorities": {"callback": 1, ...}, "daily_capacity": 40, "max_break_minutes": 15,
    "dormant_after_days": 90, "retry_minutes": 60, "wrap_up_seconds": 30, "next_only": false}`; fields left out
    keep their value."""
    department = get_object_or_404(Department, pk=department_id)
    row = queue.work_settings_update(actor=request.auth, department=department, data=_json_body(request))
    return _settings_out(row)


# -- manager states (issue 18: the board, the dialer and the max-break rule read them) ----------

class AgentStateIn(Schema):
    state: str
    item_id: int | None = None


class AgentStateOut(Schema):
    user_id: int
    state: str
    since: datetime
    item_id: int | None


def _state_out(row) -> dict:
    return {"user_id": row.user_id, "state": row.state, "since": row.since, "item_id": row.item_id}


@router.get("/work/state", response=AgentStateOut)
def get_agent_state(request: HttpRequest):
    """The caller's state: idle, on_call, wrap_up, break or offline (offline until first set)."""
    from okno.work.states import agent_state_of

    return _state_out(agent_state_of(request.auth))


@router.post("/work/state", response={200: AgentStateOut, 403: ErrorOut})
def set_agent_state(request: HttpRequest, payload: AgentStateIn):
    """`{"state": "break"}`, or `{"state": "on_call", "item_id": 12}` for an item the caller holds."""
    from okno.work.states import agent_state_set_by

    return _state_out(agent_state_set_by(actor=request.auth, state=payload.state, item_id=payload.item_id))


# -- supervisor board (issue 18) -----------------------------------------------------------------

@router.get("/work/board", response={200: dict, 403: ErrorOut, 404: ErrorOut})
def get_work_board(request: HttpRequest, department: RowId | None = None):
    """Heads and administrators: each manager's state and since when, items done today, average
    handle time (call + wrap-up per item, seconds), the queue's due items per kind and the oldest."""
    from okno.work.board import board_for, board_summary

    return board_summary(board_for(actor=request.auth, department_id=department))


@router.get("/work/queue", response={200: dict, 403: ErrorOut, 404: ErrorOut})
def get_work_queue(request: HttpRequest, department: RowId | None = None):
    """Heads and administrators: the unassigned items of their departments' queues, per kind (rank,
    due now, later, the oldest due) and listed in Next's order (at most 200), with the people an
    item can be given to (`POST /work-items/{id}/assign`). Managers: 403."""
    from okno.work.queue_view import queue_view_for, queue_view_summary

    return queue_view_summary(queue_view_for(actor=request.auth, department_id=department))


# -- auto-dialer (issue 18) ----------------------------------------------------------------------

class DialerSettingsOut(Schema):
    department_id: int
    enabled: bool
    channel_id: int | None
    lines: int
    ring_seconds: int
    max_attempts: int
    lines_busy: int


class DialAttemptOut(Schema):
    id: int
    item_id: int
    operator_id: int
    number: str
    extension: str
    status: str
    reason: str
    created_at: datetime


def _dialer_out(row) -> dict:
    from okno.work.dialer import lines_busy

    return {"department_id": row.department_id, "enabled": row.enabled, "channel_id": row.channel_id,
            "lines": row.lines, "ring_seconds": row.ring_seconds, "max_attempts": row.max_attempts,
            "lines_busy": lines_busy(row)}


@router.get("/departments/{int:department_id}/dialer", response=DialerSettingsOut)
def get_dialer_settings(request: HttpRequest, department_id: int):
    from okno.work.dialer import dialer_settings_for

    department = get_object_or_404(Department, pk=department_id)
    queue.access_department_settings(actor=request.auth, department=department, write=False)
    return _dialer_out(dialer_settings_for(department))


@router.put("/departments/{int:department_id}/dialer", response=DialerSettingsOut, openapi_extra=BODY_ERRORS)
def put_dialer_settings(request: HttpRequest, department_id: int):
    """`{"enabled": true, "channel_id": 3, "lines": 10, "ring_seconds": 30, "max_attempts": 3}`;
    fields left out keep their value; turning it on needs a line that can dial (Asterisk, Telphin)."""
    from okno.work.dialer import dialer_settings_update

    department = get_object_or_404(Department, pk=department_id)
    return _dialer_out(dialer_settings_update(actor=request.auth, department=department, data=_json_body(request)))


@router.post("/work/dialer/dial", response={202: DialAttemptOut, 204: None, 409: ErrorOut},
             openapi_extra={"x-okno-errors": [400]})
def dial_next(request: HttpRequest):
    """The caller (an idle operator of a department whose auto-dialer is on) gets their next item's
    call placed now: 202 with the attempt (the worker dials), 204 when nothing is due, 409 with the
    reason when it cannot be placed (dialer off, not free, a call in flight, no free line)."""
    from okno.work.dialer import dial_attempt_plan

    attempt = dial_attempt_plan(operator=request.auth)
    if attempt is None:
        return Status(204, None)
    return Status(202, attempt)
