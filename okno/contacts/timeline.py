"""How merges are drawn on the card's timeline: who merged what, why, and Undo while it can be.

A merge used to be a stored English sentence ("Merged into this card: #5 …", "by system"), with
undo only in a one-time banner: an automatic merge from a call could pass unseen. Each entry is
now drawn from its ContactMerge in the reader's language, with the automatic merge's reason and
an Undo button as long as `contact_merge_undo` would accept it (not undone yet, the latest merge
into that card still in force, the card itself not merged away)."""

from dataclasses import dataclass

from django.db.models import Max

from okno.contacts.models import Contact, ContactMerge
from okno.timeline.models import Activity
from okno.timeline.registry import details_of


@dataclass
class MergeEntry:
    merge: ContactMerge
    # merged: the entry on the kept card; undone: its undo there; restored: on a card put back.
    role: str
    cards: list[tuple[int, str]]
    reason: str
    automatic: bool
    undoable: bool


def _role(activity: Activity, merge: ContactMerge) -> str:
    if activity.contact_id != merge.kept_id:
        return "restored"
    # Both entries of the kept card point at the same merge; the undo's entry says so first.
    return "undone" if activity.summary.startswith("Merge undone") else "merged"


def merges_for_timeline(activities: list[Activity]) -> dict[int, MergeEntry]:
    """Activity id -> its MergeEntry; three queries for the whole page."""
    wanted = details_of(activities, ContactMerge)
    merges = ContactMerge.objects.in_bulk(set(wanted.values()))
    kept_ids = {m.kept_id for m in merges.values()}
    latest = dict(ContactMerge.objects.filter(kept_id__in=kept_ids, undone_at__isnull=True)
                  .values("kept_id").annotate(last=Max("pk")).values_list("kept_id", "last"))
    active = set(Contact.objects.filter(pk__in=kept_ids, status=Contact.Status.ACTIVE).values_list("pk", flat=True))
    by_activity = {a.pk: a for a in activities}
    entries = {}
    for activity_id, merge_id in wanted.items():
        merge = merges.get(merge_id)
        if merge is None:
            continue
        labels = (merge.snapshot or {}).get("labels") or {}
        entries[activity_id] = MergeEntry(
            merge=merge, role=_role(by_activity[activity_id], merge),
            cards=[(i, labels.get(str(i), "")) for i in merge.merged_ids],
            reason=(merge.snapshot or {}).get("reason", ""), automatic=merge.created_by_id is None,
            undoable=(merge.undone_at is None and latest.get(merge.kept_id) == merge.pk and merge.kept_id in active))
    return entries
