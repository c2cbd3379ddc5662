from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from okno.contacts.models import Contact
from okno.people.models import User
from okno.timeline.models import Activity, Note


def activity_record(
    *, contact: Contact, kind: str, summary: str = "", detail: models.Model | None = None,
    author: User | None = None, occurred_at=None,
) -> Activity:
    """Adds one entry to the card's timeline, pointing at the detail row that holds the rest."""
    fields = {"contact": contact, "kind": kind, "summary": summary[:500], "author": author}
    if occurred_at is not None:
        fields["occurred_at"] = occurred_at
    if detail is not None:
        fields["detail_type"] = ContentType.objects.get_for_model(detail)
        fields["detail_id"] = detail.pk
    return Activity.objects.create(**fields)


@transaction.atomic
def note_add(*, contact: Contact, body: str, author: User | None) -> Activity:
    """A note on the card; empty notes are refused by the caller's validation."""
    note = Note.objects.create(body=body, author=author)
    return activity_record(contact=contact, kind=Activity.Kind.NOTE, summary=body, detail=note, author=author)
