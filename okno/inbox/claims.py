"""A phone a customer claims in a chat: proposed on the card, decided by a person.

Anyone can type a stranger's number into a chat, or share a stranger's contact. Had the
number identified the sender, the sender would have joined the stranger's card, and a
manager's reply to "the customer" would have gone to them. So only proof identifies
(Telegram's shared contact of the sender themself, `user_id` equal to the sender's: see
okno.inbox.adapters.telegram); a claim is kept on its message, `meta.phone_claims`:

    [{"phone": "+79161234567", "source": "text" | "contact", "name": "<shared contact's name>",
      "status": "proposed" | "confirmed" | "dismissed",
      "decided_by": <user id>, "decided_by_name": "...", "decided_at": "<iso>",
      "outcome": "attached" | "added", "merge_id": <ContactMerge id>, "card_id": <kept card>}]

and the card shows it under its message with what a person may do:
- the number is on another card the person may open: Confirm merges the conversation's card
  into that card (the existing merge: visible in both cards' history, undoable);
- the number is on no card: Confirm adds it to the conversation's card (the card's history
  says who added it);
- the number is on a card the person may not open: they learn only that it is another
  department's customer (no name, no id, as everywhere a card is out of sight) and may dismiss;
- Dismiss leaves everything as it is.
A claim is decided once; a second decision (two people at once) is refused.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts import services as contact_services
from okno.contacts.merge import contact_merge
from okno.contacts.models import Contact, ContactPhone
from okno.core.errors import ApiError
from okno.core.phones import format_phone
from okno.inbox.models import Message
from okno.people.models import User
from okno.people.visibility import contact_visibility_q


class ClaimRefused(Exception):
    """The decision cannot be made (decided already, the number moved meanwhile...): the reason says why."""

    def __init__(self, reason: str, *, status: int = 409):
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass
class ClaimView:
    """One claim as a given person sees it on the card."""

    index: int
    phone: str  # for display
    source: str
    name: str
    status: str
    decided_by_name: str
    # The card that has the number, when it is not this card and the viewer may open it.
    owner: Contact | None
    # The number is on a card the viewer may not open.
    owner_hidden: bool
    # The number is on this card already: nothing to decide.
    on_this_card: bool


def _claims(message: Message) -> list[dict]:
    meta = message.meta if isinstance(message.meta, dict) else {}
    return [c for c in meta.get("phone_claims") or [] if isinstance(c, dict) and c.get("phone")]


def phone_claims_for_viewer(*, user: User, message: Message) -> list[ClaimView]:
    """The message's claims as `user` may see them (a few queries, only for a message with claims)."""
    claims = _claims(message)
    if not claims:
        return []
    contact_id = message.conversation.contact_id
    phones = sorted({c["phone"] for c in claims if c.get("status") == "proposed"})
    holders: dict[str, list[int]] = {}
    for e164, cid in (ContactPhone.objects.filter(e164__in=phones, contact__status=Contact.Status.ACTIVE)
                      .order_by("contact_id").values_list("e164", "contact_id")):
        holders.setdefault(e164, []).append(cid)
    ids = {cid for found in holders.values() for cid in found}
    visible = {c.pk: c for c in Contact.objects.filter(contact_visibility_q(user), pk__in=ids)} if ids else {}
    views = []
    for index, claim in enumerate(_claims(message)):
        found = holders.get(claim["phone"], [])
        others = [cid for cid in found if cid != contact_id]
        owner = next((visible[cid] for cid in others if cid in visible), None)
        views.append(ClaimView(
            index=index, phone=format_phone(claim["phone"]), source=str(claim.get("source") or ""),
            name=str(claim.get("name") or ""), status=str(claim.get("status") or ""),
            decided_by_name=str(claim.get("decided_by_name") or ""), owner=owner,
            owner_hidden=owner is None and bool(others), on_this_card=contact_id in found,
        ))
    return views


def _add_phone(*, actor: User, contact: Contact, e164: str) -> None:
    """Adds the number to the card as a person would in its form: the card's history names them."""
    have = list(contact.phones.all())
    raw = {"phones": [{"number": p.display, "kind": p.kind} for p in have] + [e164]}
    data = contact_services.contact_data_clean(raw, actor=actor, partial=True)
    contact_services.contact_update(actor=actor, contact=contact, data=data)


@transaction.atomic
def phone_claim_decide(*, actor: User, message: Message, index: int, action: str, card_id: int | None = None) -> dict:
    """Confirms (attach to `card_id`, or add to this card) or dismisses a proposed claim; returns it decided.

    The caller has checked that `actor` may see the message. `card_id` is the card the person
    was shown as holding the number: it must still hold it, and the merge checks the actor may
    open it (404 otherwise, as for any card out of sight).
    """
    fresh = Message.objects.select_for_update().select_related("conversation").get(pk=message.pk)
    claims = [dict(c) for c in (fresh.meta.get("phone_claims") or [])]
    if not 0 <= index < len(claims) or not isinstance(claims[index], dict) or not claims[index].get("phone"):
        raise ClaimRefused(_("no such claim"), status=404)
    claim = claims[index]
    if claim.get("status") != "proposed":
        raise ClaimRefused(_("this claim was decided already"))
    contact = Contact.objects.get(pk=fresh.conversation.contact_id)
    e164 = claim["phone"]
    holders = set(ContactPhone.objects.filter(e164=e164, contact__status=Contact.Status.ACTIVE)
                  .exclude(contact_id=contact.pk).values_list("contact_id", flat=True))
    outcome: dict = {}
    if action == "dismiss":
        status = "dismissed"
    elif action == "attach":
        if card_id is None or card_id not in holders:
            raise ClaimRefused(_("that card does not have this number (any more)"))
        try:
            merge = contact_merge(actor=actor, keep_id=card_id, merge_ids=[contact.pk])
        except ApiError as exc:
            raise ClaimRefused(exc.detail, status=exc.status) from None
        status, outcome = "confirmed", {"outcome": "attached", "merge_id": merge.pk, "card_id": card_id}
    elif action == "add":
        if holders:
            raise ClaimRefused(_("this number is on another card: attach to it instead"))
        if not contact.phones.filter(e164=e164).exists():
            _add_phone(actor=actor, contact=contact, e164=e164)
        status, outcome = "confirmed", {"outcome": "added", "card_id": contact.pk}
    else:
        raise ClaimRefused(_("action: choose attach, add or dismiss"), status=400)
    claims[index] = {**claim, **outcome, "status": status, "decided_by": actor.pk,
                     "decided_by_name": actor.display_name, "decided_at": timezone.now().isoformat()}
    Message.objects.filter(pk=fresh.pk).update(meta={**fresh.meta, "phone_claims": claims})
    return claims[index]
