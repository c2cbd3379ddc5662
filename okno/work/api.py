"""/api/v1/work-items: a card's work items, visible as the card is."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from okno.people.visibility import contact_visibility_q
from okno.work.models import WorkItem

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


@router.get("/work-items", response=list[WorkItemOut])
def list_work_items(request: HttpRequest, contact: int | None = None, kind: str = "", status: str = "",
                    limit: int = Query(100, ge=1, le=1000)):
    qs = WorkItem.objects.filter(contact_visibility_q(request.auth, prefix="contact__"))
    if contact is not None:
        qs = qs.filter(contact_id=contact)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return list(qs[:limit])
