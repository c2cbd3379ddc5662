"""Who is writing? Finding the card of whoever reaches us through a channel.

Order of evidence: a messenger/chat identity (Telegram user id, Jivo user token) is the
strongest, then a normalised phone, then an e-mail (or another spelling of the same Gmail or
Yandex mailbox). An unknown sender becomes a new card. What the sender tells us later (a phone
typed in the chat) is added to the card; when that reveals an existing customer, the newer card
is merged into the older one, so one customer stays one card. Only proof of one person merges
(docs/duplicates.md, "Shared phones"): a landline shared by colleagues or a family points at a
card but never merges two.
"""

from dataclasses import dataclass, field

from okno.contacts import matching, services
from okno.contacts.merge import contact_merge
from okno.contacts.models import Contact, ContactEmail, ContactMatchKey, ContactPhone, DuplicatePair, MessengerHandle
from okno.contacts.selectors import rows_of_active_cards
from okno.core.emails import InvalidEmail, is_aliased, mailbox_key, normalize_email
from okno.core.phones import is_personal, try_normalize_phone
from okno.people.models import User


@dataclass
class Identity:
    name: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    handles: list[tuple[str, str]] = field(default_factory=list)
    city: str = ""
    # The phones and e-mails are what the sender typed (a web form, Jivo's pre-chat fields), not
    # the provider's: they find the card, but cards they point at are never merged automatically
    # (a wife's e-mail and her husband's phone on one form are two people's).
    typed: bool = False


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
    """What can point at a card: ("phone", e164), ("email", address), ("mailbox", Gmail/Yandex
    mailbox key), (handle kind, id)."""
    phones, emails = _clean(identity)
    return ({("phone", p) for p in phones} | {("email", e) for e in emails}
            | {("mailbox", mailbox_key(e)) for e in emails if is_aliased(e)} | set(identity.handles))


def identity_keys_known(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Those of the keys that an active card already has, for a whole batch of senders at once."""
    phones = [v for k, v in keys if k == "phone"]
    emails = [v for k, v in keys if k == "email"]
    boxes = [v for k, v in keys if k == "mailbox"]
    handles = {(k, v) for k, v in keys if k not in ("phone", "email", "mailbox")}
    known = {("phone", p) for p, _ in rows_of_active_cards(ContactPhone.objects, "e164", phones, ("e164",))}
    known |= {("email", e) for e, _ in rows_of_active_cards(ContactEmail.objects, "email", emails, ("email",))}
    box_keys = {f"m:{b}"[:64]: b for b in boxes}
    known |= {("mailbox", box_keys[key]) for key, _ in rows_of_active_cards(
        ContactMatchKey.objects, "key", list(box_keys), ("key",))}
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


def _sender_features(identity: Identity, phones: list[str], emails: list[str]) -> matching.Features:
    return matching.features_of(**_name_parts(identity.name), company="", city=identity.city,
                                phones=[(p, "") for p in phones], emails=emails)


def _name_parts(name: str) -> dict[str, str]:
    parts = split_name(name)
    return {"first": parts.get("first_name", ""), "last": parts.get("last_name", ""),
            "middle": parts.get("middle_name", "")}


def _links(identity: Identity, phones: list[str], emails: list[str]) -> dict[int, bool]:
    """Active cards the sender's identities point at, oldest first: card id -> proof of one person.

    A messenger id, an e-mail, a Gmail/Yandex mailbox and a personal (mobile) phone are proof.
    A landline is not: an office's main number is on several colleagues' cards. A landline points
    at a card unless the sender's first name and the card's disagree (a colleague at the same
    office is not this sender), and is proof only when the names agree (matching.names_agree).
    """
    active = Contact.Status.ACTIVE
    proof: set[int] = set()
    for kind, handle in identity.handles:
        proof.update(MessengerHandle.objects.filter(kind=kind, handle=handle, contact__status=active)
                     .values_list("contact_id", flat=True))
    by_landline: set[int] = set()
    if phones:
        for cid, e164, ext in ContactPhone.objects.filter(e164__in=phones, contact__status=active).values_list(
                "contact_id", "e164", "extension"):
            (proof if is_personal(e164, ext) else by_landline).add(cid)
    if emails:
        proof.update(ContactEmail.objects.filter(email__in=emails, contact__status=active)
                     .values_list("contact_id", flat=True))
        proof.update(_mailbox_matches(emails))
    links = dict.fromkeys(proof, True)
    landline_only = by_landline - proof
    if landline_only:
        sender = _sender_features(identity, phones, emails)
        cards = matching.load_features(landline_only, base=Contact.objects.filter(status=active))
        for cid, card in cards.items():
            if matching.names_agree(sender, card):
                links[cid] = True
            elif not (len(sender.first) >= 2 and len(card.first) >= 2):
                links[cid] = False  # an unnamed caller, or a card without a name: the number's card
    return dict(sorted(links.items()))


def _mailbox_matches(emails: list[str]) -> set[int]:
    """Active cards with an address that reaches the same Gmail or Yandex mailbox as one of these."""
    boxes = {mailbox_key(e) for e in emails if is_aliased(e)}
    if not boxes:
        return set()
    keys = sorted(f"m:{b}"[:64] for b in boxes)
    ids = set(ContactMatchKey.objects.filter(key__in=keys, contact__status=Contact.Status.ACTIVE)
              .values_list("contact_id", flat=True))
    # Keys are cut at 64 characters: compare the mailboxes themselves.
    return {cid for cid, email in ContactEmail.objects.filter(contact_id__in=ids).values_list("contact_id", "email")
            if is_aliased(email) and mailbox_key(email) in boxes}


def _dismissed(a: int, b: int) -> bool:
    return DuplicatePair.objects.filter(contact_a_id=min(a, b), contact_b_id=max(a, b), dismissed=True).exists()


def identity_is_of(contact: Contact, identity: Identity) -> bool:
    """Does the sender share a handle, e-mail, mailbox or phone with this card (is it the same person)?

    A landline counts unless the sender's and the card's first names disagree (`_links`).
    """
    phones, emails = _clean(identity)
    return contact.pk in _links(identity, phones, emails)


def contact_identify(*, identity: Identity, source: str = "", responsible: User | None = None) -> tuple[Contact, bool]:
    """The card of this sender, created or enriched; returns (contact, created).

    When the sender's identities point at several cards, the cards proven to be the sender's
    (`_links`) are merged into the oldest of them, unless a person said of a pair that they are
    not duplicates. A card found only through a landline is never merged: a call from an
    office's main number is not proof of which colleague called.
    """
    phones, emails = _clean(identity)
    links = _links(identity, phones, emails)
    if not links:
        data = new_contact_data(identity, source=source)
        data.responsible = responsible
        contact, _candidates = services.contact_create(actor=None, data=data, on_duplicate="defer")
        return contact, True
    proven = [cid for cid, proof in links.items() if proof]
    keep_id = proven[0] if proven else next(iter(links))
    others = [cid for cid in proven if cid != keep_id and not _dismissed(keep_id, cid)]
    if others and not identity.typed:
        # The sender's identities point at several cards: they are one customer.
        said = [*phones, *emails, *(handle for _kind, handle in identity.handles)]
        reason = f"one sender ({source}) on both cards: {', '.join(said)}" if source else \
            f"one sender on both cards: {', '.join(said)}"
        contact_merge(actor=None, keep_id=keep_id, merge_ids=others, fields=None, reason=reason[:300])
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
