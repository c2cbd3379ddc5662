"""The screens' queue counters without polling: an item that lands in a queue (or on a person)
is pushed (okno/push, kind `work`) to the open screens whose counters it changes, after commit;
screen.js then re-reads the counters (at most every few seconds: a burst of items is one read).

Whom: the item's person; an unassigned item, every active person of its department (it is in
their queue). One push row per person: a department is tens of people, and items arrive far
less often than states change (the board's pushes, okno/work/board_live.py)."""

import time

from django.db import transaction

from okno.people.models import User
from okno.push.services import push_send
from okno.work.models import WorkItem

PUSH_KIND = "work"
# How long a process trusts its list of a department's people (one query a second at most).
PEOPLE_TTL_SECONDS = 1.0

_people: dict[int, tuple[float, list[int]]] = {}


def people_of(department_id: int) -> list[int]:
    cached = _people.get(department_id)
    if cached is not None and time.monotonic() - cached[0] < PEOPLE_TTL_SECONDS:
        return cached[1]
    ids = list(User.objects.filter(department_id=department_id, is_active=True).values_list("pk", flat=True))
    _people[department_id] = (time.monotonic(), ids)
    return ids


def workitem_announce(item: WorkItem) -> None:
    """After the caller's transaction commits, tells the screens the item concerns that it is there."""
    if item.assignee_id is None and item.department_id is None:
        return
    transaction.on_commit(lambda: _push(item.pk, item.kind, item.assignee_id, item.department_id, item.due_at))


def _push(pk: int, kind: str, assignee_id: int | None, department_id: int | None, due_at) -> None:
    users = [assignee_id] if assignee_id else people_of(department_id)
    if users:
        push_send(user_ids=users, kind=PUSH_KIND, key=f"{pk}:{due_at.timestamp():.0f}",
                  payload={"item_id": pk, "kind": kind, "department_id": department_id,
                           "due_at": due_at.isoformat()})
