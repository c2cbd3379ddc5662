"""The head's view of the queue: what waits in their departments' queues (by kind, due now and
later, the oldest waiting), the items themselves in the order Next serves them, and the people
an item can be given to by hand (`workitem_assign`). Heads and administrators only: a manager
never browses the queue to pick (issue 18); Next serves them.

Reads only: a fixed number of grouped queries whatever the queue's length, and at most
`ITEMS_LIMIT` items listed (the counts cover all of them)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.errors import ApiError
from okno.people.models import Department, User
from okno.people.visibility import users_visible_to
from okno.work.board import board_departments, may_see_board
from okno.work.models import DEFAULT_PRIORITIES, DepartmentWorkSettings, WorkItem

# A page of the queue: a head assigns by hand the first ones; the counts say how many more wait.
ITEMS_LIMIT = 200


@dataclass(frozen=True)
class KindLine:
    kind: str
    label: str
    rank: int
    due: int
    later: int
    oldest_due_at: datetime | None


@dataclass
class QueueView:
    at: datetime
    kinds: list[KindLine]
    items: list[WorkItem]  # due first, by rank then due; then those not yet due
    more: int  # items not listed
    people: list[User]  # whom the viewer may give an item to
    departments: list[Department]

    @property
    def due(self) -> int:
        return sum(k.due for k in self.kinds)

    @property
    def later(self) -> int:
        return sum(k.later for k in self.kinds)


def access_queue_view(actor: User) -> None:
    if not may_see_board(actor):
        raise ApiError(_("Only administrators and heads see the queue"), status=403)


def queue_view_for(*, actor: User, department_id: int | None = None, now: datetime | None = None) -> QueueView:
    """The unassigned open items of the actor's departments (a head: their subtree; an
    administrator: all; narrowed to one department's subtree when asked, 404 outside theirs)."""
    access_queue_view(actor)
    now = now or timezone.now()
    departments = board_departments(actor, department_id)
    ranks = _ranks(departments, department_id)
    queued = WorkItem.objects.filter(status=WorkItem.Status.OPEN, assignee__isnull=True,
                                     department_id__in=departments)
    counted = {row["kind"]: row for row in queued.order_by().values("kind").annotate(
        due=Count("id", filter=Q(due_at__lte=now)), later=Count("id", filter=Q(due_at__gt=now)),
        oldest=Min("due_at", filter=Q(due_at__lte=now)))}
    labels = dict(WorkItem.Kind.choices)
    kinds = sorted((KindLine(kind, str(labels.get(kind, kind)), ranks.get(kind, 100), row["due"], row["later"],
                             row["oldest"]) for kind, row in counted.items()),
                   key=lambda k: (k.rank, k.kind))
    order = {k.kind: n for n, k in enumerate(kinds)}
    listed = list(queued.filter(due_at__lte=now).select_related("contact", "department")
                  .order_by("due_at", "id")[:ITEMS_LIMIT])
    if len(listed) < ITEMS_LIMIT:
        listed += list(queued.filter(due_at__gt=now).select_related("contact", "department")
                       .order_by("due_at", "id")[:ITEMS_LIMIT - len(listed)])
    # Next's order: due items by their kind's rank, then the earliest due; those not due yet last.
    listed.sort(key=lambda i: (i.due_at > now, order.get(i.kind, 99) if i.due_at <= now else 0, i.due_at, i.pk))
    total = sum(k.due + k.later for k in kinds)
    people = list(User.objects.filter(users_visible_to(actor), is_active=True, department_id__in=departments)
                  .order_by("last_name", "first_name", "username"))
    return QueueView(at=now, kinds=kinds, items=listed, more=max(total - len(listed), 0), people=people,
                     departments=list(Department.objects.filter(pk__in=departments).order_by("name")))


def _ranks(departments: list[int], department_id: int | None) -> dict[str, int]:
    """The ranks of the department asked for (else the defaults: several departments may rank
    their kinds differently, and the view then orders by the common defaults)."""
    if department_id is None:
        return dict(DEFAULT_PRIORITIES)
    row = DepartmentWorkSettings.objects.filter(department_id=department_id).first()
    return row.rank() if row is not None else dict(DEFAULT_PRIORITIES)


def queue_view_summary(view: QueueView) -> dict:
    """The view as plain data (the API's answer)."""
    return {
        "at": view.at, "due": view.due, "later": view.later, "more": view.more,
        "kinds": [{"kind": k.kind, "rank": k.rank, "due": k.due, "later": k.later, "oldest_due_at": k.oldest_due_at}
                  for k in view.kinds],
        "items": [{"id": i.pk, "kind": i.kind, "due_at": i.due_at, "title": i.title, "number": i.number,
                   "contact_id": i.contact_id, "department_id": i.department_id, "deal_id": i.deal_id}
                  for i in view.items],
        "people": [{"id": p.pk, "name": p.display_name, "department_id": p.department_id} for p in view.people],
    }
