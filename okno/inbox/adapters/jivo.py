"""Jivo (JivoSite / JivoChat) webhooks: chats, offline messages, callback requests, client updates.

Wire format: /work/shared/PROTOCOLS.md section 1, from jivo.ru/docs/webhooks. Quirks:
- Jivo documents **no signature, token or auth header**; the only proof a request comes from
  Jivo is the unguessable token in the channel's URL (rotate it when it leaks). UNVERIFIED
  whether Jivo sends any identifying header; the content type is not documented either, so
  the body is read as JSON whatever the header says.
- Ids arrive both as strings and as numbers (`chat_id`, `agent.id`, `visitor.number`,
  `client_id`): every id is read as either and kept as a string.
- No event carries the time it happened, except transcript messages (unix seconds): "accepted"
  and "finished" are the time Okno received the event (`parse_event`).
- Timeout and retry policy are not documented: a retry is recognised by the body's hash.
- `chat_assigned` is legacy (old docs only); Jivo sends it after the operator links a chat to
  the CRM card, which our reply never offers (`enable_assign: false`): stored, marked ignored.
- `client_attribute_updated.attributes` is shown as invalid JSON in the docs; read here as an
  object name -> value (or a list of {name, value}) — UNVERIFIED.
"""

import hashlib
import json
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from okno.inbox.adapters.base import ChannelAdapter, Ignored, Malformed, UnknownEvent, json_loads
from okno.inbox.items import InboundItem, Sender

CARD_EVENTS = ("chat_accepted", "chat_updated")
EVENTS = (*CARD_EVENTS, "chat_finished", "offline_message", "call_event", "client_updated",
          "client_attribute_updated", "chat_assigned")
CALL_TEXT = {
    "callback": "Заявка на обратный звонок",
    "incoming": "Входящий звонок",
    "outgoing": "Исходящий звонок",
}
CALL_STATUS = {"start": "начат", "end": "завершён", "agent_connected": "оператор на линии",
               "client_connected": "клиент на линии", "error": "ошибка"}


def read_body(body: bytes) -> dict:
    """The event as a dict with a known `event_name`; raises Malformed or UnknownEvent."""
    try:
        data = json_loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Malformed("the body is not a JSON object")
    name = data.get("event_name")
    if not isinstance(name, str) or not name.strip():
        raise Malformed("event_name: required, a string")
    if name not in EVENTS:
        raise UnknownEvent(f"unknown Jivo event {name[:100]!r}")
    return data


def ident(value, field: str, *, required: bool = False) -> str:
    """An id Jivo sends as a number or a string; "" when absent and optional."""
    if value is None or value == "":
        if required:
            raise Malformed(f"{field}: required")
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Malformed(f"{field}: must be a number or a string, not {type(value).__name__}")
    text = str(value).strip()
    if not text or len(text) > 100 or any(ch.isspace() for ch in text):
        raise Malformed(f"{field}: {text[:100]!r} is not an id")
    return text


def _obj(data: dict, key: str) -> dict:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{key}: must be an object")
    return value


def _text(value, limit: int = 1000) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _timestamp(value, field: str) -> datetime:
    try:
        seconds = int(value)
    except (TypeError, ValueError) as exc:
        raise Malformed(f"{field}: must be unix seconds") from exc
    if isinstance(value, bool) or not 0 < seconds < 10_000_000_000:
        raise Malformed(f"{field}: {value!r} is not unix seconds")
    return datetime.fromtimestamp(seconds, tz=UTC)


def visitor_handles(data: dict) -> list[tuple[str, str]]:
    """Jivo's identities of the customer: the site's user token, and the visitor (client) number.

    The number is Jivo's client id (`client_updated` sends the same value as `client_id`); it is
    scoped by widget because nothing documents it as unique across a Jivo account.
    """
    handles = []
    token = data.get("user_token")
    if isinstance(token, (str, int)) and not isinstance(token, bool) and 0 < len(str(token).strip()) <= 255:
        handles.append(("jivo", str(token).strip()))
    widget = ident(data.get("widget_id"), "widget_id")
    visitor = _obj(data, "visitor")
    number = ident(visitor.get("number"), "visitor.number") or ident(data.get("client_id"), "client_id")
    if number:
        handles.append(("jivo_visitor", f"{widget}:{number}"))
    return handles


def visitor_sender(data: dict) -> Sender:
    visitor = _obj(data, "visitor")
    geoip = _obj(_obj(data, "session"), "geoip")
    phone, email = _text(visitor.get("phone"), 64), _text(visitor.get("email"), 254)
    return Sender(name=_text(visitor.get("name"), 150), phones=[phone] if phone else [],
                  emails=[email] if email else [], handles=visitor_handles(data), city=_text(geoip.get("city"), 150))


def thread_of(data: dict, chat_id: str) -> str:
    return f"jivo:{ident(data.get('widget_id'), 'widget_id')}:{chat_id}"


def _utm(data: dict) -> dict:
    utm = _obj(_obj(data, "session"), "utm_json")
    return {k: str(v)[:200] for k, v in utm.items() if k in ("source", "medium", "campaign", "content", "term") and v}


def _agent(value) -> dict:
    return value if isinstance(value, dict) else {}


def _chat_item(data: dict, received_at: datetime, **fields) -> InboundItem:
    """What every chat event says about its conversation, with the event's own parts in fields."""
    if "thread_id" in fields:
        chat_id = ident(data.get("chat_id"), "chat_id")
        thread = fields.pop("thread_id")
    else:
        chat_id = ident(data.get("chat_id"), "chat_id", required=True)
        thread = thread_of(data, chat_id)
    page = _obj(data, "page")
    topic = _obj(data, "topic")
    values = {
        "conversation_kind": "chat", "thread_id": thread, "message_id": "",
        "sender": visitor_sender(data), "occurred_at": received_at, "utm": _utm(data),
        "page_url": _text(page.get("url"), 1000), "subject": _text(topic.get("title") or page.get("title"), 500),
        "meta": {"jivo_event": data["event_name"], "chat_id": chat_id},
    }
    values.update(fields)
    return InboundItem(**values)


def _operator_fields(agent: dict) -> dict:
    # A facts-only item with direction "out" and no text records the operator's name on the
    # conversation (inbound_item_record reads author_name of outbound items) and no message.
    return {"operator_email": _text(agent.get("email"), 254), "author_name": _text(agent.get("name"), 200),
            "direction": "out" if agent.get("name") else "in"}


def chat_accepted(data: dict, received_at: datetime) -> list[InboundItem]:
    agent = _agent(data.get("agent"))
    facts = {"accepted_at": received_at} if data["event_name"] == "chat_accepted" else {}
    return [_chat_item(data, received_at, message_id=data["event_name"], facts=facts, **_operator_fields(agent))]


def chat_finished(data: dict, received_at: datetime) -> list[InboundItem]:
    """The transcript: one message per line, ids `<timestamp>:<index>` so a replay adds nothing."""
    chat = _obj(data, "chat")
    messages = chat.get("messages") or []
    if not isinstance(messages, list):
        raise Malformed("chat.messages: must be a list")
    agents = {}
    for agent in data.get("agents") or []:
        if isinstance(agent, dict) and agent.get("id") is not None:
            agents[str(agent["id"])] = agent
    visitor_name = _text(_obj(data, "visitor").get("name"), 200)
    items = []
    for i, line in enumerate(messages):
        if not isinstance(line, dict):
            raise Malformed(f"chat.messages[{i}]: must be an object")
        at = _timestamp(line.get("timestamp"), f"chat.messages[{i}].timestamp")
        outbound = line.get("type") == "agent"
        agent = agents.get(ident(line.get("agent_id"), f"chat.messages[{i}].agent_id"), {}) if outbound else {}
        text = line.get("message")
        items.append(_chat_item(
            data, received_at, message_id=f"{int(at.timestamp())}:{i}", direction="out" if outbound else "in",
            text=text if isinstance(text, str) else json.dumps(text, ensure_ascii=False),
            author_name=_text(agent.get("name"), 200) if outbound else visitor_name, occurred_at=at,
            operator_email=_text(agent.get("email"), 254), meta={"jivo_type": _text(line.get("type"), 20)},
        ))
    replies = [item.occurred_at for item in items if item.direction == "out"]
    facts = {"finished_at": received_at, "first_reply_at": min(replies) if replies else None,
             "rating": _text(str(chat["rate"]) if chat.get("rate") is not None else "", 32),
             "missed": bool(items) and not replies, "spam": bool(chat.get("blacklisted"))}
    first_agent = _agent((data.get("agents") or [None])[0])
    head = _chat_item(data, received_at, message_id="chat_finished", facts=facts, **_operator_fields(first_agent),
                      meta={"jivo_event": "chat_finished", "blacklisted": bool(chat.get("blacklisted")),
                            "rate": chat.get("rate")})
    if items:
        # The conversation begins at its first line, not when Jivo reported the end.
        head.occurred_at = min(item.occurred_at for item in items)
    for item in items:
        item.sender = Sender()  # the head item identified the customer; the rest reuse its card
    return [head, *items]


def offline_message(data: dict, received_at: datetime) -> list[InboundItem]:
    """A message left while no operator was online: a missed chat with its text."""
    message_id = ident(data.get("offline_message_id"), "offline_message_id")
    chat_id = ident(data.get("chat_id"), "chat_id") or f"offline:{message_id}"
    if chat_id == "offline:":
        raise Malformed("chat_id or offline_message_id: required")
    text = _text(data.get("message"), 100_000) or "(пустое сообщение)"
    return [_chat_item(data, received_at, thread_id=thread_of(data, chat_id),
                       message_id=f"offline:{message_id or chat_id}", text=text, facts={"missed": True},
                       meta={"jivo_event": "offline_message", "offline_message_id": message_id})]


def call_event(data: dict, received_at: datetime) -> list[InboundItem]:
    """A callback request or a call through Jivo: a note in the chat's conversation (or, without a
    chat, in one conversation per phone). The telephony domain will take calls over later."""
    call = _obj(data, "call")
    phone = _text(call.get("phone"), 64)
    kind, status = _text(call.get("type"), 20) or "callback", _text(call.get("status"), 30)
    if not phone and not call:
        raise Malformed("call: required, with a phone")
    chat_id = ident(data.get("chat_id"), "chat_id")
    digits = "".join(c for c in phone if c.isdigit())
    thread = thread_of(data, chat_id) if chat_id else thread_of(data, f"call:{digits}")
    parts = [f"{CALL_TEXT.get(kind, 'Звонок')}: {phone or 'номер не указан'}"]
    if status:
        parts.append(f"статус: {CALL_STATUS.get(status, status)}")
    if call.get("reason"):
        parts.append(f"причина: {_text(call.get('reason'), 200)}")
    if call.get("record_url"):
        parts.append(f"запись: {_text(call.get('record_url'), 1000)}")
    sender = visitor_sender(data)
    if phone and phone not in sender.phones:
        sender.phones.append(phone)
    return [_chat_item(data, received_at, thread_id=thread, message_id=f"call:{kind}:{status or 'event'}",
                       text=", ".join(parts), sender=sender, direction="out" if kind == "outgoing" else "in",
                       opens_lead=kind != "outgoing", meta={"jivo_event": "call_event", "call": call})]


def client_updated(data: dict, received_at: datetime) -> list[InboundItem]:
    """The operator edited the client's details in Jivo: the card learns them; no conversation, no lead."""
    sender = visitor_sender(data)
    if data["event_name"] == "client_attribute_updated":
        sender = _attribute_sender(data, sender)
    if not sender.handles:
        raise Malformed("client_id or visitor.number: required")
    if not (sender.name or sender.phones or sender.emails):
        raise Ignored("nothing to match or add: no name, phone or e-mail")
    return [InboundItem(conversation_kind="chat", thread_id="", message_id="", sender=sender, opens_lead=False,
                        occurred_at=received_at, meta={"jivo_event": data["event_name"]})]


def _attribute_sender(data: dict, sender: Sender) -> Sender:
    attributes = data.get("attributes")
    if isinstance(attributes, list):  # [{"name": ..., "value": ...}] is the other plausible reading
        attributes = {str(a.get("name") or a.get("key")): a.get("value") for a in attributes if isinstance(a, dict)}
    if not isinstance(attributes, dict):
        attributes = {}
    lowered = {str(k).lower(): v for k, v in attributes.items()}
    name, phone, email = (_text(lowered.get(k), n) for k, n in (("name", 150), ("phone", 64), ("email", 254)))
    return Sender(name=name or sender.name, phones=[phone] if phone else sender.phones,
                  emails=[email] if email else sender.emails, handles=sender.handles, city=sender.city)


def chat_assigned(data: dict, received_at: datetime) -> list[InboundItem]:
    raise Ignored("legacy chat_assigned: the chat is linked to the card by our crm_link already")


PARSERS = {
    "chat_accepted": chat_accepted, "chat_updated": chat_accepted, "chat_finished": chat_finished,
    "offline_message": offline_message, "call_event": call_event, "client_updated": client_updated,
    "client_attribute_updated": client_updated, "chat_assigned": chat_assigned,
}


class JivoAdapter(ChannelAdapter):
    kind = "jivo"
    identity_typed = True  # the visitor's own typing: base.Adapter says why

    def dedup_key(self, body: bytes, content_type: str) -> str | None:
        """`jivo:<chat or client id>:<event>:<hash>`: a retry of one delivery is recognised, while
        two chat_updated of one chat (different bodies) are both kept. The hash is of the JSON
        re-serialised with sorted keys, so a retry serialised in another key order matches too."""
        try:
            data = json_loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "jivo:unreadable:" + hashlib.sha256(body).hexdigest()
        if not isinstance(data, dict):
            return "jivo:unreadable:" + hashlib.sha256(body).hexdigest()
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        about = data.get("chat_id") or data.get("client_id") or data.get("offline_message_id") or "-"
        return f"jivo:{str(about)[:40]}:{str(data.get('event_name'))[:60]}:{digest}"

    def event_type(self, body: bytes, content_type: str) -> str:
        try:
            data = json_loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return ""
        name = data.get("event_name") if isinstance(data, dict) else None
        return name if isinstance(name, str) else ""

    def acknowledge(self, request: HttpRequest, channel, event) -> HttpResponse:
        """chat_accepted/chat_updated: the customer's card for the operator, read-only and at once.

        A body we cannot read is stored (the drain marks it rejected) and answered 400 with the
        reason; an unknown event is stored and answered ok (Jivo expects ok or an error text)."""
        try:
            data = read_body(bytes(event.body))
            if data["event_name"] in CARD_EVENTS:
                ident(data.get("chat_id"), "chat_id", required=True)
                from okno.inbox.jivo_card import jivo_card_reply

                return JsonResponse(jivo_card_reply(channel=channel, data=data))
        except Malformed as exc:
            field = str(exc).split(":", 1)[0] if ":" in str(exc) else "body"
            return JsonResponse({"result": f"error: {exc}", "detail": str(exc),
                                 "errors": [{"field": field, "reason": str(exc)}]}, status=400)
        except UnknownEvent:
            pass
        return JsonResponse({"result": "ok"})

    def parse_event(self, event) -> list[InboundItem]:
        return self.parse(bytes(event.body), event.content_type, event.channel, received_at=event.received_at)

    def parse(self, body: bytes, content_type: str, channel, *, received_at: datetime | None = None,
              ) -> list[InboundItem]:
        data = read_body(body)
        return PARSERS[data["event_name"]](data, received_at or timezone.now())
