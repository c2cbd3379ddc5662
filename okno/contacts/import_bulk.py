"""Bulk versions of the card's writes and exact-match lookup, for imports of many rows.

Each function mirrors one single-card path so that an imported card is indistinguishable
from one made by `services.contact_create`: `contacts_bulk_create` writes the same rows
(company found by folded name, phones, e-mails, messenger handles, tags, the "created" history entry, search
text, blocking keys from `matching.blocking_keys`) in a handful of queries per batch;
`certain_matches` is the "certain" rule of `matching.find_candidates` (an active card with
the same normalised phone and extension, or e-mail) for a whole batch at once. A test compares both with
the single paths.
"""

from collections import defaultdict

from okno.contacts import matching
from okno.contacts.models import (
    Company,
    Contact,
    ContactEmail,
    ContactMatchKey,
    ContactPhone,
    FieldChange,
    MessengerHandle,
    Tag,
)
from okno.contacts.selectors import rows_of_active_cards
from okno.contacts.services import ContactData, contact_created_publish
from okno.core.bulk import chunks as _chunks
from okno.core.bulk import insert_rows
from okno.core.text import fold
from okno.people.models import User


def certain_matches(*, phones: set[tuple[str, str]], emails: set[str]
                    ) -> tuple[dict[tuple[str, str], list[int]], dict[str, list[int]]]:
    """Active cards by (e164, extension) and by e-mail, oldest first: the "certain" rule.

    A number with an extension matches only the same extension (colleagues share a main
    line), as in `matching`.
    """
    by_phone: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_email: dict[str, list[int]] = defaultdict(list)
    for e164, ext, cid in rows_of_active_cards(ContactPhone.objects, "e164", {e164 for e164, _ in phones},
                                               ("e164", "extension")):
        if (e164, ext) in phones and cid not in by_phone[(e164, ext)]:
            by_phone[(e164, ext)].append(cid)
    for email, cid in rows_of_active_cards(ContactEmail.objects, "email", emails, ("email",)):
        if cid not in by_email[email]:
            by_email[email].append(cid)
    return dict(by_phone), dict(by_email)


def _companies_for(names: list[str]) -> dict[str, Company]:
    """Folded name → company, as `services._company_for` finds or makes it, for many names."""
    wanted: dict[str, str] = {}
    for name in names:
        if name:
            wanted.setdefault(fold(name), name)
    found: dict[str, Company] = {}
    for chunk in _chunks(list(wanted)):
        for company in Company.objects.filter(search_name__in=chunk).order_by("-pk"):
            found[company.search_name] = company  # the lowest pk wins, as .order_by("pk").first()
    missing = [Company(name=wanted[key], search_name=key) for key in wanted if key not in found]
    for company in Company.objects.bulk_create(missing):
        found[company.search_name] = company
    return found


def _tags_for(names: set[str]) -> dict[str, Tag]:
    Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
    found: dict[str, Tag] = {}
    for chunk in _chunks(sorted(names)):
        found.update({t.name: t for t in Tag.objects.filter(name__in=chunk)})
    return found


def _search_text(data: ContactData, company: Company | None) -> str:
    parts = (data.last_name, data.first_name, data.middle_name, company.name if company else "")
    return fold(" ".join(p for p in parts if p))[:700]


def contacts_bulk_create(*, actor: User | None, items: list[ContactData]) -> list[Contact]:
    """Creates one card per item, in the caller's transaction; returns them in order."""
    if not items:
        return []
    companies = _companies_for([d.company or "" for d in items])
    contacts = []
    for data in items:
        company = companies.get(fold(data.company)) if data.company else None
        responsible = data.responsible
        contacts.append(Contact(
            first_name=data.first_name, last_name=data.last_name, middle_name=data.middle_name,
            city=data.city, source=data.source, company=company, responsible=responsible,
            department_id=responsible.department_id if responsible else (actor.department_id if actor else None),
            custom={k: v for k, v in data.custom.items() if v is not None},
            created_by=actor, search_text=_search_text(data, company), dedup_dirty=True,
        ))
    contacts = Contact.objects.bulk_create(contacts)

    phones, emails, handles, history, keys, tag_links = [], [], [], [], [], []
    tag_names = {name for data in items for name in (data.tags or [])}
    tags = _tags_for(tag_names) if tag_names else {}
    through = Contact.tags.through
    for contact, data in zip(contacts, items, strict=True):
        phones += [{"contact_id": contact.pk, "e164": e, "extension": x, "kind": k, "raw": r}
                   for e, x, k, r in data.phones]
        emails += [{"contact_id": contact.pk, "email": e} for e in data.emails]
        handles += [{"contact_id": contact.pk, "kind": k, "handle": h} for k, h in data.handles]
        history.append({"contact_id": contact.pk, "user_id": actor.pk if actor else None, "field": "created",
                        "old": "", "new": contact.full_name})
        probe = matching.Probe(
            first_name=contact.first_name, last_name=contact.last_name, middle_name=contact.middle_name,
            phones=[p[0] for p in data.phones if not p[1]], phones_ext=[(p[0], p[1]) for p in data.phones if p[1]],
            emails=list(data.emails),
            company=contact.company.name if contact.company else "", city=contact.city,
        )
        keys += [{"contact_id": contact.pk, "key": k} for k in sorted(matching.blocking_keys(probe))]
        tag_links += [{"contact_id": contact.pk, "tag_id": tags[name].pk} for name in (data.tags or [])]
    insert_rows(ContactPhone, phones)
    insert_rows(ContactEmail, emails)
    insert_rows(MessengerHandle, handles)
    insert_rows(FieldChange, history)
    insert_rows(ContactMatchKey, keys)
    insert_rows(through, tag_links)
    for contact, data in zip(contacts, items, strict=True):
        contact_created_publish(contact=contact, phones=[p[0] for p in data.phones],
                                emails=list(data.emails), actor=actor)
    return contacts
