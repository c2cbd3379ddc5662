"""Work items: made and closed by the domains whose events call for them (a missed call)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.models import Contact
from okno.core import events
from okno.core.business_hours import BusinessHours
from okno.core.errors import ApiError
from okno.people.models import Department, User
from okno.work.models import ManagerShift, WorkItem


@transaction.atomic
def callback_for_missed_call(*, number: str, contact: Contact | None, department: Department | None,
                             missed_at: datetime, minutes: float | None = None,
                             hours: BusinessHours | None = None) -> WorkItem:
    """The open callback for this number, made or, when one is open already, folded into.

    Due `minutes` after the call, counted in the line's business `hours` when it has them.
    """
    open_item = (WorkItem.objects.select_for_update().filter(kind=WorkItem.Kind.CALLBACK, status=WorkItem.Status.OPEN,
                                                             number=number).order_by("pk").first())
    if open_item is not None:
        WorkItem.objects.filter(pk=open_item.pk).update(repeats=open_item.repeats + 1)
        open_item.repeats += 1
        return open_item
    minutes = settings.OKNO_CALLBACK_MINUTES if minutes is None else minutes
    assignee: User | None = contact.responsible if contact is not None and contact.responsible_id else None
    if assignee is not None and not assignee.is_active:
        assignee = None
    from okno.work.queue_live import workitem_announce

    item = WorkItem.objects.create(
        kind=WorkItem.Kind.CALLBACK, number=number, contact=contact, assignee=assignee,
        department=(assignee.department if assignee else None) or department,
        due_at=hours.add(missed_at, minutes) if hours is not None else missed_at + timedelta(minutes=minutes))
    workitem_announce(item)
    return item


def callbacks_close_for_number(*, number: str, reason: str) -> int:
    """Closes the open callbacks of a number a person has now talked to."""
    return WorkItem.objects.filter(kind=WorkItem.Kind.CALLBACK, status=WorkItem.Status.OPEN, number=number).update(
        status=WorkItem.Status.DONE, closed_at=timezone.now(), closed_reason=reason[:200])


@transaction.atomic
def workitem_done(*, actor: User | None, item: WorkItem, reason: str = "", mark_shift: bool = True) -> WorkItem:
    """Closes an open work item as done and tells robots and webhooks (`workitem.done`).

    Closing one already closed changes nothing and tells nobody again: the conditional UPDATE
    changes exactly one row the first time. `mark_shift=False`: the caller restarts the
    assignee's break clock itself (workitem_close, with its own time)."""
    now = timezone.now()
    reason = (reason or "done")[:200]
    closed = WorkItem.objects.filter(pk=item.pk, status=WorkItem.Status.OPEN).update(
        status=WorkItem.Status.DONE, closed_at=now, closed_reason=reason)
    if closed:
        # Only this UPDATE changed it (status open -> done): no read-back needed.
        item.status, item.closed_at, item.closed_reason = WorkItem.Status.DONE, now, reason
    else:
        item.refresh_from_db()
    if closed:
        events.publish("workitem.done", subject=item, actor=actor, at=now, data={
            "workitem_id": item.pk, "kind": item.kind, "deal_id": item.deal_id, "contact_id": item.contact_id,
            "assignee_id": item.assignee_id, "actor_id": actor.pk if actor else None, "at": now.isoformat()})
        if item.assignee_id and mark_shift:
            manager_shift_mark(user_id=item.assignee_id, at=now)
    return item


def manager_shift_mark(*, at: datetime, user: User | None = None, user_id: int | None = None) -> None:
    """Records that the manager closed an item at `at` (the queue's max-break clock)."""
    user_id = user.pk if user is not None else user_id
    if ManagerShift.objects.filter(user_id=user_id).update(last_closed_at=at) == 0:
        try:
            with transaction.atomic():
                ManagerShift.objects.create(user_id=user_id, last_closed_at=at)
        except IntegrityError:  # made by a parallel close a moment ago
            ManagerShift.objects.filter(user_id=user_id).update(last_closed_at=at)


class WorkItemTaken(Exception):
    """Someone else took the item first."""


@transaction.atomic
def workitem_take(*, actor: User, item: WorkItem) -> WorkItem:
    """Takes an unassigned item of the department's queue: the first to press "Take" gets it
    (a conditional UPDATE; the second is told who has it). A manager whose department serves its
    queue only by Next may not (403)."""
    from okno.work.queue_settings import picks_only_by_next

    if item.assignee_id is None and picks_only_by_next(actor):
        raise ApiError(_("Items of your department's queue come by Next on the manager screen"), status=403)
    taken = WorkItem.objects.filter(pk=item.pk, status=WorkItem.Status.OPEN, assignee__isnull=True).update(
        assignee=actor, department=actor.department or item.department)
    item.refresh_from_db()
    if not taken and item.assignee_id != actor.pk:
        raise WorkItemTaken(item.assignee.display_name if item.assignee else "")
    return item
