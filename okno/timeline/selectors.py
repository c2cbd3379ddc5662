"""Reads of the card's timeline."""

from okno.timeline.models import Activity, Note
from okno.timeline.registry import details_of, timeline_prepare

# The card shows the newest entries; older ones are a later page.
TIMELINE_LIMIT = 100


def timeline_for_card(*, contact, limit: int = TIMELINE_LIMIT) -> list[Activity]:
    """The newest entries of a card the caller has already checked visible, ready to draw.

    One query for the entries, then the registered loaders: a fixed number of queries per kind
    on the page, whatever the number of entries."""
    return timeline_prepare(list(Activity.objects.filter(contact=contact).select_related("author")[:limit]))


def notes_for_timeline(activities: list[Activity]) -> dict[int, Note]:
    """Activity id -> its Note, in one query."""
    by_activity = details_of(activities, Note)
    notes = Note.objects.in_bulk(list(by_activity.values()))
    return {pk: notes[note_id] for pk, note_id in by_activity.items() if note_id in notes}


def timeline_for_contacts(*, contact_ids, limit: int = TIMELINE_LIMIT, offset: int = 0) -> list[Activity]:
    """Several cards' entries merged, newest first (a company's timeline: its visible cards').

    `contact_ids` are cards the caller has already checked visible (a list or a subquery);
    `offset` pages further back. Prepared like a card's: a fixed number of queries per page."""
    rows = (Activity.objects.filter(contact_id__in=contact_ids).select_related("author", "contact")
            .order_by("-occurred_at", "-id")[offset: offset + limit])
    return timeline_prepare(list(rows))
