"""/api/v1/conversations: a manager answers the customer from the card."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from okno.inbox.models import Conversation
from okno.inbox.replies import conversation_reply
from okno.people.visibility import contact_visibility_q

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


def _conversation_visible(request: HttpRequest, conversation_id: int) -> Conversation:
    """Another department's conversation is answered as missing, like its card."""
    qs = Conversation.objects.filter(contact_visibility_q(request.auth, prefix="contact__")).select_related("channel")
    return get_object_or_404(qs, pk=conversation_id)


@router.post("/conversations/{int:conversation_id}/replies", response={201: MessageOut})
def reply(request: HttpRequest, conversation_id: int, payload: ReplyIn):
    conversation = _conversation_visible(request, conversation_id)
    message = conversation_reply(actor=request.auth, conversation=conversation, text=payload.text)
    return Status(201, {
        "id": message.pk, "conversation_id": conversation.pk, "direction": message.direction,
        "external_id": message.external_id, "author_id": message.author_id, "author_name": message.author_name,
        "text": message.text, "sent_at": message.sent_at, "delivery_status": message.delivery.status,
    })
