"""Finding the existing customer before creating one.

This module owns the duplicate rules: exact matches on a normalised phone or e-mail
(level "certain"), and name-based matches found through blocking keys stored in
ContactMatchKey. Every candidate carries a score (0-1) and reasons a person understands.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from okno.contacts.models import Contact, ContactEmail, ContactMatchKey, ContactPhone
from okno.core.phones import format_phone
from okno.core.text import fold


@dataclass
class Probe:
    """What we know of a would-be or existing customer, already normalised."""

    first_name: str = ""
    last_name: str = ""
    middle_name: str = ""
    phones: list[str] = field(default_factory=list)  # E.164
    emails: list[str] = field(default_factory=list)  # lower-cased
    company: str = ""
    city: str = ""

    @classmethod
    def of(cls, contact: Contact) -> "Probe":
        return cls(
            first_name=contact.first_name,
            last_name=contact.last_name,
            middle_name=contact.middle_name,
            phones=[p.e164 for p in contact.phones.all()],
            emails=[e.email for e in contact.emails.all()],
            company=contact.company.name if contact.company_id else "",
            city=contact.city,
        )


@dataclass
class Candidate:
    contact_id: int
    level: str
    score: float
    reasons: list[str]

    def as_dict(self) -> dict:
        return {"id": self.contact_id, "level": self.level, "score": round(self.score, 3), "reasons": self.reasons}


def blocking_keys(probe: Probe) -> set[str]:
    """Keys under which a contact is filed; two contacts sharing one are compared."""
    last, first = fold(probe.last_name), fold(probe.first_name)
    keys = set()
    if last and first:
        keys.add(f"n:{last}|{first}")
    return keys


def find_candidates(probe: Probe, *, exclude_ids: set[int] | frozenset[int] = frozenset(),
                    within: QuerySet | None = None) -> list[Candidate]:
    """Existing active contacts that may be the same customer, best first."""
    base = within if within is not None else Contact.objects.all()
    base = base.filter(status=Contact.Status.ACTIVE)
    found: dict[int, Candidate] = {}

    def add(cid: int, level: str, score: float, reason: str) -> None:
        if cid in exclude_ids:
            return
        cand = found.get(cid)
        if cand is None:
            found[cid] = Candidate(cid, level, score, [reason])
        else:
            cand.reasons.append(reason)
            cand.score = max(cand.score, score)

    if probe.phones:
        rows = ContactPhone.objects.filter(e164__in=probe.phones, contact__in=base).values_list("contact_id", "e164")
        for cid, e164 in rows:
            add(cid, "certain", 1.0, f"same phone {format_phone(e164)}")
    if probe.emails:
        rows = ContactEmail.objects.filter(email__in=probe.emails, contact__in=base).values_list("contact_id", "email")
        for cid, email in rows:
            add(cid, "certain", 1.0, f"same e-mail {email}")
    keys = blocking_keys(probe)
    if keys:
        ids = ContactMatchKey.objects.filter(key__in=keys, contact__in=base).values_list("contact_id", flat=True)
        for cid in ids:
            if cid not in found:
                add(cid, "possible", 0.5, "same name")
    return sorted(found.values(), key=lambda c: -c.score)


def index_contact(contact: Contact) -> None:
    """Re-files the contact under its current blocking keys."""
    keys = blocking_keys(Probe.of(contact))
    ContactMatchKey.objects.filter(contact=contact).delete()
    ContactMatchKey.objects.bulk_create([ContactMatchKey(contact=contact, key=k) for k in sorted(keys)])
