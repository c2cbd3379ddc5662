"""/api/v1/conversations: a conversation with its messages, and a manager's answer from the card."""

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status

from okno.contacts.models import Contact
from okno.inbox.attachments import message_attachments
from okno.inbox.models import Conversation, Message
from okno.inbox.replies import conversation_reply
from okno.inbox.selectors import conversations_visible
from okno.people.models import User

router = Router(tags=["inbox"])


class ReplyIn(Schema):
    text: str


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str
    external_id: str
    author_id: int | None
    author_name: str
    text: str
    sent_at: datetime
    delivery_status: str | None


class AttachmentOut(Schema):
    name: str
    size: int | None
    content_type: str


class ConversationMessageOut(Schema):
    id: int
    direction: str  # "in": from the customer; "out": to the customer
    author_id: int | None  # the Okno user who wrote it (a reply from the card), else None
    author_name: str  # the customer's or the provider's operator's name, as the channel gave it
    text: str
    sent_at: datetime
    attachments: list[AttachmentOut]
    delivery_status: str | None  # a reply's: pending, sent, failed; None for what the channel reported


class ConversationOut(Schema):
    id: int
    kind: str
    channel_id: int
    channel_name: str
    channel_kind: str
    contact_id: int
    subject: str
    operator_id: int | None
    operator_name: str
    started_at: datetime
    last_message_at: datetime
    finished_at: datetime | None
    missed: bool
    page_url: str
    utm: dict
    messages_total: int
    messages: list[ConversationMessageOut]  # the newest `limit` of them, oldest first


def _visible(user: User) -> QuerySet[Conversation]:
    """The card's rule: conversations of cards the caller may open, never of a deleted card.
    Another department's conversation is answered as missing, like its card."""
    return conversations_visible(user=user).exclude(contact__status=Contact.Status.DELETED)


def _conversation_visible(request: HttpRequest, conversation_id: int) -> Conversation:
    return get_object_or_404(_visible(request.auth).select_related("channel", "operator"), pk=conversation_id)


def _message_out(m: Message) -> dict:
    delivery = getattr(m, "delivery", None)
    return {
        "id": m.pk, "direction": m.direction, "author_id": m.author_id, "author_name": m.author_name, "text": m.text,
        "sent_at": m.sent_at, "delivery_status": delivery.status if delivery else None,
        "attachments": [{"name": a.name, "size": a.size, "content_type": a.content_type}
                        for a in message_attachments(m)],
    }


@router.get("/conversations/{int:conversation_id}", response=ConversationOut)
def get_conversation(request: HttpRequest, conversation_id: int, limit: int = Query(200, ge=1, le=1000)):
    conversation = _conversation_visible(request, conversation_id)
    messages = conversation.messages.select_related("delivery")
    newest = list(messages.order_by("-sent_at", "-id")[:limit])[::-1]
    total = len(newest) if len(newest) < limit else messages.count()
    channel, operator = conversation.channel, conversation.operator
    return {
        "id": conversation.pk, "kind": conversation.kind, "channel_id": channel.pk, "channel_name": channel.name,
        "channel_kind": channel.kind, "contact_id": conversation.contact_id, "subject": conversation.subject,
        "operator_id": conversation.operator_id,
        "operator_name": conversation.operator_name or (operator.display_name if operator else ""),
        "started_at": conversation.started_at, "last_message_at": conversation.last_message_at,
        "finished_at": conversation.finished_at, "missed": conversation.missed, "page_url": conversation.page_url,
        "utm": conversation.utm if isinstance(conversation.utm, dict) else {},
        "messages_total": total, "messages": [_message_out(m) for m in newest],
    }


@router.post("/conversations/{int:conversation_id}/replies", response={201: MessageOut})
def reply(request: HttpRequest, conversation_id: int, payload: ReplyIn):
    conversation = _conversation_visible(request, conversation_id)
    message = conversation_reply(actor=request.auth, conversation=conversation, text=payload.text)
    return Status(201, {
        "id": message.pk, "conversation_id": conversation.pk, "direction": message.direction,
        "external_id": message.external_id, "author_id": message.author_id, "author_name": message.author_name,
        "text": message.text, "sent_at": message.sent_at, "delivery_status": message.delivery.status,
    })
