"""Reads of work items, scoped to what a user may see."""

from django.db.models import Q, QuerySet

from okno.people.models import User
from okno.people.visibility import contact_visibility_q
from okno.work.models import WorkItem


def work_items_visible(user: User) -> QuerySet[WorkItem]:
    """A work item is visible with its card, and always to its assignee (a number not yet a card)."""
    return WorkItem.objects.filter(contact_visibility_q(user, prefix="contact__") | Q(assignee_id=user.pk))
