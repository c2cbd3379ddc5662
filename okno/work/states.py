"""Manager states: what the supervisor board shows, the auto-dialer waits for and the max-break
rule reads. `agent_state_set` is the only writer: it moves the current row and keeps the history
(one `AgentStateEvent` per stretch) so that handle time and breaks can be counted later."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.errors import ApiError, FieldError
from okno.people.models import User
from okno.work.models import WorkItem
from okno.work.models_states import AgentState, AgentStateEvent, AgentStatus

logger = logging.getLogger(__name__)

# States that belong to an item; the others never carry one.
ITEM_STATES = (AgentStatus.ON_CALL, AgentStatus.WRAP_UP)
# Time spent on an item: the call and the wrap-up after it (average handle time).
HANDLE_STATES = ITEM_STATES
# Not working and not waiting for work: the max-break clock runs.
AWAY_STATES = (AgentStatus.BREAK, AgentStatus.OFFLINE)


# Called after each committed change (the live board registers here; okno/work/board_live.py).
_listeners: list[Callable[[AgentState], None]] = []


def on_state_change(fn: Callable[[AgentState], None]) -> None:
    if fn not in _listeners:
        _listeners.append(fn)


def _state_changed(row: AgentState) -> None:
    """Tells the listeners; best effort: the state is saved whether or not anyone hears it."""
    for fn in _listeners:
        try:
            fn(row)
        except Exception:  # noqa: BLE001 - a listener's failure must not undo a committed state
            logger.exception("state listener %r failed", fn)


@transaction.atomic
def agent_state_set(*, user: User, state: str, item: WorkItem | None = None, at: datetime | None = None) -> AgentState:
    """Moves the manager to `state` (on `item` for on_call / wrap_up) at `at` (now by default).

    The same state on the same item again changes nothing (a second click, a repeated PBX
    event). A time earlier than the current state's start (events arriving out of order) counts
    from that start, so stretches never overlap and never run backwards."""
    if state not in AgentStatus.values:
        raise FieldError({"state": "one of " + ", ".join(AgentStatus.values)})
    if state not in ITEM_STATES:
        item = None
    at = at or timezone.now()
    row = _current_locked(user)
    if row is None:
        try:
            with transaction.atomic():
                row = AgentState.objects.create(user=user, state=state, since=at, item=item)
        except IntegrityError:  # made by a parallel call a moment ago
            row = AgentState.objects.select_for_update().get(user=user)
            row.user = user
        else:
            AgentStateEvent.objects.create(user=user, state=state, item=item, started_at=at)
            transaction.on_commit(lambda: _state_changed(row))
            return row
    item_id = item.pk if item is not None else None
    if row.state == state and row.item_id == item_id:
        return row
    at = max(at, row.since)
    if settings.IS_POSTGRES:
        from okno.work.next_sql import state_move_postgres

        state_move_postgres(user_id=user.pk, state=state, item_id=item_id, at=at)
    else:
        AgentStateEvent.objects.filter(user=user, ended_at__isnull=True).update(ended_at=at)
        AgentStateEvent.objects.create(user=user, state=state, item=item, started_at=at)
        AgentState.objects.filter(user=user).update(state=state, since=at, item=item)
    row.state, row.since, row.item = state, at, item
    transaction.on_commit(lambda: _state_changed(row))
    return row


def _current_locked(user: User) -> AgentState | None:
    """The person's current row, locked until the transaction ends (two changes of one person
    queue; SQLite's one writer does the same), with the person attached: the listeners read the
    department from it without a second read."""
    if settings.IS_POSTGRES:
        from okno.work.next_sql import state_locked_postgres

        found = state_locked_postgres(user_id=user.pk)
        if found is None:
            return None
        state, since, item_id = found
        row = AgentState(user_id=user.pk, state=state, since=since, item_id=item_id)
    else:
        row = AgentState.objects.select_for_update().filter(user=user).first()
        if row is None:
            return None
    row.user = user
    return row


def agent_state_set_by(*, actor: User, state: str, item_id: int | None = None) -> AgentState:
    """The API's door: a manager sets their own state; an item must be one they hold."""
    item = None
    if item_id is not None:
        if state not in ITEM_STATES:
            raise FieldError({"item_id": "only on_call and wrap_up are on an item"})
        item = WorkItem.objects.filter(pk=item_id).first()
        if item is None:
            raise FieldError({"item_id": "no such item"})
        if item.assignee_id != actor.pk:
            raise ApiError(_("This item is not yours"), status=403)
    return agent_state_set(user=actor, state=state, item=item)


def agent_state_of(user: User) -> AgentState:
    """The current row, or an unsaved offline one for a person who never set a state."""
    row = AgentState.objects.filter(user=user).first()
    return row or AgentState(user=user, state=AgentStatus.OFFLINE, since=timezone.now())


def break_is_over(*, user: User, max_break_minutes: int, last_closed_at: datetime | None, now: datetime) -> bool | None:
    """The max-break rule as the states see it, or None when the person has no state yet (the
    caller falls back to the last close alone). The rule itself: `break_over`."""
    row = AgentState.objects.filter(user=user).values_list("state", "since").first()
    state, since = row if row is not None else (None, None)
    return break_over(state=state, since=since, max_break_minutes=max_break_minutes, last_closed_at=last_closed_at,
                      now=now)


def break_over(*, state: str | None, since: datetime | None, max_break_minutes: int,
               last_closed_at: datetime | None, now: datetime) -> bool | None:
    """The max-break rule on a person's state (None: never set one; the answer is None then).

    Over when the day just started (no close and no state change today), when the person is on a
    break (or was offline) longer than the maximum, or when idle with the last close longer ago
    than the maximum (waiting without working is a break too). On a call or in wrap-up the
    person is working: never over."""
    if state is None:
        return None
    today = timezone.localdate(now)
    limit = timedelta(minutes=max_break_minutes)
    if state in ITEM_STATES:
        return False
    if state in AWAY_STATES:
        return now - since > limit or timezone.localdate(since) != today
    if last_closed_at is None or timezone.localdate(last_closed_at) != today:
        return True
    return now - last_closed_at > limit


@dataclass(frozen=True)
class HandleTimes:
    items: int
    seconds: float

    @property
    def average(self) -> float | None:
        return self.seconds / self.items if self.items else None


def handle_times(*, user_ids: list[int], start: datetime, end: datetime) -> dict[int, HandleTimes]:
    """Per person: how many items they spent call or wrap-up time on from `start` (stretches that
    began by then), and the seconds, an open stretch counting up to `end`. One grouped query."""
    duration = ExpressionWrapper(Coalesce(F("ended_at"), Value(end)) - F("started_at"),
                                 output_field=DurationField())
    rows = (AgentStateEvent.objects.filter(user_id__in=user_ids, state__in=HANDLE_STATES, item__isnull=False,
                                           started_at__gte=start, started_at__lt=end)
            .order_by().values("user_id").annotate(items=Count("item_id", distinct=True), spent=Sum(duration))
            .values_list("user_id", "items", "spent"))
    return {uid: HandleTimes(items=items, seconds=max(_seconds(spent), 0.0)) for uid, items, spent in rows}


def _seconds(spent) -> float:
    # A duration on PostgreSQL; SQLite's backend hands back microseconds for some expressions.
    if spent is None:
        return 0.0
    if isinstance(spent, timedelta):
        return spent.total_seconds()
    return float(spent) / 1_000_000
