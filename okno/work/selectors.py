"""Reads of work items, scoped to what a user may see."""

from django.db.models import Exists, Q, QuerySet

from okno.people.models import User
from okno.people.visibility import contact_visibility_q
from okno.work.models import WorkItem


def work_items_visible(user: User) -> QuerySet[WorkItem]:
    """A work item is visible with its card, and always to its assignee; one with no card yet (a
    number to call back) also to its department's people (a head's: and below; administrators:
    all), whose queue it is."""
    no_card = Q(contact__isnull=True) & _department_q(user)
    return WorkItem.objects.filter(contact_visibility_q(user, prefix="contact__") | Q(assignee_id=user.pk) | no_card)


def _department_q(user: User) -> Q:
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    if not user.department_id:
        return Q(pk__in=[])
    if user.role == User.Role.HEAD:
        from okno.people.visibility import _subtree

        return Q(department_id__in=_subtree(user))
    return Q(department_id=user.department_id)


def _team_q(user: User) -> Q:
    """Unassigned items of the user's own department (a head's: and below it; an administrator's:
    all): the queue anyone there may take."""
    return Q(assignee__isnull=True) & _department_q(user)


def work_items_open(user: User, *, show: str = "mine") -> QuerySet[WorkItem]:
    """Open items for the "My work" page: `mine` (assigned to me), `unassigned` (my department's
    queue), `overdue` (either, past due), or `all` (both), soonest due first. The queue is empty
    for a manager whose department has `next_only` on (picks_only_by_next)."""
    from django.utils import timezone

    from okno.work.queue_settings import picks_only_by_next

    mine = Q(assignee_id=user.pk)
    # A manager whose department serves its queue only by Next sees their own items only.
    team = Q(pk__in=[]) if picks_only_by_next(user) else _team_q(user)
    scope = {"mine": mine, "unassigned": team}.get(show, mine | team)
    qs = work_items_visible(user).filter(scope, status=WorkItem.Status.OPEN)
    if show == "overdue":
        qs = qs.filter(due_at__lt=timezone.now())
    return qs.select_related("contact", "deal", "assignee").order_by("due_at", "id")


def work_items_open_count(user: User) -> tuple[int, int]:
    """(open items of mine and my department's queue, how many of them are overdue): the
    sidebar's counter; two indexed COUNTs. Mine only when the queue comes by Next only."""
    from django.utils import timezone

    team = _team_q(user)
    if user.is_authenticated and not user.is_admin and user.role == User.Role.MANAGER and user.department_id:
        # Folded into the COUNTs (no extra query on every page): the queue counts for a manager
        # unless the department serves it only by Next (queue_settings.picks_only_by_next).
        from okno.work.models import DepartmentWorkSettings

        next_only = DepartmentWorkSettings.objects.filter(department_id=user.department_id, next_only=True)
        team &= ~Exists(next_only)
    qs = WorkItem.objects.filter(Q(assignee_id=user.pk) | team, status=WorkItem.Status.OPEN)
    return qs.count(), qs.filter(due_at__lt=timezone.now()).count()


def work_items_for_card(user: User, contact_id: int) -> QuerySet[WorkItem]:
    """A card's open items, as its visitor may see them (the panel offers "Take" on the
    unassigned ones only when picks_only_by_next is false: views.for_contact)."""
    return (work_items_visible(user).filter(contact_id=contact_id, status=WorkItem.Status.OPEN)
            .select_related("deal", "assignee").order_by("due_at", "id"))
