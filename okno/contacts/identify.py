"""Who is writing? Finding the card of whoever reaches us through a channel.

Order of evidence: a messenger/chat identity (Telegram user id, Jivo user token) is the
strongest, then a normalised phone, then an e-mail. An unknown sender becomes a new card.
What the sender tells us later (a phone typed in the chat) is added to the card; when that
reveals an existing customer, the newer card is merged into the older one, so one customer
stays one card.
"""

from dataclasses import dataclass, field

from okno.contacts import services
from okno.contacts.merge import contact_merge
from okno.contacts.models import Contact, ContactEmail, ContactPhone, MessengerHandle
from okno.contacts.selectors import rows_of_active_cards
from okno.core.emails import InvalidEmail, normalize_email
from okno.core.phones import try_normalize_phone
from okno.people.models import User


@dataclass
class Identity:
    name: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    handles: list[tuple[str, str]] = field(default_factory=list)
    city: str = ""


def split_name(name: str) -> dict[str, str]:
    """"Иван" -> first; "Иван Петров" -> first last; "Петров Иван Сергеевич" -> last first middle."""
    words = name.split()
    if not words:
        return {}
    if len(words) == 1:
        return {"first_name": words[0]}
    if len(words) == 2:
        return {"first_name": words[0], "last_name": words[1]}
    return {"last_name": words[0], "first_name": words[1], "middle_name": " ".join(words[2:])}


def _clean(identity: Identity) -> tuple[list[str], list[str]]:
    phones = []
    for raw in identity.phones:
        phone = try_normalize_phone(raw)
        if phone and phone.e164 not in phones:
            phones.append(phone.e164)
    emails = []
    for raw in identity.emails:
        try:
            email = normalize_email(raw)
        except InvalidEmail:
            continue
        if email not in emails:
            emails.append(email)
    return phones, emails


def identity_keys(identity: Identity) -> set[tuple[str, str]]:
    """What can point at a card: ("phone", e164), ("email", address), (handle kind, id)."""
    phones, emails = _clean(identity)
    return {("phone", p) for p in phones} | {("email", e) for e in emails} | set(identity.handles)


def identity_keys_known(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Those of the keys that an active card already has, for a whole batch of senders at once."""
    phones = [v for k, v in keys if k == "phone"]
    emails = [v for k, v in keys if k == "email"]
    handles = {(k, v) for k, v in keys if k not in ("phone", "email")}
    known = {("phone", p) for p, _ in rows_of_active_cards(ContactPhone.objects, "e164", phones, ("e164",))}
    known |= {("email", e) for e, _ in rows_of_active_cards(ContactEmail.objects, "email", emails, ("email",))}
    known |= {(k, v) for k, v, _ in rows_of_active_cards(MessengerHandle.objects, "handle", {v for _, v in handles},
                                                         ("kind", "handle")) if (k, v) in handles}
    return known


def new_contact_data(identity: Identity, *, source: str = "") -> services.ContactData:
    """The card an unknown sender becomes: what they told us, named after the channel if nothing else."""
    phones, emails = _clean(identity)
    raw = {**split_name(identity.name), "phones": phones, "emails": emails, "source": source,
           "city": identity.city, "handles": [{"kind": k, "handle": h} for k, h in identity.handles]}
    if not (raw.get("first_name") or phones or emails or identity.handles):
        raw["first_name"] = source or "?"
    return services.contact_data_clean(raw, actor=None)


def _matches(identity: Identity, phones: list[str], emails: list[str]) -> list[int]:
    """Active cards sharing any identity, strongest evidence first, oldest first within each."""
    active = Contact.Status.ACTIVE
    found: list[int] = []
    for kind, handle in identity.handles:
        found += MessengerHandle.objects.filter(kind=kind, handle=handle, contact__status=active).order_by(
            "contact_id").values_list("contact_id", flat=True)
    if phones:
        found += ContactPhone.objects.filter(e164__in=phones, contact__status=active).order_by(
            "contact_id").values_list("contact_id", flat=True)
    if emails:
        found += ContactEmail.objects.filter(email__in=emails, contact__status=active).order_by(
            "contact_id").values_list("contact_id", flat=True)
    return list(dict.fromkeys(found))


def identity_is_of(contact: Contact, identity: Identity) -> bool:
    """Does the sender share a handle, phone or e-mail with this card (is it the same person)?"""
    phones, emails = _clean(identity)
    return (
        any(contact.handles.filter(kind=k, handle=h).exists() for k, h in identity.handles)
        or (bool(phones) and contact.phones.filter(e164__in=phones).exists())
        or (bool(emails) and contact.emails.filter(email__in=emails).exists())
    )


def contact_identify(*, identity: Identity, source: str = "", responsible: User | None = None) -> tuple[Contact, bool]:
    """The card of this sender, created or enriched; returns (contact, created)."""
    phones, emails = _clean(identity)
    ids = _matches(identity, phones, emails)
    if not ids:
        data = new_contact_data(identity, source=source)
        data.responsible = responsible
        contact, _candidates = services.contact_create(actor=None, data=data, on_duplicate="defer")
        return contact, True
    keep_id, others = min(ids), sorted(set(ids) - {min(ids)})
    if others:
        # The sender's identities point at several cards: they are one customer.
        contact_merge(actor=None, keep_id=keep_id, merge_ids=others, fields=None)
    contact = Contact.objects.get(pk=keep_id)
    _enrich(contact, identity, phones, emails)
    return contact, False


def _enrich(contact: Contact, identity: Identity, phones: list[str], emails: list[str]) -> None:
    """Adds what the sender told us and the card lacks; never overwrites what a person typed."""
    have_phones = set(contact.phones.values_list("e164", flat=True))
    have_emails = set(contact.emails.values_list("email", flat=True))
    have_handles = set(contact.handles.values_list("kind", "handle"))
    raw: dict = {}
    if set(phones) - have_phones:
        raw["phones"] = [{"number": p.display, "kind": p.kind} for p in contact.phones.all()] + [
            p for p in phones if p not in have_phones]
    if set(emails) - have_emails:
        raw["emails"] = sorted(have_emails) + [e for e in emails if e not in have_emails]
    if set(identity.handles) - have_handles:
        raw["handles"] = [{"kind": k, "handle": h} for k, h in sorted(have_handles | set(identity.handles))]
    if not contact.first_name and not contact.last_name and identity.name:
        raw.update(split_name(identity.name))
    if raw:
        data = services.contact_data_clean(raw, actor=None, partial=True)
        services.contact_update(actor=None, contact=contact, data=data)
