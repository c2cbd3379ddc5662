"""Live reports: when a call or a chat ends, the open report pages that may count it re-fetch.

Telephony publishes `call.finished` and the inbox `chat.finished` (okno/core/events.py); this
module subscribes and, once the change commits, sends a small `reports_changed` push
(okno/push) to the users who have a report or a team board open (ReportViewer) and may see that
call: an administrator every call, a head their department's tree, a board's members the
board's department, anyone their own. The page then re-fetches its table and charts (live.js).

Cheap at 50 calls a second: at most one push per user per second. The push's key is the
second (the push table keeps one row per user, kind and key, so several processes still send
one), and each process remembers whom it pushed this second, so the 49 other calls of that
second cost no query at all. The viewers are read once a second per process. The push says
how long until its second is over; the page waits that long before it re-fetches, so the
calls that ended later in the same second (and got no push of their own) are in its answer.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from okno.analytics.models_boards import ReportViewer, TeamBoard
from okno.core.events import Event
from okno.people.models import Department, User
from okno.push.services import push_send

PUSH_KIND = "reports_changed"
REPORTS_TOPIC = "reports"
# A page says it is open every few minutes (live.js WATCH_MS, 4 min); a closed tab stops being
# pushed to after this.
VIEWER_TTL = timedelta(minutes=10)
# How long a process trusts its list of viewers: a page opened a second ago gets its first push
# at most this late, and the list costs one query a second however many calls end.
VIEWERS_TTL_SECONDS = 1.0
# The page re-fetches this long after its second ends, for the commit of that second's last call.
SETTLE_MS = 100


@dataclass(frozen=True)
class Viewer:
    user_id: int
    everything: bool
    departments: frozenset[int]


class _State:
    """This process's viewers (read at `read_at`) and whom it pushed in which second."""

    def __init__(self) -> None:
        self.viewers: list[Viewer] = []
        self.read_at = float("-inf")
        self.second = 0
        self.pushed: set[int] = set()


_state = _State()


def live_forget() -> None:
    """Starts afresh (tests; a page opened must be seen at once)."""
    global _state
    _state = _State()


def report_viewer_watch(*, user: User, topic: str = REPORTS_TOPIC, now=None) -> None:
    """The user has a report (or the board `topic`) open: push to them for the next minutes."""
    now = now or timezone.now()
    ReportViewer.objects.update_or_create(user=user, topic=topic[:32], defaults={"until": now + VIEWER_TTL})


def _department_trees() -> dict[int, list[int]]:
    """Each department's subtree, from one query of every department."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)

    def tree(root: int) -> list[int]:
        found, todo = [], [root]
        while todo:
            node = todo.pop()
            found.append(node)
            todo.extend(children.get(node, ()))
        return found

    return {pk: tree(pk) for pks in children.values() for pk in pks}


def viewers_now(now=None) -> list[Viewer]:
    """Who has a report or a board open now, and whose calls each may see (okno/analytics/scope.py
    rules; a board adds its department's tree for its members)."""
    now = now or timezone.now()
    rows = list(ReportViewer.objects.filter(until__gt=now, user__is_active=True)
                .values_list("user_id", "topic", "user__role", "user__is_superuser", "user__department_id"))
    if not rows:
        return []
    trees = _department_trees()
    boards = {f"board:{pk}": dep for pk, dep in TeamBoard.objects.filter(published=True)
              .values_list("pk", "department_id")}
    by_user: dict[int, tuple[bool, set[int]]] = {}
    for user_id, topic, role, superuser, department_id in rows:
        everything, departments = by_user.setdefault(user_id, (False, set()))
        if superuser or role == User.Role.ADMIN:
            everything = True
        elif role == User.Role.HEAD and department_id:
            departments.update(trees.get(department_id, ()))
        if topic in boards:
            departments.update(trees.get(boards[topic], ()))
        by_user[user_id] = (everything, departments)
    return [Viewer(u, e, frozenset(d)) for u, (e, d) in by_user.items()]


def recipients(viewers: list[Viewer], *, department_id: int | None, employee_id: int | None) -> list[int]:
    """The viewers who may see a call or chat of this department and employee."""
    return [v.user_id for v in viewers if v.everything or v.user_id == employee_id
            or (department_id is not None and department_id in v.departments)]


def reports_changed_send(*, department_id: int | None, employee_id: int | None, clock=time.time) -> int:
    """Pushes `reports_changed` to the viewers who may see the change, once per user a second.
    Returns how many pushes it queued (0 when this second's were sent already)."""
    state = _state
    now = clock()
    second = int(now)
    if second != state.second:
        state.second, state.pushed = second, set()
    if time.monotonic() - state.read_at >= VIEWERS_TTL_SECONDS:
        state.viewers, state.read_at = viewers_now(), time.monotonic()
    users = [u for u in recipients(state.viewers, department_id=department_id, employee_id=employee_id)
             if u not in state.pushed]
    if not users:
        return 0
    state.pushed.update(users)
    wait_ms = int((second + 1 - now) * 1000) + SETTLE_MS
    return push_send(user_ids=users, kind=PUSH_KIND, key=str(second), payload={"wait_ms": wait_ms})


def reports_changed_on_call(event: Event) -> None:
    """`call.finished`: after the call's commit (a push that fails must never fail a call)."""
    call = event.subject
    transaction.on_commit(lambda: reports_changed_send(department_id=call.department_id,
                                                       employee_id=call.employee_id), robust=True)


def reports_changed_on_chat(event: Event) -> None:
    """`chat.finished`: the operator's department counts the chat (the chats report's scope)."""
    operator_id = event.data.get("operator_id")
    department_id = event.data.get("department_id")
    transaction.on_commit(lambda: reports_changed_send(department_id=department_id, employee_id=operator_id),
                          robust=True)


def live_register() -> None:
    from okno.core import events

    events.subscribe("call.finished", reports_changed_on_call, key="analytics.live.call")
    events.subscribe("chat.finished", reports_changed_on_chat, key="analytics.live.chat")
