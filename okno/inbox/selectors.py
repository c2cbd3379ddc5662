"""Reads of conversations for pages: the card's timeline and its reply boxes."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from okno.contacts.models import Contact, ContactEmail, ContactPhone
from okno.core.emails import InvalidEmail, normalize_email
from okno.core.phones import format_phone, is_personal, try_normalize_phone
from okno.inbox import adapters, reply_routes
from okno.inbox.adapters.form import EMAIL_FIELDS, PHONE_FIELDS
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
    conv.can_reply = channel_can_reply(conv)
    conv.replies = []
    if conv.kind == Conversation.Kind.FORM:
        # The submission is drawn as the form; the answers to it follow it as messages.
        conv.replies = [m for m in messages if m.direction == Message.Direction.OUT]
        messages = [m for m in messages if m.direction != Message.Direction.OUT]
    conv.folded = messages[:-SHOWN_WHEN_FOLDED] if len(messages) > FOLD_AFTER else []
    conv.shown = messages[-SHOWN_WHEN_FOLDED:] if conv.folded else messages
    conv.form_fields = []
    if conv.kind == Conversation.Kind.FORM and messages:
        fields = messages[0].meta.get("fields") or {}
        conv.form_fields = [(k, v) for k, v in fields.items() if v and k.lower() not in HIDDEN_FORM_FIELDS]
    return conv


def channel_can_reply(conv: Conversation) -> bool:
    """Can the conversation's own channel carry a reply (a Telegram chat, an e-mail thread)?"""
    adapter = adapters.get(conv.channel.kind)
    return bool(adapter and adapter.can_reply) and conv.kind in (Conversation.Kind.EMAIL, Conversation.Kind.MESSAGE,
                                                                 Conversation.Kind.CHAT)


@dataclass(frozen=True)
class ReplyOption:
    """One way to answer a conversation its channel cannot answer: a route and an address."""

    route: str  # "email" | "sms"
    to: str  # the e-mail address, or the mobile in E.164

    @property
    def value(self) -> str:
        return f"{self.route}:{self.to}"

    @property
    def shown(self) -> str:
        return format_phone(self.to) if self.route == "sms" else self.to


def _submitted(conv: Conversation, names: tuple[str, ...]) -> list[str]:
    """What the customer typed into the form's e-mail or phone field (the submission's own address)."""
    messages = getattr(conv, "message_list", None) or []
    fields = (messages[0].meta.get("fields") if messages and isinstance(messages[0].meta, dict) else None) or {}
    if not isinstance(fields, dict):
        return []
    lowered = {str(k).lower(): str(v).strip() for k, v in fields.items() if v}
    return [lowered[n] for n in names if lowered.get(n)]


def _emails(raw: list[str]) -> list[str]:
    out = []
    for value in raw:
        try:
            out.append(normalize_email(value))
        except InvalidEmail:
            continue
    return list(dict.fromkeys(out))


def _mobiles(raw: list[str]) -> list[str]:
    """Numbers an SMS reaches: mobiles only (a landline or a desk extension takes no SMS)."""
    phones = [p.e164 for p in map(try_normalize_phone, raw) if p]
    return list(dict.fromkeys(p for p in phones if is_personal(p)))


def reply_options_set(convs: list[Conversation]) -> None:
    """Sets `reply_options`, `reply_blocked` and `reply_subject` on each conversation its channel
    cannot answer (docs/channels.md, "Replies from the card"): the submission's own e-mail and
    phone first, then the card's. Three queries for a whole page, whatever its length."""
    routed = [c for c in convs if not c.can_reply]
    for conv in convs:
        conv.reply_options, conv.reply_blocked, conv.reply_subject, conv.reply_by_email = [], "", "", False
    if not routed:
        return
    contact_ids = {c.contact_id for c in routed}
    emails: dict[int, list[str]] = {}
    for contact_id, email in ContactEmail.objects.filter(contact_id__in=contact_ids).order_by("pk").values_list(
            "contact_id", "email"):
        emails.setdefault(contact_id, []).append(email)
    phones: dict[int, list[str]] = {}
    for contact_id, e164, extension in ContactPhone.objects.filter(contact_id__in=contact_ids).order_by(
            "pk").values_list("contact_id", "e164", "extension"):
        if not extension:
            phones.setdefault(contact_id, []).append(e164)
    email_route, sms_route = reply_routes.get("email"), reply_routes.get("sms")
    sms_ready = bool(sms_route and sms_route.available())
    for conv in routed:
        options = []
        if email_route:
            addresses = _emails(_submitted(conv, EMAIL_FIELDS) + emails.get(conv.contact_id, []))
            options += [ReplyOption("email", a) for a in addresses]
        mobiles = _mobiles(_submitted(conv, PHONE_FIELDS) + phones.get(conv.contact_id, []))
        if sms_ready:
            options += [ReplyOption("sms", p) for p in mobiles]
        conv.reply_options = options
        conv.reply_by_email = any(o.route == "email" for o in options)
        if not options:
            conv.reply_blocked = "no_sms_provider" if mobiles and sms_route else "no_address"
        conv.reply_subject = f"Re: {conv.subject or conv.channel.name}"[:200]


def reply_states_set(convs: list[Conversation]) -> None:
    """Each routed reply's delivery state from its route (the outbox): one query per route."""
    wanted: dict[str, list[Message]] = {}
    for conv in convs:
        for m in conv.message_list:
            route = m.meta.get("reply_route") if isinstance(m.meta, dict) else None
            if route and m.meta.get("route_id"):
                wanted.setdefault(route, []).append(m)
    for name, messages in wanted.items():
        route = reply_routes.get(name)
        states = route.states([m.meta["route_id"] for m in messages]) if route else {}
        for m in messages:
            state = states.get(m.meta["route_id"]) or reply_routes.ReplyState("queued")
            m.reply_state = state
            m.reply_state_label = reply_routes.STATE_LABELS.get(state.status, state.status)
            m.reply_to_shown = format_phone(m.meta.get("to", "")) if name == "sms" else m.meta.get("to", "")


def conversations_for_timeline(ids: list[int]) -> dict[int, Conversation]:
    """Conversations by id with channel, operator and messages, ready to draw with their reply
    boxes: three queries for a whole page, and three more when it has conversations its channel
    cannot answer (the customer's addresses, whether SMS can be sent, the routed replies' states)."""
    messages = Message.objects.select_related("author", "delivery").order_by("sent_at", "id")
    qs = (Conversation.objects.filter(pk__in=ids).select_related("channel", "operator")
          .prefetch_related(Prefetch("messages", queryset=messages, to_attr="message_list")))
    convs = [_decorate(c) for c in qs]
    reply_options_set(convs)
    reply_states_set(convs)
    return {c.pk: c for c in convs}


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
