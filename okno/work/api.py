"""/api/v1/work-items: a card's work items, visible as the card is."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from okno.core.paging import RowId, limit_query
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
