"""The manager screen's services: Next opens an item and starts its call, an outcome closes it and
starts the wrap-up, a break is a break. docs/work.md, "The manager screen".

The screen is the queue's door for people (the API's `POST /work/next` and `/close` are the same
services underneath): Next claims through `workitem_next`, outcomes go through `workitem_close`,
states through `agent_state_set`, the call through telephony's click-to-call.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from okno.core.errors import ApiError, FieldError
from okno.people.models import User
from okno.telephony.click_to_call import call_request
from okno.telephony.models import CallRequest
from okno.work.models import WorkItem
from okno.work.models_states import AgentStatus
from okno.work.queue import work_settings_for, workitem_close, workitem_next
from okno.work.states import agent_state_of, agent_state_set

log = logging.getLogger(__name__)

# Seconds of wrap-up after an outcome when the department sets none: long enough to type a
# note, short enough that the next call is not forgotten.
DEFAULT_WRAP_UP_SECONDS = 30


@dataclass
class Opened:
    """What Next brought: the item (None: nothing is due), the call it started, or why it could not."""

    item: WorkItem | None
    call: CallRequest | None = None
    call_error: str = ""


def wrap_up_seconds_for(user: User) -> int:
    """The department's wrap-up time (its work settings), or the default."""
    rules = work_settings_for(user.department)
    value = getattr(rules, "wrap_up_seconds", None)
    return DEFAULT_WRAP_UP_SECONDS if value is None else int(value)


def _start_call(*, actor: User, item: WorkItem) -> tuple[CallRequest | None, str]:
    """Click-to-call for the item's customer (their first phone) or the number to call back; the
    reason as a person reads it when no call can be placed (no phone, no extension)."""
    try:
        if item.contact_id and item.contact.phones.exists():
            return call_request(actor=actor, contact_id=item.contact_id), ""
        if item.number:
            return call_request(actor=actor, number=item.number), ""
        return call_request(actor=actor, contact_id=item.contact_id), ""
    except FieldError as exc:
        return None, "; ".join(exc.by_field.values())
    except ApiError as exc:
        return None, exc.detail


def screen_next(*, actor: User, now: datetime | None = None) -> Opened:
    """Claims the caller's next item (workitem_next) and opens it: the call to the customer starts
    at once and the caller is on a call with the item. Nothing due: the caller is idle.

    Pressing Next while an item is open returns that item again without dialling twice: Next
    never skips (the queue's rule), and a second press must not ring the customer twice."""
    now = now or timezone.now()
    current = screen_current(user=actor)
    if current is not None and current[1] == AgentStatus.ON_CALL:
        return Opened(item=current[0], call=screen_call_request(user=actor, item=current[0]))
    item = workitem_next(actor=actor, now=now)
    if item is None:
        agent_state_set(user=actor, state=AgentStatus.IDLE, at=now)
        return Opened(item=None)
    agent_state_set(user=actor, state=AgentStatus.ON_CALL, item=item, at=now)
    call, error = _start_call(actor=actor, item=item)
    return Opened(item=item, call=call, call_error=error)


def screen_outcome(*, actor: User, item: WorkItem, outcome: str, note: str = "", next_at: datetime | None = None,
                   lost_reason: str | int | None = None, lose_deal_id: int | None = None,
                   now: datetime | None = None) -> WorkItem:
    """Records the outcome (workitem_close: done, no answer, call back at a time, not interested
    with the lead or a deal lost) and puts the caller in wrap-up on the item; after the
    department's wrap-up seconds the screen asks for the next one."""
    now = now or timezone.now()
    item = workitem_close(actor=actor, item=item, outcome=outcome, note=note, next_at=next_at,
                          lost_reason=lost_reason, lose_deal_id=lose_deal_id, now=now)
    if item.assignee_id == actor.pk:
        agent_state_set(user=actor, state=AgentStatus.WRAP_UP, item=item, at=now)
    return item


def screen_break(*, actor: User, now: datetime | None = None):
    """The caller steps away: the break clock (max break) runs from now; Next ends it."""
    return agent_state_set(user=actor, state=AgentStatus.BREAK, at=now)


def screen_current(*, user: User) -> tuple[WorkItem, str] | None:
    """The item on the caller's screen and the state they are in on it (on a call, wrap-up), or None.

    An item on a call stays the caller's until an outcome is recorded (a reload shows it again,
    and does not dial again)."""
    state = agent_state_of(user)
    if state.state not in (AgentStatus.ON_CALL, AgentStatus.WRAP_UP) or not state.item_id:
        return None
    item = WorkItem.objects.select_related("contact", "lead", "deal").filter(pk=state.item_id).first()
    if item is None:
        return None
    if state.state == AgentStatus.ON_CALL and (item.status != WorkItem.Status.OPEN or item.assignee_id != user.pk):
        return None  # taken away by a head or closed elsewhere meanwhile
    return item, state.state


def screen_call_request(*, user: User, item: WorkItem) -> CallRequest | None:
    """The click-to-call the item's opening placed (the newest of the caller's to the item's
    customer or number since the caller took the item)."""
    since = agent_state_of(user).since
    qs = CallRequest.objects.filter(requested_by=user, created_at__gte=since)
    if item.contact_id:
        qs = qs.filter(contact_id=item.contact_id)
    elif item.number:
        qs = qs.filter(number=item.number)
    else:
        return None
    return qs.order_by("-id").first()
