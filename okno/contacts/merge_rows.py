"""Moving the rows that point at cards, for merge and its undo.

Each rule of the merge registry is one bulk UPDATE per batch of primary keys; the keys are
recorded so undo moves back exactly those rows. A row that cannot or should not follow
(it would break a unique constraint, or it repeats a phone, e-mail or handle the kept card
already has) is deleted and kept whole in the snapshot, so undo re-creates it with its pk.
"""

import json
from collections.abc import Iterable

from django.apps import apps
from django.core import serializers
from django.db import models

from okno.contacts import merge_registry
from okno.core.bulk import chunks
from okno.core.errors import ApiError

# The same value twice on one card only adds noise: a second copy of a number is dropped
# (and kept in the snapshot). Unique constraints are found from the models themselves.
SOFT_DUPLICATE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "contacts.ContactPhone": (("e164", "extension"),),
    "contacts.ContactEmail": (("email",),),
    "contacts.MessengerHandle": (("kind", "handle"),),
}

# Well under SQLite's limit on bound parameters, and short statements on PostgreSQL.
BATCH = 500



def unique_sets(model: type[models.Model]) -> list[tuple[str, ...]]:
    """Field names that must be unique together (unconditional constraints only)."""
    sets: list[tuple[str, ...]] = [tuple(s) for s in model._meta.unique_together]
    for c in model._meta.constraints:
        if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None and not c.expressions:
            sets.append(tuple(c.fields))
    for f in model._meta.concrete_fields:
        if f.unique and not f.primary_key:
            sets.append((f.name,))
    return sets


def _is_referenced(model: type[models.Model]) -> bool:
    """Deleting a row that others point at could cascade to them, so such rows are never dropped."""
    return bool(model._meta.related_objects)


def _serialize(rows: Iterable[models.Model]) -> list[dict]:
    return json.loads(serializers.serialize("json", rows))


def move_rule_rows(
    rule: merge_registry.MergeRule, *, kept_id: int, order: list[int], snapshot: dict
) -> None:
    """Re-points the rule's rows from the merged cards (in `order`) to the kept card."""
    model = rule.model
    attname = model._meta.get_field(rule.field).attname
    manager = model._base_manager
    hard = [tuple(f for f in s if f != rule.field) for s in unique_sets(model) if rule.field in s]
    soft = list(SOFT_DUPLICATE_KEYS.get(model._meta.label, ()))
    if hard or soft:
        _drop_clashes(rule, attname, kept_id, order, hard, soft, snapshot)
    # Repeat until nothing is left: a writer that does not lock the card (a timeline entry
    # from the inbox) may add a row between our read and our update.
    for _ in range(5):
        rows = list(manager.filter(**{f"{attname}__in": order}).values_list("pk", attname))
        if not rows:
            return
        by_card: dict[int, list] = {}
        for pk, from_id in rows:
            by_card.setdefault(from_id, []).append(pk)
        for from_id in order:
            pks = by_card.get(from_id)
            if not pks:
                continue
            for chunk in chunks(pks, BATCH):
                manager.filter(pk__in=chunk).update(**{attname: kept_id})
            snapshot["moved"].append({"rule": rule.label, "from": from_id, "pks": pks})


def _drop_clashes(rule, attname, kept_id, order, hard, soft, snapshot) -> None:
    model = rule.model
    manager = model._base_manager
    needed = sorted({f for s in hard + soft for f in s})
    keys = [(s, True) for s in hard] + [(s, False) for s in soft]
    seen: list[set] = []
    for fields, _hard in keys:
        seen.append(set(manager.filter(**{attname: kept_id}).values_list(*fields)) if fields else
                    ({()} if manager.filter(**{attname: kept_id}).exists() else set()))
    rows = list(manager.filter(**{f"{attname}__in": order}).values("pk", attname, *needed))
    rows.sort(key=lambda r: (order.index(r[attname]), r["pk"]))
    drop: dict[int, tuple[int, str]] = {}
    for row in rows:
        clash = None
        values = [tuple(row[f] for f in fields) for fields, _ in keys]
        for i, (_fields, is_hard) in enumerate(keys):
            # NULLs never clash in a unique index, on either database.
            if None not in values[i] and values[i] in seen[i]:
                clash = "unique" if is_hard else "duplicate"
                if is_hard:
                    break
        if clash:
            drop[row["pk"]] = (row[attname], clash)
            continue
        for i, value in enumerate(values):
            seen[i].add(value)
    if not drop:
        return
    if _is_referenced(model):
        if any(reason == "unique" for _, reason in drop.values()):
            raise ApiError(
                f"Cannot merge: {model._meta.verbose_name} rows of these cards may exist only once per card",
                status=409, errors=[{"field": "merge_ids", "reason": f"{rule.label} clashes on a unique key"}],
            )
        return  # a repeated phone that other rows point at stays, shown twice rather than lost
    objs = list(manager.filter(pk__in=list(drop)))
    for obj, data in zip(objs, _serialize(objs), strict=True):
        from_id, reason = drop[obj.pk]
        snapshot["deleted"].append({"from": from_id, "reason": reason, "row": data})
    manager.filter(pk__in=list(drop)).delete()


def delete_recorded(qs: models.QuerySet, *, from_id: int | None, reason: str, snapshot: dict) -> None:
    """Deletes rows the merge makes meaningless, keeping them whole for undo."""
    objs = list(qs)
    for data in _serialize(objs):
        snapshot["deleted"].append({"from": from_id, "reason": reason, "row": data})
    qs.model._base_manager.filter(pk__in=[o.pk for o in objs]).delete()


def _model_and_attname(label: str) -> tuple[type[models.Model], str]:
    model_label, field = label.rsplit(".", 1)
    model = apps.get_model(model_label)
    return model, model._meta.get_field(field).attname


def move_back(snapshot: dict, *, kept_id: int) -> int:
    """Moves each recorded row that is still on the kept card back to its card; returns how many did not."""
    missing = 0
    for entry in snapshot.get("moved", []):
        model, attname = _model_and_attname(entry["rule"])
        for chunk in chunks(entry["pks"], BATCH):
            moved = model._base_manager.filter(pk__in=chunk, **{attname: kept_id}).update(**{attname: entry["from"]})
            missing += len(chunk) - moved
    return missing


def restore_deleted(snapshot: dict) -> int:
    """Re-creates the rows the merge deleted, with their pks; returns how many were skipped.

    A row is skipped when its pk exists again or a row with the same unique values does
    (the duplicate scan may have found the same pair again since).
    """
    skipped = 0
    for entry in snapshot.get("deleted", []):
        (obj,) = serializers.deserialize("python", [entry["row"]])
        model = type(obj.object)
        manager = model._base_manager
        clash = manager.filter(pk=obj.object.pk).exists()
        for fields in unique_sets(model):
            values = {model._meta.get_field(f).attname: getattr(obj.object, model._meta.get_field(f).attname)
                      for f in fields}
            if not clash and None not in values.values():
                clash = manager.filter(**values).exists()
        if clash:
            skipped += 1
            continue
        obj.save()
    return skipped
