"""Replies from the card: stored as an outbound Message with a Delivery row, sent by the worker."""

import logging
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from okno.core.errors import FieldError
from okno.core.leases import claim_batch
from okno.inbox import adapters
from okno.inbox.adapters.base import SendFailed
from okno.inbox.models import Conversation, Delivery, Message
from okno.inbox.services import conversation_summary_update
from okno.people.models import User
from okno.people.visibility import contact_visibility_q

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE_SECONDS = 120


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
