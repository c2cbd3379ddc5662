"""Parsing the card's HTML form into the raw dict that `contact_data_clean` validates.

Forms here only parse: the values are checked by the same service as the API's, so a
person sees the same reasons in the UI as a program gets in a 400.
"""

from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from okno.contacts.models import Contact, ContactPhone, CustomField
from okno.contacts.services import MESSENGER_KINDS, SCALAR_FIELDS
from okno.core.reasons import reason_text

# Brand names read the same in every language; only "other" is a word to translate.
MESSENGER_LABELS = {
    "telegram": "Telegram", "whatsapp": "WhatsApp", "viber": "Viber", "vk": "VK", "instagram": "Instagram",
    "jivo": "Jivo", "jivo_visitor": gettext_noop("Jivo (visitor №)"), "max": "MAX", "skype": "Skype",
    "other": gettext_noop("other"),
}

# The edit form posts this beside the messenger rows: without it (an older page, another
# form posting here) the card's handles are left as they are, like any field not posted.
HANDLES_MARKER = "handles_shown"


def messenger_label(kind: str) -> str:
    """The messenger's name as people write it; a kind an adapter added shows as is."""
    return _(MESSENGER_LABELS[kind]) if kind in MESSENGER_LABELS else kind


def messenger_kind_choices() -> list[tuple[str, str]]:
    """(kind, label) for the select, in the user's language."""
    return [(kind, messenger_label(kind)) for kind in MESSENGER_KINDS]


@dataclass
class ContactFormValues:
    """What the form shows: the values as typed, and the errors by field."""

    scalars: dict[str, str] = field(default_factory=dict)
    phones: list[dict] = field(default_factory=list)  # {"number", "kind", "error"}
    emails: list[dict] = field(default_factory=list)  # {"email", "error"}
    handles: list[dict] = field(default_factory=list)  # {"kind", "handle", "error"}
    tags: str = ""
    responsible_id: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def contact_form_parse(post: QueryDict) -> tuple[dict, ContactFormValues]:
    """The raw dict for `contact_data_clean`, and the values to redisplay on error.

    Empty phone, e-mail and messenger inputs are dropped before validation, so an error's
    index ("phones[1]", "handles[0].kind") is the index among the rows the form shows again.
    """
    values = ContactFormValues()
    raw: dict = {}
    for name in SCALAR_FIELDS:
        raw[name] = values.scalars[name] = post.get(name, "").strip()
    raw["company"] = values.scalars["company"] = post.get("company", "").strip()
    numbers, kinds = post.getlist("phones"), post.getlist("phone_kinds")
    phones = []
    for i, number in enumerate(numbers):
        if number.strip():
            kind = kinds[i] if i < len(kinds) and kinds[i] else ContactPhone.Kind.MOBILE
            phones.append({"number": number.strip(), "kind": kind})
    raw["phones"] = phones
    values.phones = [dict(p) for p in phones]
    emails = [e.strip() for e in post.getlist("emails") if e.strip()]
    raw["emails"] = emails
    values.emails = [{"email": e} for e in emails]
    if HANDLES_MARKER in post:
        handles, kinds = post.getlist("handles"), post.getlist("handle_kinds")
        rows = [{"kind": kinds[i] if i < len(kinds) else "", "handle": h.strip()}
                for i, h in enumerate(handles) if h.strip()]
        raw["handles"] = rows
        values.handles = [dict(h) for h in rows]
    values.tags = post.get("tags", "")
    raw["tags"] = [t.strip() for t in values.tags.split(",") if t.strip()]
    values.responsible_id = post.get("responsible_id", "")
    raw["responsible_id"] = int(values.responsible_id) if values.responsible_id.isdigit() else None
    custom = {}
    for spec in CustomField.objects.all():
        if f"custom.{spec.key}" not in post:
            continue  # a field added after the form was opened: leave its value alone
        value = post.get(f"custom.{spec.key}", "").strip()
        values.custom[spec.key] = value
        custom[spec.key] = value or None
    raw["custom"] = custom
    return raw, values


def contact_form_errors(values: ContactFormValues, by_field: dict[str, str]) -> ContactFormValues:
    """Puts each service error beside the input it is about."""
    for name, reason in by_field.items():
        text = reason_text(reason)
        if name.startswith(("phones[", "emails[", "handles[")):
            key, _sep, rest = name.partition("[")
            index = int(rest.split("]")[0])
            rows = {"phones": values.phones, "emails": values.emails, "handles": values.handles}[key]
            if index < len(rows):
                rows[index]["error"] = text
                continue
        values.errors[name] = text
    return values


def contact_form_initial(contact: Contact) -> ContactFormValues:
    """The form filled from an existing card, for editing."""
    values = ContactFormValues()
    for name in SCALAR_FIELDS:
        values.scalars[name] = getattr(contact, name)
    values.scalars["company"] = contact.company.name if contact.company_id else ""
    values.phones = [
        {"number": p.display, "kind": p.kind} for p in contact.phones.all()
    ]
    values.emails = [{"email": e.email} for e in contact.emails.all()]
    values.handles = [{"kind": h.kind, "handle": h.handle} for h in contact.handles.all()]
    values.tags = ", ".join(contact.tags.order_by("name").values_list("name", flat=True))
    values.responsible_id = str(contact.responsible_id or "")
    values.custom = {k: "" if v is None else str(v) for k, v in contact.custom.items()}
    return values
