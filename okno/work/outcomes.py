"""Closing a work item with the call's outcome: done, no answer, call back at a time, not
interested (the lead or a deal lost). docs/work.md, "Closing with an outcome"."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.errors import ApiError, FieldError
from okno.people.models import User
from okno.work.booking import MAX_AHEAD, _is_id, capacity_check
from okno.work.models import WorkItem
from okno.work.queue_settings import work_settings_for_id
from okno.work.services import manager_shift_mark, workitem_done


class Outcome:
    DONE = "done"
    NO_ANSWER = "no_answer"
    CALL_BACK = "call_back"
    NOT_INTERESTED = "not_interested"
    ALL = (DONE, NO_ANSWER, CALL_BACK, NOT_INTERESTED)


def access_workitem_outcome(*, actor: User, item: WorkItem) -> None:
    """Outcomes are the assignee's; heads and administrators may record them for their people."""
    if item.assignee_id == actor.pk or actor.is_admin or actor.role == User.Role.HEAD:
        return
    raise ApiError(_("This item is not yours"), status=403)


@transaction.atomic
def workitem_close(*, actor: User, item: WorkItem, outcome: str, note: str = "", next_at: datetime | None = None,
                   lost_reason: str | int | None = None, lose_deal_id: int | None = None,
                   now: datetime | None = None) -> WorkItem:
    """Records the call's outcome. done: closed. no_answer: due again after the department's
    retry minutes. call_back: due at `next_at` (the person's day capacity checked).
    not_interested: closed, and with `lost_reason` what the customer said no to is lost: the
    deal `lose_deal_id` (an open deal of the item's customer), else the item's open deal, else its
    open lead. Closing publishes `workitem.done` (as workitem_done); every outcome restarts the
    manager's break clock."""
    now = now or timezone.now()
    access_workitem_outcome(actor=actor, item=item)
    if outcome not in Outcome.ALL:
        raise FieldError({"outcome": "one of " + ", ".join(Outcome.ALL)})
    if item.status != WorkItem.Status.OPEN:
        raise ApiError(_("The item is closed already"), status=409)
    note = (note or "")[:180]
    if outcome == Outcome.DONE:
        item = workitem_done(actor=actor, item=item, reason=note or "done", mark_shift=False)
    elif outcome == Outcome.NO_ANSWER:
        rules = work_settings_for_id(item.department_id or actor.department_id)
        item.due_at = now + timedelta(minutes=rules.retry_minutes)
        WorkItem.objects.filter(pk=item.pk).update(due_at=item.due_at)
    elif outcome == Outcome.CALL_BACK:
        if next_at is None:
            raise FieldError({"next_at": "required for call_back"})
        if timezone.is_naive(next_at):
            next_at = timezone.make_aware(next_at)
        if next_at <= now:
            raise FieldError({"next_at": "is in the past"})
        if next_at > now + MAX_AHEAD:
            raise FieldError({"next_at": "is more than 5 years ahead"})
        if item.assignee is not None:
            capacity_check(user=item.assignee, due_at=next_at, exclude_pk=item.pk)
        WorkItem.objects.filter(pk=item.pk).update(due_at=next_at)
        item.due_at = next_at
    else:
        _lose_what_was_refused(actor=actor, item=item, lost_reason=lost_reason, lose_deal_id=lose_deal_id)
        item = workitem_done(actor=actor, item=item, reason=("not_interested: " + note) if note else "not_interested",
                             mark_shift=False)
    if item.assignee_id:
        manager_shift_mark(user_id=item.assignee_id, at=now)
    # Read back only what others may have changed meanwhile (a deal lost, a robot): the done path
    # read the row already, the other outcomes changed only due_at, set above.
    return item


def _lose_what_was_refused(*, actor: User, item: WorkItem, lost_reason, lose_deal_id) -> None:
    """not_interested: the chosen deal (or the item's open deal) moves to its pipeline's lost
    stage through deal_move_to_stage, else the item's open lead is lost through lead_lose; either
    with a reason of the list (400 naming `lost_reason` without one)."""
    from okno.deals.deal_services import deal_move_to_stage
    from okno.deals.lead_services import lead_lose
    from okno.deals.models import Deal, Lead, Stage
    from okno.people.visibility import deal_visibility_q

    deal = None
    if lose_deal_id is not None:
        deal = Deal.objects.filter(deal_visibility_q(actor), pk=lose_deal_id).first() if _is_id(lose_deal_id) \
            else None
        if deal is None or not item.contact_id or deal.contact_id != item.contact_id:
            raise FieldError({"lose_deal_id": "not a deal of this item's customer"})
        if deal.closed_at is not None:
            raise FieldError({"lose_deal_id": "the deal is closed already"})
    elif item.deal_id:
        deal = Deal.objects.filter(pk=item.deal_id, closed_at__isnull=True).first()
    lead = Lead.objects.filter(pk=item.lead_id).first() if item.lead_id and deal is None else None
    if lead is not None and lead.status not in (Lead.Status.NEW, Lead.Status.IN_WORK):
        lead = None
    if deal is None and lead is None:
        return
    if lost_reason in (None, ""):
        what = "deal" if deal is not None else "lead"
        raise FieldError({"lost_reason": f"required: the item's {what} is closed as lost with a reason"})
    if lead is not None:
        lead_lose(actor=actor, lead=lead, reason=lost_reason)
        return
    lost = deal.pipeline.stages.filter(kind=Stage.Kind.LOST).order_by("position", "id").first()
    if lost is None:
        raise FieldError({"lose_deal_id": "the deal's pipeline has no lost stage"})
    deal_move_to_stage(deal=deal, stage=lost, actor=actor, via="user", reason=lost_reason)
