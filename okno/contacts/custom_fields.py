"""Administering custom fields: the extra, typed fields every card gets."""

import re

from django.db import transaction

from okno.contacts.models import CustomField
from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.people.models import User

KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _check(*, label: str, type: str, choices: list[str], errors: dict[str, str]) -> None:
    if not label.strip():
        errors["label"] = "required"
    if type not in CustomField.Type.values:
        errors["type"] = f"must be one of: {', '.join(CustomField.Type.values)}"
    if type == CustomField.Type.CHOICE and not choices:
        errors["choices"] = "a choice field needs at least one choice"


def _clean_choices(choices: list[str]) -> list[str]:
    seen: list[str] = []
    for choice in choices:
        choice = choice.strip()
        if choice and choice not in seen:
            seen.append(choice)
    return seen


@transaction.atomic
def custom_field_create(
    *, actor: User, key: str, label: str, type: str = CustomField.Type.TEXT, choices: list[str] | None = None,
    position: int = 0,
) -> CustomField:
    """Adds a field to every card. The key names the value in Contact.custom and in the API."""
    require_admin(actor, "Only an administrator defines custom fields")
    key = key.strip()
    choices = _clean_choices(choices or [])
    errors: dict[str, str] = {}
    if not KEY_RE.match(key):
        errors["key"] = "use lower-case letters, digits, - and _"
    elif CustomField.objects.filter(key=key).exists():
        errors["key"] = "this key is taken"
    _check(label=label, type=type, choices=choices, errors=errors)
    if errors:
        raise FieldError(errors)
    return CustomField.objects.create(
        key=key, label=label.strip(), type=type, choices=choices if type == CustomField.Type.CHOICE else [],
        position=position,
    )


@transaction.atomic
def custom_field_update(
    *, actor: User, field: CustomField, label: str, type: str, choices: list[str] | None = None, position: int = 0,
) -> CustomField:
    """Changes a field's label, type or choices. The key stays: stored values and API clients use it.

    Values already on cards are not rewritten; a value that no longer fits the new type is
    reported the next time someone saves that card.
    """
    require_admin(actor, "Only an administrator defines custom fields")
    choices = _clean_choices(choices or [])
    errors: dict[str, str] = {}
    _check(label=label, type=type, choices=choices, errors=errors)
    if errors:
        raise FieldError(errors)
    field.label, field.type, field.position = label.strip(), type, position
    field.choices = choices if type == CustomField.Type.CHOICE else []
    field.save()
    return field
