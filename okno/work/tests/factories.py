"""Work items' test data: plain rows, with the time passed in."""

from datetime import datetime, timedelta

from django.utils import timezone

from okno.contacts.models import Contact
from okno.people.models import User
from okno.work.models import ManagerShift, WorkItem


def make_item(*, kind: str = WorkItem.Kind.CALLBACK, due_in_minutes: float = -5, now: datetime | None = None,
              **fields) -> WorkItem:
    """An open item due `due_in_minutes` from now (negative: already due)."""
    now = now or timezone.now()
    return WorkItem.objects.create(kind=kind, due_at=now + timedelta(minutes=due_in_minutes), **fields)


def make_customer(*, department=None, responsible=None, quiet_days: int = 0, **fields) -> Contact:
    """A card created long ago whose last activity was `quiet_days` ago (0: none at all)."""
    from okno.timeline.models import Activity

    fields.setdefault("first_name", "Клиент")
    contact = Contact.objects.create(department=department, responsible=responsible, **fields)
    long_ago = timezone.now() - timedelta(days=400)
    Contact.objects.filter(pk=contact.pk).update(created_at=long_ago)
    Activity.objects.filter(contact=contact).delete()
    if quiet_days:
        Activity.objects.create(contact=contact, kind=Activity.Kind.SYSTEM, summary="был",
                                occurred_at=timezone.now() - timedelta(days=quiet_days))
    return contact


def just_closed(user: User, *, minutes_ago: float = 1) -> None:
    """The manager closed an item a moment ago: no break, Next serves the queue."""
    ManagerShift.objects.update_or_create(user=user, defaults={
        "last_closed_at": timezone.now() - timedelta(minutes=minutes_ago)})
