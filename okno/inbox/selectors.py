"""Reads of conversations for pages: the card's timeline and its reply boxes."""

from django.db.models import Prefetch, QuerySet

from okno.contacts.models import Contact
from okno.inbox import adapters
from okno.inbox.attachments import message_attachments
from okno.inbox.models import Conversation, Message
from okno.people.models import User
from okno.people.visibility import contact_visibility_q
from okno.timeline.models import Activity
from okno.timeline.registry import details_of

# Longer transcripts are folded on the timeline; the last messages stay in sight.
FOLD_AFTER = 6
SHOWN_WHEN_FOLDED = 3
# Fields a form sends for our own bookkeeping, not what the customer wrote.
HIDDEN_FORM_FIELDS = {"tranid", "formid", "cookies", "website", "_honeypot", "test"}


def conversations_visible(*, user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(contact_visibility_q(user, prefix="contact__"))


def messages_visible(*, user: User) -> QuerySet[Message]:
    """Messages on cards the user may open: the card's own rule (visible, not deleted)."""
    return (Message.objects.filter(contact_visibility_q(user, prefix="conversation__contact__"))
            .exclude(conversation__contact__status=Contact.Status.DELETED))


def _decorate(conv: Conversation) -> Conversation:
    messages = conv.message_list
    for m in messages:
        m.attachments = message_attachments(m)
    adapter = adapters.get(conv.channel.kind)
    conv.can_reply = bool(adapter and adapter.can_reply) and conv.kind in (Conversation.Kind.EMAIL,
                                                                            Conversation.Kind.MESSAGE,
                                                                            Conversation.Kind.CHAT)
    conv.folded = messages[:-SHOWN_WHEN_FOLDED] if len(messages) > FOLD_AFTER else []
    conv.shown = messages[-SHOWN_WHEN_FOLDED:] if conv.folded else messages
    conv.form_fields = []
    if conv.kind == Conversation.Kind.FORM and messages:
        fields = messages[0].meta.get("fields") or {}
        conv.form_fields = [(k, v) for k, v in fields.items() if v and k.lower() not in HIDDEN_FORM_FIELDS]
    return conv


def conversations_for_timeline(ids: list[int]) -> dict[int, Conversation]:
    """Conversations by id with channel, operator and messages: three queries for a whole page."""
    messages = Message.objects.select_related("author", "delivery").order_by("sent_at", "id")
    qs = (Conversation.objects.filter(pk__in=ids).select_related("channel", "operator")
          .prefetch_related(Prefetch("messages", queryset=messages, to_attr="message_list")))
    return {c.pk: _decorate(c) for c in qs}


def conversations_for_activities(activities: list[Activity]) -> dict[int, Conversation]:
    """The timeline's loader: activity id -> its conversation, ready to draw (three queries a page)."""
    by_activity = details_of(activities, Conversation)
    conversations = conversations_for_timeline(list(set(by_activity.values())))
    return {pk: conversations[cid] for pk, cid in by_activity.items() if cid in conversations}


def conversation_for_card(*, user: User, pk: int) -> Conversation | None:
    """One conversation the user may see, ready to render (after a reply)."""
    if not conversations_visible(user=user).filter(pk=pk).exists():
        return None
    return conversations_for_timeline([pk]).get(pk)
