"""The board without reload: each committed state change is pushed (okno/push) to the people who
may watch that manager's department, and their open boards patch the row at once (board.js).

Push rather than htmx polling: a poll every 2 s from each open board costs a full board query
per page per poll whether anything changed or not, and shows a change up to 2 s late; a push
costs one row per watcher per change, and the push process's one poller (okno/push/hub.py, every
OKNO_PUSH_POLL_SECONDS) delivers it to every open tab within about a tenth of a second, however
many tabs are open (bench/bench_work.py measures it with 500). The counters (done today, the
queue) are re-read by the page at most every few seconds, when a push says something changed.
"""

import time

from okno.people.models import User
from okno.push.services import push_send
from okno.work.board import q_board_watchers
from okno.work.models_states import AgentState

PUSH_KIND = "work_board"
# How long a process trusts its list of a department's watchers (a head appointed a second ago
# gets their first push at most this late; the list costs one query a second per department).
WATCHERS_TTL_SECONDS = 1.0

_watchers: dict[int | None, tuple[float, list[int]]] = {}


def watchers_of(department_id: int | None) -> list[int]:
    cached = _watchers.get(department_id)
    if cached is not None and time.monotonic() - cached[0] < WATCHERS_TTL_SECONDS:
        return cached[1]
    ids = list(User.objects.filter(q_board_watchers(department_id), is_active=True).values_list("pk", flat=True))
    _watchers[department_id] = (time.monotonic(), ids)
    return ids


def state_pushed(row: AgentState) -> None:
    """A state listener (okno/work/states.py): one push per watcher, keyed by the change itself
    (person and moment), so no change is folded into another and a repeat is sent once."""
    # agent_state_set hands the row with its person attached (no read); a bare row reads it.
    department_id = row.user.department_id
    watchers = watchers_of(department_id)
    if not watchers:
        return
    push_send(user_ids=watchers, kind=PUSH_KIND, key=f"{row.user_id}:{row.since.timestamp():.6f}", payload={
        "user_id": row.user_id, "state": row.state, "since": row.since.isoformat(), "item_id": row.item_id,
        "sent": time.time()})


def register() -> None:
    from okno.work.states import on_state_change

    on_state_change(state_pushed)
