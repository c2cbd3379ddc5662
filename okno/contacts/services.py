"""Writing contacts: create, update, delete, notes. Every change is kept in FieldChange."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from okno.contacts import matching
from okno.contacts.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CustomField,
    FieldChange,
    MessengerHandle,
    Tag,
)
from okno.core import events
from okno.core.emails import InvalidEmail, normalize_email
from okno.core.errors import ApiError, FieldError
from okno.core.phones import InvalidPhone, normalize_phone
from okno.core.text import fold
from okno.people.models import User
from okno.people.visibility import users_visible_to

SCALAR_FIELDS = ("first_name", "last_name", "middle_name", "city", "source")
# Messengers and chat widgets a customer can be known by; channel adapters add theirs here.
MESSENGER_KINDS = ("telegram", "whatsapp", "viber", "vk", "instagram", "jivo", "jivo_visitor", "max", "skype", "other")


@dataclass
class PhoneInput:
    number: str
    kind: str = ContactPhone.Kind.MOBILE


@dataclass
class ContactData:
    """Validated, normalised input for a card. Build with `contact_data_clean`."""

    first_name: str = ""
    last_name: str = ""
    middle_name: str = ""
    city: str = ""
    source: str = ""
    company: str | None = None
    responsible: User | None = None
    phones: list[tuple[str, str, str, str]] = field(default_factory=list)  # e164, ext, kind, raw
    emails: list[str] = field(default_factory=list)
    handles: list[tuple[str, str]] = field(default_factory=list)  # kind, handle
    tags: list[str] | None = None
    custom: dict = field(default_factory=dict)
    given: set[str] = field(default_factory=set)  # which fields the caller sent (for PATCH)

    def probe(self) -> matching.Probe:
        return matching.Probe(
            first_name=self.first_name, last_name=self.last_name, middle_name=self.middle_name,
            phones=[p[0] for p in self.phones], emails=list(self.emails),
            company=self.company or "", city=self.city,
        )


def _clean_custom(values: dict, errors: dict[str, str]) -> dict:
    if not values:
        # Most cards (and nearly every import row) carry no custom values: no query.
        return {}
    defs = {f.key: f for f in CustomField.objects.all()}
    cleaned = {}
    for key, value in (values or {}).items():
        name = f"custom.{key}"
        spec = defs.get(key)
        if spec is None:
            errors[name] = "unknown custom field"
            continue
        if value is None or value == "":
            cleaned[key] = None
            continue
        if spec.type == CustomField.Type.NUMBER:
            if isinstance(value, bool):
                errors[name] = "must be a number"
                continue
            try:
                number = Decimal(str(value).replace(",", ".").strip())
            except InvalidOperation:
                errors[name] = "must be a number"
                continue
            cleaned[key] = int(number) if number == number.to_integral_value() else float(number)
        elif spec.type == CustomField.Type.DATE:
            try:
                cleaned[key] = datetime.date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                errors[name] = "must be a date as YYYY-MM-DD"
        elif spec.type == CustomField.Type.CHOICE:
            if str(value) not in spec.choices:
                errors[name] = f"must be one of: {', '.join(spec.choices)}"
                continue
            cleaned[key] = str(value)
        else:
            if not isinstance(value, (str, int, float)):
                errors[name] = "must be text"
                continue
            cleaned[key] = str(value)
    return cleaned


def contact_data_clean(raw: dict, *, actor: User | None, partial: bool = False) -> ContactData:
    """Validates and normalises card input from any door (API, form, import).

    Raises FieldError naming every bad field at once, so a person fixes them in one go.
    """
    errors: dict[str, str] = {}
    data = ContactData(given=set(raw))
    for name in SCALAR_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[name] = "must be text"
            continue
        setattr(data, name, value.strip())
    if not partial and not (data.first_name or data.last_name or raw.get("phones") or raw.get("emails")
                            or raw.get("handles")):
        errors["first_name"] = "a contact needs a name, a phone or an e-mail"

    for i, item in enumerate(raw.get("phones") or []):
        if isinstance(item, str):
            item = PhoneInput(number=item)
        elif isinstance(item, dict):
            item = PhoneInput(number=str(item.get("number", "")), kind=item.get("kind") or ContactPhone.Kind.MOBILE)
        if item.kind not in ContactPhone.Kind.values:
            errors[f"phones[{i}].kind"] = f"must be one of: {', '.join(ContactPhone.Kind.values)}"
            continue
        try:
            phone = normalize_phone(item.number)
        except InvalidPhone as exc:
            errors[f"phones[{i}]"] = str(exc)
            continue
        if all(p[0] != phone.e164 or p[1] != phone.extension for p in data.phones):
            data.phones.append((phone.e164, phone.extension, item.kind, item.number.strip()[:64]))

    for i, raw_email in enumerate(raw.get("emails") or []):
        try:
            email = normalize_email(str(raw_email))
        except InvalidEmail as exc:
            errors[f"emails[{i}]"] = str(exc)
            continue
        if email not in data.emails:
            data.emails.append(email)

    for i, item in enumerate(raw.get("handles") or []):
        kind = str((item or {}).get("kind", "")).strip().lower() if isinstance(item, dict) else ""
        handle = str((item or {}).get("handle", "")).strip() if isinstance(item, dict) else ""
        if kind not in MESSENGER_KINDS:
            errors[f"handles[{i}].kind"] = f"must be one of: {', '.join(MESSENGER_KINDS)}"
        elif not handle or len(handle) > 255:
            errors[f"handles[{i}].handle"] = "must be 1 to 255 characters"
        elif (kind, handle) not in data.handles:
            data.handles.append((kind, handle))

    if raw.get("company") is not None:
        data.company = str(raw["company"]).strip()
    if raw.get("tags") is not None:
        data.tags = sorted({str(t).strip() for t in raw["tags"] if str(t).strip()})
    data.custom = _clean_custom(raw.get("custom") or {}, errors)

    responsible_id = raw.get("responsible_id")
    if responsible_id is not None:
        qs = User.objects.filter(is_active=True)
        if actor is not None:
            qs = qs.filter(users_visible_to(actor))
        data.responsible = qs.filter(pk=responsible_id).first()
        if data.responsible is None:
            errors["responsible_id"] = "no such user you may assign"
    elif not partial and actor is not None and not actor.is_admin:
        data.responsible = actor
    if errors:
        raise FieldError(errors)
    return data


def _company_for(name: str | None) -> Company | None:
    if not name:
        return None
    key = fold(name)
    company = Company.objects.filter(search_name=key).order_by("pk").first()
    return company or Company.objects.create(name=name, search_name=key)


def contact_refresh_derived(contact: Contact) -> None:
    """Recomputes what is derived from the card: search text and blocking keys."""
    company = contact.company.name if contact.company_id else ""
    search = fold(" ".join(p for p in (contact.last_name, contact.first_name, contact.middle_name, company) if p))
    Contact.objects.filter(pk=contact.pk).update(search_text=search[:700], dedup_dirty=True)
    contact.search_text = search[:700]
    matching.index_contact(contact)


def _set_phones(contact: Contact, phones: list[tuple[str, str, str, str]]) -> None:
    contact.phones.all().delete()
    ContactPhone.objects.bulk_create(
        [ContactPhone(contact=contact, e164=e, extension=x, kind=k, raw=r) for e, x, k, r in phones]
    )


def _set_emails(contact: Contact, emails: list[str]) -> None:
    contact.emails.all().delete()
    ContactEmail.objects.bulk_create([ContactEmail(contact=contact, email=e) for e in emails])


def _set_handles(contact: Contact, handles: list[tuple[str, str]]) -> None:
    contact.handles.all().delete()
    MessengerHandle.objects.bulk_create([MessengerHandle(contact=contact, kind=k, handle=h) for k, h in handles])


def _set_tags(contact: Contact, names: list[str]) -> None:
    tags = [Tag.objects.get_or_create(name=n)[0] for n in names]
    contact.tags.set(tags)


def contact_create(
    *, actor: User | None, data: ContactData, on_duplicate: str = "create"
) -> tuple[Contact, list[matching.Candidate]]:
    """Creates a card after looking for the existing customer.

    With on_duplicate="reject" a certain or likely match refuses the create (409 with the
    candidates); a mere namesake ("possible") does not, or every second Иванов would be
    refused. With "create" the card is made and all candidates come back beside it. With
    "defer" nothing is searched now: the caller has already looked for the exact identities
    (a channel identifying its sender), and the background scan finds likely duplicates, so
    the inbound path does not pay for a fuzzy name search on every new customer.
    """
    candidates = [] if on_duplicate == "defer" else matching.find_candidates(data.probe())
    if on_duplicate == "reject" and any(c.level in ("certain", "likely") for c in candidates):
        raise ApiError(
            "This customer may already exist", status=409, candidates=[c.as_dict() for c in candidates]
        )
    with transaction.atomic():
        responsible = data.responsible
        contact = Contact.objects.create(
            first_name=data.first_name, last_name=data.last_name, middle_name=data.middle_name,
            city=data.city, source=data.source, company=_company_for(data.company),
            responsible=responsible,
            department_id=responsible.department_id if responsible else (actor.department_id if actor else None),
            custom={k: v for k, v in data.custom.items() if v is not None},
            created_by=actor,
        )
        _set_phones(contact, data.phones)
        _set_emails(contact, data.emails)
        _set_handles(contact, data.handles)
        if data.tags:
            _set_tags(contact, data.tags)
        FieldChange.objects.create(contact=contact, user=actor, field="created", old="", new=contact.full_name)
        contact_refresh_derived(contact)
        contact_created_publish(contact=contact, phones=[p[0] for p in data.phones], emails=list(data.emails),
                                actor=actor)
    return contact, candidates


def contact_created_publish(*, contact: Contact, phones: list[str], emails: list[str], actor: User | None) -> None:
    """Tells subscribers (outbound webhooks' `contact.created`) in the creating transaction."""
    events.publish("contact.created", subject=contact, actor=actor, at=contact.created_at, data={
        "contact_id": contact.pk, "first_name": contact.first_name, "last_name": contact.last_name,
        "middle_name": contact.middle_name, "company": contact.company.name if contact.company_id else "",
        "phones": phones, "emails": emails, "source": contact.source,
        "responsible_id": contact.responsible_id, "created_at": contact.created_at.isoformat()})


def _phones_text(contact: Contact) -> str:
    return ", ".join(p.display for p in contact.phones.all())


def _emails_text(contact: Contact) -> str:
    return ", ".join(e.email for e in contact.emails.all())


def _handles_text(contact: Contact) -> str:
    return ", ".join(f"{h.kind}:{h.handle}" for h in contact.handles.all())


@transaction.atomic
def contact_update(*, actor: User | None, contact: Contact, data: ContactData) -> Contact:
    """Applies the given fields; each changed value is written to the card's history."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    changes: list[tuple[str, str, str]] = []

    def track(name: str, old, new) -> None:
        if (old or "") != (new or ""):
            changes.append((name, "" if old is None else str(old), "" if new is None else str(new)))

    for name in SCALAR_FIELDS:
        if name in data.given:
            track(name, getattr(contact, name), getattr(data, name))
            setattr(contact, name, getattr(data, name))
    if "company" in data.given:
        company = _company_for(data.company)
        track("company", contact.company.name if contact.company_id else "", company.name if company else "")
        contact.company = company
    if "responsible_id" in data.given:
        old = contact.responsible.display_name if contact.responsible_id else ""
        track("responsible", old, data.responsible.display_name if data.responsible else "")
        contact.responsible = data.responsible
        if data.responsible and data.responsible.department_id:
            contact.department_id = data.responsible.department_id
    if "custom" in data.given:
        merged = dict(contact.custom)
        for key, value in data.custom.items():
            track(f"custom.{key}", merged.get(key), value)
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        contact.custom = merged
    if "phones" in data.given:
        old = _phones_text(contact)
        _set_phones(contact, data.phones)
        track("phones", old, _phones_text(contact))
    if "emails" in data.given:
        old = _emails_text(contact)
        _set_emails(contact, data.emails)
        track("emails", old, _emails_text(contact))
    if "handles" in data.given:
        old = _handles_text(contact)
        _set_handles(contact, data.handles)
        track("handles", old, _handles_text(contact))
    if "tags" in data.given and data.tags is not None:
        old = ", ".join(contact.tags.order_by("name").values_list("name", flat=True))
        _set_tags(contact, data.tags)
        track("tags", old, ", ".join(data.tags))
    contact.save()
    FieldChange.objects.bulk_create(
        [FieldChange(contact=contact, user=actor, field=f, old=o, new=n) for f, o, n in changes]
    )
    contact_refresh_derived(contact)
    return contact


@transaction.atomic
def contact_delete(*, actor: User | None, contact: Contact) -> None:
    """Deleting hides the card; its rows stay, so nothing a customer sent is lost."""
    # Dirty, so that the scan drops the card's duplicate pairs on its next pass.
    Contact.objects.filter(pk=contact.pk).update(status=Contact.Status.DELETED, dedup_dirty=True)
    FieldChange.objects.create(contact=contact, user=actor, field="status", old=contact.status, new="deleted")
