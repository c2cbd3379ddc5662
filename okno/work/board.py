"""The supervisor board's figures: each manager's state, items done today, average handle time,
the queue's length per kind and its oldest waiting item. Reads only (selectors); a handful of
grouped queries whatever the number of managers, so the page and `GET /api/v1/work/board` stay
fast with hundreds of people (docs/work.md, "Supervisor board")."""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.errors import ApiError
from okno.people.models import Department, User
from okno.work.models import WorkItem
from okno.work.models_states import AgentState, AgentStatus
from okno.work.states import handle_times

# A board of more people than this is cut (the page says so); a department filter narrows it.
MAX_PEOPLE = 2000


@dataclass(frozen=True)
class BoardRow:
    user_id: int
    name: str
    department_id: int | None
    state: str
    since: datetime | None
    item_id: int | None
    done_today: int
    handled_items: int
    aht_seconds: float | None


@dataclass
class Board:
    at: datetime
    rows: list[BoardRow]
    queue: dict[str, int]  # kind -> open items due now and nobody's yet
    waiting_later: int  # open queue items not due yet
    oldest: WorkItem | None
    departments: list[Department]
    cut: bool = False
    by_state: dict[str, int] = field(default_factory=dict)


def may_see_board(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_admin or (user.role == User.Role.HEAD and user.department_id)))


def board_departments(actor: User, department_id: int | None = None) -> list[int]:
    """The departments whose people and queues the actor may watch: an administrator all, a
    head their subtree; narrowed to one department's subtree when asked (403 outside theirs)."""
    if not may_see_board(actor):
        raise ApiError(_("Only administrators and heads see the board"), status=403)
    if actor.is_admin:
        mine = None
    else:
        mine = Department.objects.get(pk=actor.department_id).subtree_ids()
    if department_id is None:
        return mine if mine is not None else list(Department.objects.values_list("pk", flat=True))
    department = Department.objects.filter(pk=department_id).first()
    if department is None or (mine is not None and department.pk not in mine):
        raise ApiError(_("No such department of yours"), status=404)
    return department.subtree_ids()


def _day_start(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))


def board_for(*, actor: User, department_id: int | None = None, now: datetime | None = None) -> Board:
    now = now or timezone.now()
    departments = board_departments(actor, department_id)
    start = _day_start(now)
    people = list(User.objects.filter(is_active=True, department_id__in=departments)
                  .order_by("department_id", "last_name", "first_name", "pk")
                  .values_list("pk", "first_name", "last_name", "username", "department_id")[:MAX_PEOPLE + 1])
    cut = len(people) > MAX_PEOPLE
    people = people[:MAX_PEOPLE]
    ids = [p[0] for p in people]
    states = {uid: (state, since, item) for uid, state, since, item in
              AgentState.objects.filter(user_id__in=ids).values_list("user_id", "state", "since", "item_id")}
    done = dict(WorkItem.objects.filter(assignee_id__in=ids, status=WorkItem.Status.DONE, closed_at__gte=start)
                .order_by().values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    handled = handle_times(user_ids=ids, start=start, end=now)
    rows = []
    by_state: dict[str, int] = {}
    for uid, first, last, username, dept in people:
        state, since, item = states.get(uid, (AgentStatus.OFFLINE, None, None))
        times = handled.get(uid)
        by_state[state] = by_state.get(state, 0) + 1
        rows.append(BoardRow(uid, f"{first} {last}".strip() or username, dept, state, since, item,
                             done.get(uid, 0), times.items if times else 0, times.average if times else None))
    queued = WorkItem.objects.filter(status=WorkItem.Status.OPEN, assignee__isnull=True,
                                     department_id__in=departments)
    queue = dict(queued.filter(due_at__lte=now).order_by().values("kind").annotate(n=Count("id"))
                 .values_list("kind", "n"))
    later = queued.filter(due_at__gt=now).count()
    oldest = queued.filter(due_at__lte=now).order_by("due_at", "id").select_related("contact").first()
    return Board(at=now, rows=rows, queue=queue, waiting_later=later, oldest=oldest, cut=cut, by_state=by_state,
                 departments=list(Department.objects.filter(pk__in=departments).order_by("name")))


def board_summary(board: Board) -> dict:
    """The board as plain data (the API's answer and the reports' feed)."""
    return {
        "at": board.at, "cut": board.cut, "by_state": board.by_state,
        "managers": [{"user_id": r.user_id, "name": r.name, "department_id": r.department_id, "state": r.state,
                      "since": r.since, "item_id": r.item_id, "done_today": r.done_today,
                      "handled_items": r.handled_items,
                      "aht_seconds": round(r.aht_seconds, 1) if r.aht_seconds is not None else None}
                     for r in board.rows],
        "queue": [{"kind": kind, "due": n} for kind, n in sorted(board.queue.items())],
        "waiting_later": board.waiting_later,
        "oldest": None if board.oldest is None else {
            "id": board.oldest.pk, "kind": board.oldest.kind, "due_at": board.oldest.due_at,
            "department_id": board.oldest.department_id, "contact_id": board.oldest.contact_id},
    }


def q_board_watchers(department_id: int | None) -> Q:
    """Who watches a department's board: administrators, and heads of it or of a department above it."""
    heads: list[int] = []
    seen: set[int] = set()
    current = department_id
    while current is not None and current not in seen:
        seen.add(current)
        heads.append(current)
        current = Department.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return Q(is_superuser=True) | Q(role=User.Role.ADMIN) | Q(role=User.Role.HEAD, department_id__in=heads)
