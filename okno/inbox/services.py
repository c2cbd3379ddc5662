"""From a stored inbound event to a card, a conversation, a message and a lead."""

import dataclasses

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Exists, Q
from django.utils import timezone

from okno.contacts.identify import Identity, contact_identify, identity_is_of
from okno.core import events
from okno.deals.models import Deal, Lead, Stage
from okno.deals.services import lead_create, lead_open_for_contact
from okno.inbox import adapters
from okno.inbox.items import InboundItem
from okno.inbox.models import Channel, Conversation, InboundEvent, Message
from okno.people.models import User
from okno.timeline.models import Activity
from okno.timeline.services import activity_record

ACTIVITY_KIND = {"chat": "chat", "form": "form", "email": "email", "message": "message"}


def _operator(email: str) -> User | None:
    return User.objects.filter(email__iexact=email, is_active=True).first() if email else None


# How much of a message the card's timeline line shows before "…".
SUMMARY_TEXT_CHARS = 120


def text_start(text: str, chars: int = SUMMARY_TEXT_CHARS) -> str:
    """The start of a message on one line: whitespace folded, cut at a word with "…"."""
    line = " ".join(text.split())
    if len(line) <= chars:
        return line
    cut = line[:chars - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[chars // 2:] else cut).rstrip(" ,.;:-") + "…"


def activity_summary(channel: Channel, item: InboundItem) -> str:
    return f"{channel.name}: {item.subject or text_start(item.text)}"[:500]


def conversation_summary_update(*, conversation: Conversation, channel: Channel, message: Message) -> None:
    """The conversation's line on the card's timeline reads its subject (an e-mail's), else the
    start of its newest message: a chat opened by an event with no text ("Сайт: ") reads what
    was written once it is. A message older than another of the conversation (a transcript's
    earlier lines) fills only a line that is still empty. One UPDATE, through the card's
    (contact, occurred_at) index."""
    text = text_start(message.text)
    if conversation.subject or not text:
        return
    bare = f"{channel.name}: "
    newer = Message.objects.filter(conversation_id=conversation.pk, sent_at__gt=message.sent_at)
    Activity.objects.filter(
        Q(summary__in=[bare, bare.strip()]) | ~Exists(newer),
        contact_id=conversation.contact_id, detail_id=conversation.pk,
        detail_type=ContentType.objects.get_for_model(Conversation),
    ).update(summary=f"{bare}{text}"[:500])


def lead_title(channel: Channel, item: InboundItem) -> str:
    return (item.subject or item.text or channel.name)[:300]


def _conversation(channel: Channel, item: InboundItem, contact) -> tuple[Conversation, bool]:
    conv = Conversation.objects.filter(channel=channel, external_id=item.thread_id).first()
    if conv is not None:
        return conv, False
    at = item.occurred_at or timezone.now()
    conv = Conversation.objects.create(
        channel=channel, contact=contact, kind=item.conversation_kind, external_id=item.thread_id,
        subject=item.subject[:500], started_at=at, last_message_at=at, utm=item.utm, page_url=item.page_url[:1000],
    )
    activity_record(contact=contact, kind=ACTIVITY_KIND[item.conversation_kind], detail=conv, occurred_at=at,
                    summary=activity_summary(channel, item))
    return conv, True


def conversation_facts_set(conv: Conversation, item: InboundItem, operator: User | None) -> list[str]:
    """Chat KPI facts onto the conversation; the first report of each fact wins, so a replay
    changes nothing. Returns the names of the fields it set."""
    changed = []
    for name in ("accepted_at", "first_reply_at", "finished_at"):
        value = item.facts.get(name)
        if value and getattr(conv, name) is None:
            setattr(conv, name, value)
            changed.append(name)
    if item.facts.get("rating") and not conv.rating:
        conv.rating, changed = str(item.facts["rating"])[:32], [*changed, "rating"]
    if item.facts.get("missed") and not conv.missed:
        conv.missed, changed = True, [*changed, "missed"]
    if item.facts.get("spam") and not conv.spam:
        conv.spam, changed = True, [*changed, "spam"]
    if operator and conv.operator_id is None:
        conv.operator, changed = operator, [*changed, "operator"]
    if item.author_name and item.direction == "out" and not conv.operator_name:
        conv.operator_name, changed = item.author_name[:200], [*changed, "operator_name"]
    return changed


def chat_finished_publish(conv: Conversation) -> None:
    """`chat.finished`, once a conversation (a chat) gets its end: live reports re-count."""
    operator = conv.operator
    events.publish("chat.finished", subject=conv, at=conv.finished_at, data={
        "conversation_id": conv.pk, "channel_id": conv.channel_id, "operator_id": conv.operator_id,
        "department_id": (operator.department_id if operator else None) or conv.channel.department_id,
        "missed": conv.missed, "at": conv.finished_at.isoformat()})


def conversation_changed_publish(conv: Conversation) -> None:
    """`conversation.changed`, internal (no webhook): a conversation was made, or its facts or
    messages changed. Every writer of them calls it in its transaction: the chats report's rollup
    re-counts the day the conversation started in when that day is past (okno.analytics.chats_rollup)."""
    events.publish("conversation.changed", subject=conv, internal=True,
                   data={"conversation_id": conv.pk, "kind": conv.kind})


def _apply_facts(conv: Conversation, item: InboundItem) -> list[str]:
    changed = conversation_facts_set(conv, item, _operator(item.operator_email))
    if changed:
        conv.save(update_fields=changed)
    if "finished_at" in changed:
        chat_finished_publish(conv)
    return changed


@transaction.atomic
def inbound_item_record(*, channel: Channel, item: InboundItem) -> Message | None:
    """Records one inbound item; returns the new message, or None when it was already recorded.

    Identify the sender (contacts' matching), keep the conversation and its message under the
    provider's ids (so a replay adds nothing), put the conversation on the card's timeline, and
    attach to the customer's open lead or open a new one, routed to a person. An item without a
    thread only updates what we know of the customer (Jivo's client_updated): no conversation.
    """
    if not item.thread_id:
        contact_identify(identity=identity_of(item, channel), source=channel.name)
        return None
    item = _join_known_thread(channel, item)
    existing = Conversation.objects.filter(channel=channel, external_id=item.thread_id).select_related("contact")
    conv = existing.first()
    if conv is not None:
        contact = conv.contact
        # The customer of an ongoing conversation telling more (a phone typed in the chat)
        # enriches the card, merging if it reveals another card of theirs. Someone else in
        # the thread (a colleague in copy of an e-mail) leaves the conversation where it is.
        if identity_is_of(contact, identity_of(item)):
            contact, _created = contact_identify(identity=identity_of(item, channel), source=channel.name)
    else:
        contact, _created = contact_identify(identity=identity_of(item, channel), source=channel.name)
    conv, new_conversation = _conversation(channel, item, contact)
    if conv.contact_id != contact.pk:
        Conversation.objects.filter(pk=conv.pk).update(contact=contact)
        conv.contact = contact
    changed = _apply_facts(conv, item)
    message = None
    if item.text or item.html:
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    conversation=conv, direction=item.direction, external_id=item.message_id,
                    author_name=item.author_name[:200], text=item.text, html=item.html,
                    sent_at=item.occurred_at or timezone.now(), meta=item.meta,
                )
        except IntegrityError:
            message = None  # recorded by an earlier delivery of the same message
        adapter = adapters.get(channel.kind)
        if message is not None and adapter is not None:
            adapter.recorded(channel, item)
        if message is not None and not new_conversation:
            conversation_summary_update(conversation=conv, channel=channel, message=message)
        if message is not None and message.sent_at > conv.last_message_at:
            Conversation.objects.filter(pk=conv.pk).update(last_message_at=message.sent_at)
        deal_ids = list(Deal.objects.filter(contact_id=contact.pk).exclude(stage__kind__in=Stage.CLOSED)
                        .values_list("pk", flat=True)[:20]) if message is not None and \
            message.direction == Message.Direction.IN else []
        if deal_ids:  # the customer wrote about an open deal: its robots (and webhooks) hear it
            events.publish("message.received", subject=message, at=message.sent_at, data={
                "message_id": message.pk, "conversation_id": conv.pk, "contact_id": contact.pk,
                "channel_id": channel.pk, "deal_ids": deal_ids, "at": message.sent_at.isoformat()})
    if new_conversation or changed or message is not None:
        conversation_changed_publish(conv)
    if new_conversation and item.opens_lead:
        lead = lead_open_for_contact(contact=contact)
        if lead is None:
            lead_create(contact=contact, channel=channel, conversation=conv, source=channel.name, utm=item.utm,
                        title=lead_title(channel, item))
        elif lead.conversation_id is None:
            Lead.objects.filter(pk=lead.pk).update(conversation=conv)
    return message


def _join_known_thread(channel: Channel, item: InboundItem) -> InboundItem:
    """An e-mail reply whose root we never saw joins the conversation of a message it answers."""
    refs = [r for r in item.thread_refs if r]
    if not refs or Conversation.objects.filter(channel=channel, external_id=item.thread_id).exists():
        return item
    known = (Conversation.objects.filter(channel=channel, external_id__in=refs).values_list("external_id", flat=True)
             .first() or Message.objects.filter(conversation__channel=channel, external_id__in=refs)
             .values_list("conversation__external_id", flat=True).first())
    return dataclasses.replace(item, thread_id=known) if known else item


def identity_of(item: InboundItem, channel: Channel | None = None) -> Identity:
    """The sender as contacts' matching reads it; typed when the channel's adapter says the phones
    and e-mails are the visitor's own typing (adapters.base.Adapter.identity_typed)."""
    s = item.sender
    adapter = adapters.get(channel.kind) if channel is not None else None
    return Identity(name=s.name, phones=list(s.phones), emails=list(s.emails), handles=list(s.handles), city=s.city,
                    typed=bool(adapter and adapter.identity_typed))


def inbound_event_retry(*, event: InboundEvent) -> None:
    """"Process again" on the problems page: back to the queue with a fresh attempt count."""
    InboundEvent.objects.filter(pk=event.pk).update(
        status=InboundEvent.Status.RECEIVED, attempts=0, run_after=timezone.now(), locked_until=None, error="")
