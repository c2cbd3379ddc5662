"""The outbox's ways to answer a conversation from the card: by e-mail and by SMS.

Registered into the inbox's registry (okno/inbox/reply_routes.py) when the outbox starts: the
inbox lies below the outbox and does not import it. A reply is an ordinary outbox row (durable,
sent by the `outbox` drain, retried); `payload["conversation_id"]` marks it as a conversation's
reply, so the drain does not add an "E-mail to …" line of its own to the card's timeline: the
reply is already there, inside its conversation.
"""

from okno.inbox.reply_routes import ReplyRoute, ReplyState, register
from okno.outbox import sms
from okno.outbox.models import OutboxMessage, SmsProvider
from okno.outbox.services import outbox_email, outbox_sms


def _state(row: OutboxMessage) -> ReplyState:
    if row.status in (OutboxMessage.Status.FAILED, OutboxMessage.Status.GAVE_UP):
        return ReplyState("failed", row.last_error)
    if row.status == OutboxMessage.Status.SENT:
        if row.delivery_status == sms.UNDELIVERED:  # the provider took the SMS; the phone never got it
            return ReplyState("undelivered")
        return ReplyState("delivered" if row.delivery_status == sms.DELIVERED else "sent")
    return ReplyState("queued", row.last_error)  # pending; last_error: the try that will be repeated


def reply_states(ids: list[int]) -> dict[int, ReplyState]:
    rows = OutboxMessage.objects.filter(pk__in=ids).only("pk", "kind", "status", "last_error", "delivery_status")
    return {row.pk: _state(row) for row in rows}


def _email(*, to: str, subject: str, text: str, key: str, contact_id: int, conversation_id: int) -> int:
    row = outbox_email(to=to, subject=subject, body=text, key=key, contact_id=contact_id)
    OutboxMessage.objects.filter(pk=row.pk).update(payload={**row.payload, "conversation_id": conversation_id})
    return row.pk


def _sms(*, to: str, subject: str, text: str, key: str, contact_id: int, conversation_id: int) -> int:
    row = outbox_sms(to=to, text=text, key=key, contact_id=contact_id)
    OutboxMessage.objects.filter(pk=row.pk).update(payload={**row.payload, "conversation_id": conversation_id})
    return row.pk


def sms_available() -> bool:
    """The drain sends through the default active provider (drain.default_sms_provider)."""
    return SmsProvider.objects.filter(is_active=True).exists()


def reply_routes_register() -> None:
    register(ReplyRoute(name="email", address="email", queue=_email, states=reply_states))
    register(ReplyRoute(name="sms", address="mobile", queue=_sms, states=reply_states, available=sms_available))
