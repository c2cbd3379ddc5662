"""Merging cards into one, and undoing the merge.

Rules (docs/merge.md tells them in full):
- Every row registered in the merge registry with action "move" goes to the kept card.
  Nothing is dropped: a row that would repeat one already on the kept card (the same phone,
  e-mail, handle or tag) is deleted and kept whole in the merge's snapshot, so undo brings
  it back.
- Each field takes the value of the card named in `fields`; where none is named, the kept
  card's non-empty value wins, else the first non-empty one of the merged cards in the
  order given. Custom fields and tags are united.
- Merged cards stay, with status "merged" and `merged_into` the kept card: their URLs redirect.
- All cards involved are locked in pk order and their status re-checked inside the lock,
  so two people merging overlapping cards at once end with one merge and one clear 409.

Snapshot (ContactMerge.snapshot), version 1:
  {"version": 1, "order": [merged ids],
   "fields": {"first_name": {"before": ..., "after": ...}, "company_id": ..., ...},
   "custom": {"<key>": {"before": ..., "after": ...}},
   "moved": [{"rule": "contacts.ContactPhone.contact", "from": 7, "pks": [1, 2]}],
   "deleted": [{"from": 7, "reason": "duplicate", "row": <Django serialised row>}],
   "undo": {"left_as_is": [...], "rows_not_found": 0, "rows_skipped": 0}}   (after undo)
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts import merge_registry, merge_rows
from okno.contacts.models import Company, Contact, ContactMerge, DuplicatePair, FieldChange
from okno.contacts.services import contact_refresh_derived
from okno.core.errors import ApiError, FieldError
from okno.people.models import User
from okno.people.visibility import contact_visibility_q
from okno.timeline.models import Activity
from okno.timeline.services import activity_record

# Field a person chooses -> the Contact attribute that holds it.
CHOOSABLE = {
    "first_name": "first_name",
    "last_name": "last_name",
    "middle_name": "middle_name",
    "city": "city",
    "source": "source",
    "company": "company_id",
    "responsible": "responsible_id",
}
ATTR_LABELS = {attr: name for name, attr in CHOOSABLE.items()} | {"department_id": "department"}


def _empty(value) -> bool:
    return value is None or value == ""


def _validate_fields(fields: dict | None, ids: set[int]) -> dict[str, int]:
    errors: dict[str, str] = {}
    for name, card_id in (fields or {}).items():
        key = f"fields.{name}"
        if name not in CHOOSABLE and not (name.startswith("custom.") and len(name) > 7):
            errors[key] = f"unknown field; choose among {', '.join(CHOOSABLE)} or custom.<key>"
        elif isinstance(card_id, bool) or not isinstance(card_id, int) or card_id not in ids:
            errors[key] = "must be the id of one of the cards being merged"
    if errors:
        raise FieldError(errors)
    return dict(fields or {})


def _order(keep_id: int, merge_ids: list[int]) -> list[int]:
    if not merge_ids:
        raise FieldError({"merge_ids": "choose at least one card to merge into the kept one"})
    if keep_id in merge_ids:
        raise FieldError({"merge_ids": "the card that stays cannot also be merged away"})
    return list(dict.fromkeys(merge_ids))


def _lock(actor: User | None, ids: list[int]) -> dict[int, Contact]:
    """Locks the cards in pk order (so two merges cannot deadlock) and checks them inside the lock.

    On SQLite select_for_update is a no-op, but the IMMEDIATE transaction already holds the
    write lock from its BEGIN, which serialises merges the same way.
    """
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    # actor None is Okno itself (a channel revealed that two cards are one customer): it sees all.
    scope = Contact.objects.all() if actor is None else Contact.objects.filter(contact_visibility_q(actor))
    visible = set(scope.filter(pk__in=ids).values_list("pk", flat=True))
    hidden = [i for i in ids if i not in visible or locked[i].status == Contact.Status.DELETED]
    if hidden:
        raise ApiError(_("No such contact"), status=404,
                       errors=[{"field": "merge_ids", "reason": f"no such contact: {', '.join(map(str, hidden))}"}])
    merged = [locked[i] for i in ids if locked[i].status == Contact.Status.MERGED]
    if merged:
        reasons = ", ".join(_("#%(id)s was already merged into #%(into)s") % {"id": c.pk, "into": c.merged_into_id}
                            for c in merged)
        raise ApiError(_("Already merged: %(reasons)s") % {"reasons": reasons}, status=409,
                       errors=[{"field": "merge_ids", "reason": reasons}])
    return locked


def _winner(name: str, attr_of, kept: Contact, others: list[Contact], cards: dict[int, Contact],
            chosen: dict[str, int]) -> Contact | None:
    """The card whose value a field takes; None when no card has one."""
    if name in chosen:
        return cards[chosen[name]]
    for card in [kept, *others]:
        if not _empty(attr_of(card)):
            return card
    return None


def _display(attr: str, value) -> str:
    if _empty(value):
        return ""
    if attr == "company_id":
        return Company.objects.filter(pk=value).values_list("name", flat=True).first() or ""
    if attr in ("responsible_id",):
        user = User.objects.filter(pk=value).first()
        return user.display_name if user else ""
    return str(value)


def _apply_fields(kept: Contact, others: list[Contact], cards: dict[int, Contact], chosen: dict[str, int],
                  snapshot: dict) -> None:
    for name, attr in CHOOSABLE.items():
        winner = _winner(name, lambda c, a=attr: getattr(c, a), kept, others, cards, chosen)
        if winner is None or winner is kept:
            continue
        before, after = getattr(kept, attr), getattr(winner, attr)
        if before != after:
            snapshot["fields"][attr] = {"before": before, "after": after}
            setattr(kept, attr, after)
        # The owner's department comes with the owner: visibility follows the responsible.
        if attr == "responsible_id" and winner.department_id and winner.department_id != kept.department_id:
            snapshot["fields"]["department_id"] = {"before": kept.department_id, "after": winner.department_id}
            kept.department_id = winner.department_id
    keys = dict.fromkeys(k for c in [kept, *others] for k in (c.custom or {}))
    custom = dict(kept.custom or {})
    for key in keys:
        winner = _winner(f"custom.{key}", lambda c, k=key: (c.custom or {}).get(k), kept, others, cards, chosen)
        before = custom.get(key)
        after = (winner.custom or {}).get(key) if winner else None
        if before != after:
            snapshot["custom"][key] = {"before": before, "after": after}
            if _empty(after):
                custom.pop(key, None)
            else:
                custom[key] = after
    kept.custom = custom


def _history_values(kept: Contact) -> tuple[str, str, str]:
    return (
        ", ".join(p.display for p in kept.phones.all()),
        ", ".join(e.email for e in kept.emails.all()),
        ", ".join(kept.tags.order_by("name").values_list("name", flat=True)),
    )


def _field_changes(kept: Contact, actor: User | None, snapshot: dict, direction: tuple[str, str],
                   skip: set[str] = frozenset()) -> list[FieldChange]:
    old_key, new_key = direction
    rows = [
        FieldChange(contact=kept, user=actor, field=ATTR_LABELS[attr],
                    old=_display(attr, change[old_key]), new=_display(attr, change[new_key]))
        for attr, change in snapshot["fields"].items() if ATTR_LABELS[attr] not in skip
    ]
    rows += [
        FieldChange(contact=kept, user=actor, field=f"custom.{key}",
                    old="" if _empty(change[old_key]) else str(change[old_key]),
                    new="" if _empty(change[new_key]) else str(change[new_key]))
        for key, change in snapshot["custom"].items() if f"custom.{key}" not in skip
    ]
    return rows


@transaction.atomic
def contact_merge(
    *, actor: User | None, keep_id: int, merge_ids: list[int], fields: dict[str, int] | None = None,
    reason: str = "",
) -> ContactMerge:
    """Merges `merge_ids` into the card `keep_id`; returns the merge record (undo with its id).

    `reason` says why (an automatic merge's evidence, a reason key okno.core.reasons knows): the
    card's history shows it with an Undo button while undo is possible (contacts/timeline.py).

    Raises FieldError (400) for bad input, ApiError 404 for cards the actor may not see and
    409 for cards already merged.
    """
    order = _order(keep_id, merge_ids)
    ids = [keep_id, *order]
    chosen = _validate_fields(fields, set(ids))
    cards = _lock(actor, ids)
    kept, others = cards[keep_id], [cards[i] for i in order]
    snapshot: dict = {"version": 1, "order": order, "fields": {}, "custom": {}, "moved": [], "deleted": [],
                      "reason": reason[:300],
                      # The merged cards' names as they were, for the history (they are gone from lists).
                      "labels": {str(i): cards[i].full_name for i in order}}
    phones_before, emails_before, tags_before = _history_values(kept)

    _apply_fields(kept, others, cards, chosen, snapshot)
    for rule in merge_registry.rules("move"):
        merge_rows.move_rule_rows(rule, kept_id=keep_id, order=order, snapshot=snapshot)
    # Pairs touching a merged card are settled by the merge (or stale); undo restores them.
    pairs = DuplicatePair.objects.filter(Q(contact_a_id__in=order) | Q(contact_b_id__in=order))
    merge_rows.delete_recorded(pairs, from_id=None, reason="duplicate pair", snapshot=snapshot)
    kept.save()
    Contact.objects.filter(pk__in=order).update(
        status=Contact.Status.MERGED, merged_into=kept, dedup_dirty=False, updated_at=timezone.now()
    )

    merge = ContactMerge.objects.create(kept=kept, merged_ids=order, snapshot=snapshot, created_by=actor)
    history = _field_changes(kept, actor, snapshot, ("before", "after"))
    for name, old, new in zip(("phones", "emails", "tags"), (phones_before, emails_before, tags_before),
                              _history_values(kept), strict=True):
        if old != new:
            history.append(FieldChange(contact=kept, user=actor, field=name, old=old, new=new))
    names = ", ".join(f"#{c.pk} {c.full_name}".strip() for c in others)
    history.append(FieldChange(contact=kept, user=actor, field="merge", old="", new=f"merge #{merge.pk}: {names}"))
    history += [FieldChange(contact=c, user=actor, field="status", old=Contact.Status.ACTIVE,
                            new=f"{Contact.Status.MERGED} into #{kept.pk}") for c in others]
    FieldChange.objects.bulk_create(history)
    activity_record(contact=kept, kind=Activity.Kind.MERGE, summary=f"Merged into this card: {names}",
                    detail=merge, author=actor)
    contact_refresh_derived(kept)
    return merge


@transaction.atomic
def contact_merge_undo(*, actor: User, merge_id: int) -> ContactMerge:
    """Puts a merge back: rows return to their cards, merged cards are active again.

    A field of the kept card returns to its value before the merge only if nobody changed it
    since; otherwise it is left as is and named in the history. Refused (409) when the merge
    was undone already, when a later merge into the same card is still in force (undo that
    first), and when the kept card has since been merged away or deleted.
    """
    merge = ContactMerge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None or not Contact.objects.filter(contact_visibility_q(actor), pk=merge.kept_id).exists():
        raise ApiError(_("No such merge"), status=404)
    if merge.undone_at is not None:
        raise ApiError(_("Merge #%(id)s was already undone") % {"id": merge.pk}, status=409)
    ids = [merge.kept_id, *merge.merged_ids]
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    kept = locked[merge.kept_id]
    if kept.status == Contact.Status.MERGED:
        later = next((m for m in ContactMerge.objects.filter(kept_id=kept.merged_into_id, undone_at__isnull=True)
                      if kept.pk in m.merged_ids), None)
        hint = f" (#{later.pk})" if later else ""
        raise ApiError(_("Card #%(id)s was later merged into #%(into)s; undo that merge%(hint)s first")
                       % {"id": kept.pk, "into": kept.merged_into_id, "hint": hint}, status=409)
    if kept.status != Contact.Status.ACTIVE:
        raise ApiError(_("Card #%(id)s was deleted since the merge; restore it first") % {"id": kept.pk}, status=409)
    later = ContactMerge.objects.filter(kept=kept, pk__gt=merge.pk, undone_at__isnull=True).order_by("-pk").first()
    if later is not None:
        raise ApiError(_("Merge #%(id)s into the same card came later; undo it first") % {"id": later.pk},
                       status=409)
    strays = [i for i in merge.merged_ids if locked.get(i) is None or locked[i].status != Contact.Status.MERGED
              or locked[i].merged_into_id != kept.pk]
    if strays:
        raise ApiError(_("Cards %(ids)s are no longer merged into #%(into)s")
                       % {"ids": ", ".join(f"#{i}" for i in strays), "into": kept.pk}, status=409)

    snapshot = merge.snapshot
    phones_before, emails_before, tags_before = _history_values(kept)
    not_found = merge_rows.move_back(snapshot, kept_id=kept.pk)
    skipped = merge_rows.restore_deleted(snapshot)
    left_as_is = _restore_fields(kept, snapshot)
    kept.save()
    Contact.objects.filter(pk__in=merge.merged_ids).update(
        status=Contact.Status.ACTIVE, merged_into=None, updated_at=timezone.now()
    )
    merge.undone_at, merge.undone_by = timezone.now(), actor
    merge.snapshot = {**snapshot, "undo": {"left_as_is": left_as_is, "rows_not_found": not_found,
                                           "rows_skipped": skipped}}
    merge.save(update_fields=["undone_at", "undone_by", "snapshot"])

    history = _field_changes(kept, actor, snapshot, ("after", "before"), skip=set(left_as_is))
    for name, old, new in zip(("phones", "emails", "tags"), (phones_before, emails_before, tags_before),
                              _history_values(kept), strict=True):
        if old != new:
            history.append(FieldChange(contact=kept, user=actor, field=name, old=old, new=new))
    note = f"merge #{merge.pk} undone"
    if left_as_is:
        note += f"; changed since and left as is: {', '.join(left_as_is)}"
    history.append(FieldChange(contact=kept, user=actor, field="merge", old="", new=note))
    restored = [locked[i] for i in merge.merged_ids]
    history += [FieldChange(contact=c, user=actor, field="status", old=f"merged into #{kept.pk}",
                            new=Contact.Status.ACTIVE) for c in restored]
    FieldChange.objects.bulk_create(history)
    names = ", ".join(f"#{c.pk} {c.full_name}".strip() for c in restored)
    activity_record(contact=kept, kind=Activity.Kind.MERGE, summary=f"Merge undone, restored: {names}",
                    detail=merge, author=actor)
    for card in restored:
        activity_record(contact=card, kind=Activity.Kind.MERGE, detail=merge, author=actor,
                        summary=f"Restored: merge into #{kept.pk} undone")
    kept.refresh_from_db()
    contact_refresh_derived(kept)
    for card in restored:
        card.refresh_from_db()
        contact_refresh_derived(card)
    return merge


def _restore_fields(kept: Contact, snapshot: dict) -> list[str]:
    left_as_is = []
    for attr, change in snapshot["fields"].items():
        if getattr(kept, attr) == change["after"]:
            setattr(kept, attr, change["before"])
        else:
            left_as_is.append(attr)
    custom = dict(kept.custom or {})
    for key, change in snapshot["custom"].items():
        if custom.get(key) == change["after"]:
            if _empty(change["before"]):
                custom.pop(key, None)
            else:
                custom[key] = change["before"]
        else:
            left_as_is.append(f"custom.{key}")
    kept.custom = custom
    return [ATTR_LABELS.get(a, a) for a in left_as_is]
