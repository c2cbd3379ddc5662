"""Replies from the card: stored as an outbound Message with a Delivery row, sent by the worker.

Where the conversation's own channel cannot send (a Jivo chat, a web form), the reply goes by
another route the customer can be reached by (okno/inbox/reply_routes.py: the outbox's e-mail
and SMS): still an outbound Message of the conversation, its delivery an outbox row.
"""

import logging
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from okno.core.errors import FieldError
from okno.core.leases import claim_batch
from okno.inbox import adapters, reply_routes
from okno.inbox.adapters.base import SendFailed
from okno.inbox.models import Conversation, Delivery, Message
from okno.inbox.selectors import channel_can_reply, conversations_for_timeline
from okno.inbox.services import conversation_changed_publish, conversation_summary_update
from okno.people.models import User
from okno.people.visibility import contact_visibility_q

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE_SECONDS = 120
SUBJECT_MAX = 200
# Reasons the card's reply box shows translated (okno.core.reasons.reason_text).
REASONS = [
    gettext_noop("a reply cannot be empty"),
    gettext_noop("this channel cannot send replies"),
    gettext_noop("choose how to answer: by e-mail or by SMS"),
    gettext_noop("not one of this customer's addresses"),
    gettext_noop("SMS cannot be sent: no SMS provider is set up"),
    gettext_noop("this channel sends replies itself: answer in the conversation"),
    gettext_noop("at most 200 characters"),
]


@transaction.atomic
def conversation_reply(*, actor: User, conversation: Conversation, text: str, meta: dict | None = None) -> Message:
    """Queues a reply in the customer's conversation; the worker sends it through the channel."""
    if not Conversation.objects.filter(contact_visibility_q(actor, prefix="contact__"), pk=conversation.pk).exists():
        raise PermissionDenied("not your customer")
    if not text.strip():
        raise FieldError({"text": "a reply cannot be empty"})
    adapter = adapters.get(conversation.channel.kind)
    if adapter is None or not adapter.can_reply:
        raise FieldError({"conversation": "this channel cannot send replies"})
    message = Message.objects.create(
        conversation=conversation, direction=Message.Direction.OUT, external_id=f"okno:{secrets.token_hex(8)}",
        author=actor, author_name=actor.display_name, text=text.strip(), meta=meta or {},
    )
    Delivery.objects.create(message=message)
    conversation_summary_update(conversation=conversation, channel=conversation.channel, message=message)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.sent_at)
    conversation_changed_publish(conversation)
    return message


@transaction.atomic
def conversation_reply_routed(*, actor: User, conversation: Conversation, to: str, text: str,
                              subject: str = "") -> Message:
    """Answers a conversation its channel cannot answer (a Jivo chat, a web form) by another route.

    `to` is "<route>:<address>" as the card's reply box offers it (selectors.reply_options_set):
    the address must be the submission's own or on the card, so a reply box cannot mail a
    stranger. The reply is an outbound Message of the conversation (meta: reply_route, to,
    subject, route_id) and one outbox row queued in this transaction; the outbox drain sends it."""
    if not Conversation.objects.filter(contact_visibility_q(actor, prefix="contact__"), pk=conversation.pk).exists():
        raise PermissionDenied("not your customer")
    conv = conversations_for_timeline([conversation.pk])[conversation.pk]
    if channel_can_reply(conv):
        raise FieldError({"to": "this channel sends replies itself: answer in the conversation"})
    route_name, _colon, address = (to or "").partition(":")
    route = reply_routes.get(route_name)
    if route is None or not address:
        raise FieldError({"to": "choose how to answer: by e-mail or by SMS"})
    if not route.available():
        raise FieldError({"to": "SMS cannot be sent: no SMS provider is set up"})
    if to not in {o.value for o in conv.reply_options}:
        raise FieldError({"to": "not one of this customer's addresses"})
    if not text.strip():
        raise FieldError({"text": "a reply cannot be empty"})
    subject = " ".join((subject or "").split()) or conv.reply_subject
    if len(subject) > SUBJECT_MAX:
        raise FieldError({"subject": "at most 200 characters"})
    token = secrets.token_hex(8)
    route_id = route.queue(to=address, subject=subject, text=text.strip(), key=f"inbox-reply-{token}",
                           contact_id=conversation.contact_id, conversation_id=conversation.pk)
    meta = {"reply_route": route.name, "to": address, "route_id": route_id}
    if route.name == "email":
        meta["subject"] = subject
    message = Message.objects.create(
        conversation=conversation, direction=Message.Direction.OUT, external_id=f"okno:{token}",
        author=actor, author_name=actor.display_name, text=text.strip(), meta=meta,
    )
    conversation_summary_update(conversation=conversation, channel=conversation.channel, message=message)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.sent_at)
    conversation_changed_publish(conversation)
    return message


def _send_one(delivery: Delivery) -> None:
    message = delivery.message
    conversation = message.conversation
    adapter = adapters.get(conversation.channel.kind)
    now = timezone.now()
    try:
        if adapter is None:
            raise SendFailed(f"no adapter for {conversation.channel.kind!r}", retry=False)
        external_id = adapter.send(conversation.channel, conversation, message)
    except SendFailed as exc:
        final = not exc.retry or delivery.attempts >= MAX_ATTEMPTS
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED if final else Delivery.Status.PENDING, error=str(exc), locked_until=None,
            run_after=now + timedelta(seconds=min(15 * 2 ** delivery.attempts, 3600)))
        return
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT, sent_at=now, locked_until=None,
                                                       error="")
        if external_id:
            Message.objects.filter(pk=message.pk).update(external_id=external_id)


def deliveries_drain(batch: int = 50) -> int:
    ids = claim_batch(Delivery, ready=Q(status=Delivery.Status.PENDING), limit=batch, lease_seconds=LEASE_SECONDS)
    for delivery in Delivery.objects.filter(pk__in=ids).select_related("message__conversation__channel"):
        try:
            _send_one(delivery)
        except Exception:  # a bug in one adapter must not stop the others' deliveries
            log.exception("delivery %s failed", delivery.pk)
    return len(ids)
