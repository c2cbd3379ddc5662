"""Every model that points at a Contact says here what a merge does with its rows.

A merge moves each registered row from the merged-away card to the kept one and records
the move, so undo can move it back. A test walks the model graph and fails when a foreign
key to Contact is not registered: a new domain cannot silently lose data in a merge.
"""

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class MergeRule:
    model: type[models.Model]
    field: str
    # "move": rows follow the kept card. "ignore": rows describe the card itself (the merge
    # record, duplicate pairs, blocking keys) and are handled by the merge service.
    action: str = "move"

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


_rules: dict[str, MergeRule] = {}


def register(model: type[models.Model], field: str, *, action: str = "move") -> None:
    rule = MergeRule(model, field, action)
    _rules[rule.label] = rule


def rules(action: str | None = None) -> list[MergeRule]:
    return [r for r in _rules.values() if action is None or r.action == action]


def is_registered(model: type[models.Model], field: str) -> bool:
    return f"{model._meta.label}.{field}" in _rules


def register_builtin() -> None:
    from okno.contacts import models as m

    for model in (m.ContactPhone, m.ContactEmail, m.MessengerHandle, m.FieldChange):
        register(model, "contact")
    register(m.Contact.tags.through, "contact")
    register(m.Contact, "merged_into", action="ignore")
    register(m.ContactMatchKey, "contact", action="ignore")
    register(m.DuplicatePair, "contact_a", action="ignore")
    register(m.DuplicatePair, "contact_b", action="ignore")
    register(m.ContactMerge, "kept", action="ignore")
