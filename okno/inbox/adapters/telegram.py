"""Telegram bot: updates arrive by webhook, replies go out through the Bot API's sendMessage.

Wire format: https://core.telegram.org/bots/api (see /work/shared/PROTOCOLS.md, section 2).
- Authenticity: Telegram sends the `secret_token` given to setWebhook in the header
  `X-Telegram-Bot-Api-Secret-Token`; we give it the channel's `secret` (token_urlsafe, whose
  alphabet A-Z a-z 0-9 _ - is exactly what Telegram allows), and compare in constant time.
- Any 2XY answer acknowledges an update; anything else makes Telegram retry it. The answer
  body may itself be a Bot API call, so we answer with an empty body, never with JSON.
- `update_id` identifies an update; a retry carries the same one, hence the dedup key.
- Only private chats are customer conversations: a group's messages come from many people,
  and one group is not one card.
- Edits (`edited_message`) are kept as a further message of the conversation marked
  `meta.edited`, not written over the original: the card shows what the customer wrote
  first and what they changed it to, and the inbound path stays insert-only (a replay of
  either update records nothing twice).
- Who the sender is: their Telegram user id, always. A phone is proof of identity only in
  Telegram's shared contact of the sender themself (`message.contact.user_id` equal to
  `from.id`: the "share my phone number" button, which Telegram fills from the account).
  A phone typed in the text, or a shared contact of someone else, is a claim anybody can make:
  it goes to `meta.phone_claims` (okno.inbox.claims), never to the sender's identity, so it
  neither finds nor joins a card; a person confirms or dismisses it on the card.
- Media are recorded as a text placeholder ("[фото]", "[документ: name]") with the file ids
  in `meta.files`; a follow-up task (okno.inbox.telegram_files) then fetches each file
  through getFile into Django's storage, and the worker retries a failed one with back-off.
"""

import hmac
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from okno.core.phones import try_normalize_phone
from okno.inbox.adapters.base import ChannelAdapter, Ignored, Malformed, Refused, SendFailed, UnknownEvent, json_body
from okno.inbox.file_names import display_file_name
from okno.inbox.items import InboundItem, Sender

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_BASE = "https://api.telegram.org"
# sendMessage refuses longer texts ("1-4096 characters after entities parsing").
MAX_TEXT = 4096
# A reply is sent by the worker, not while a person waits; a slow API must not hold the
# delivery lease (120 s) for long, and a timeout is retried later anyway.
TIMEOUT_SECONDS = 15
# Updates a CRM channel records; the rest are acknowledged and kept as "unknown".
MESSAGE_UPDATES = ("message", "edited_message")
# Status pings with nothing to record: the customer blocked/unblocked the bot, and the like.
IGNORED_UPDATES = ("my_chat_member", "chat_member", "message_reaction", "message_reaction_count")

MEDIA_LABELS = {
    "photo": "фото", "video": "видео", "voice": "голосовое сообщение", "video_note": "видеосообщение",
    "animation": "анимация", "audio": "аудио", "document": "документ", "sticker": "стикер",
}


class TelegramAdapter(ChannelAdapter):
    kind = "telegram"
    required_settings = ("bot_token",)
    can_reply = True

    def verify(self, request: HttpRequest, channel) -> None:
        given = request.headers.get(SECRET_HEADER, "")
        if not given or not hmac.compare_digest(given.encode("utf-8"), channel.secret.encode("utf-8")):
            raise Refused("missing or wrong X-Telegram-Bot-Api-Secret-Token", status=403)

    def dedup_key(self, body: bytes, content_type: str) -> str | None:
        try:
            update_id = json.loads(body.decode("utf-8")).get("update_id")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            update_id = None
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            return f"tg:{update_id}"
        # Not an update we can read: still stored once (the drain marks it rejected).
        return super().dedup_key(body, content_type)

    def event_type(self, body: bytes, content_type: str) -> str:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return ""
        if not isinstance(data, dict):
            return ""
        return next((key for key in data if key != "update_id"), "")

    def acknowledge(self, request: HttpRequest, channel, event) -> HttpResponse:
        return HttpResponse(status=200)

    def parse(self, body: bytes, content_type: str, channel) -> list[InboundItem]:
        update = json_body(body)
        if not isinstance(update.get("update_id"), int):
            raise Malformed("an update without an integer update_id")
        kind = next((key for key in update if key != "update_id"), None)
        if kind is None:
            raise Malformed("an update with nothing in it")
        if kind in IGNORED_UPDATES:
            raise Ignored(f"{kind}: nothing to record")
        if kind not in MESSAGE_UPDATES:
            raise UnknownEvent(f"update type {kind!r} is not handled")
        message = update[kind]
        if not isinstance(message, dict):
            raise Malformed(f"{kind} is not an object")
        item = message_item(message, edited=kind == "edited_message",
                            phones_from_text=channel.settings.get("phones_from_text", True))
        return [item]

    def recorded(self, channel, item: InboundItem) -> None:
        if item.meta.get("files") and channel.settings.get("fetch_files", True):
            _fetch_files_on_commit(channel.pk, item)

    def send(self, channel, conversation, message) -> str:
        if len(message.text) > MAX_TEXT:
            raise SendFailed(f"Telegram takes at most {MAX_TEXT} characters per message", retry=False)
        result = bot_api_call(channel, "sendMessage", {"chat_id": chat_id(conversation), "text": message.text})
        if not isinstance(result, dict) or "message_id" not in result:
            raise SendFailed(f"sendMessage answered without a message_id: {result!r}"[:500], retry=False)
        return str(result["message_id"])


def _fetch_files_on_commit(channel_id: int, item: InboundItem) -> None:
    """Media are downloaded by a follow-up task once the event's transaction has recorded the message."""
    from okno.inbox.telegram_files import telegram_files_fetch_task

    transaction.on_commit(lambda: telegram_files_fetch_task.enqueue(channel_id, item.thread_id, item.message_id))


def chat_id(conversation) -> int:
    """The Telegram chat of a conversation: its external id is `tg:<chat.id>`."""
    prefix, _, value = conversation.external_id.partition(":")
    if prefix != "tg" or not value.lstrip("-").isdigit():
        raise SendFailed(f"conversation {conversation.external_id!r} is not a Telegram chat", retry=False)
    return int(value)


def _obj(data: dict, key: str, *, required: bool = False) -> dict:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"message.{key} is missing or not an object")
    return value


def _name(user: dict) -> str:
    name = " ".join(str(user.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    return name or str(user.get("username") or "")


def _contact_phone(raw: str) -> str:
    """A Telegram contact's phone, in a form our normaliser reads unambiguously.

    UNVERIFIED: the Bot API documents `phone_number` only as a String; in practice a user's
    own number comes in international form without "+" ("79161234567"), which read in the
    default region could be taken as a national number. Digits-only numbers are therefore
    read as international; anything else (a number typed into a phone book) as sent.
    """
    text = raw.strip()
    digits = text.replace(" ", "")
    return "+" + digits if digits.isdigit() and len(digits) >= 10 else text


def phones_in_text(text: str) -> list[str]:
    """Valid phone numbers a customer typed ("мой номер 8 916 123-45-67"), in E.164."""
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, settings.OKNO_DEFAULT_REGION,
                                                 leniency=phonenumbers.Leniency.VALID):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return found


def _files(message: dict) -> tuple[str, list[dict]]:
    """A placeholder text for the media in a message and the file ids to fetch them by."""
    for kind, label in MEDIA_LABELS.items():
        value = message.get(kind)
        if not value:
            continue
        # A photo comes as several sizes, smallest first: the last is the original.
        item = value[-1] if isinstance(value, list) else value
        if not isinstance(item, dict) or not item.get("file_id"):
            raise Malformed(f"message.{kind} has no file_id")
        # The sender's name of the file is text, not a path ("../../x" reads "x"); meta keeps it as sent.
        name = display_file_name(item.get("file_name") or item.get("title") or "")
        if kind == "sticker" and item.get("emoji"):
            name = item["emoji"]
        text = f"[{label}: {name}]" if name else f"[{label}]"
        keep = ("file_id", "file_unique_id", "file_name", "mime_type", "file_size", "duration", "width", "height")
        return text, [{"kind": kind, **{k: item[k] for k in keep if k in item}}]
    return "", []


def message_item(message: dict, *, edited: bool = False, phones_from_text: bool = True) -> InboundItem:
    """One Telegram Message (private chat) as an inbound item of the chat's conversation."""
    chat = _obj(message, "chat", required=True)
    if not isinstance(message.get("message_id"), int) or not isinstance(chat.get("id"), int):
        raise Malformed("message.message_id and message.chat.id must be integers")
    # Telegram's own documented sample lacks chat.type; a chat with the user's own id is private.
    sender_user = _obj(message, "from") or chat
    chat_type = chat.get("type") or ("private" if chat.get("id") == sender_user.get("id") else "")
    if chat_type != "private":
        raise Ignored(f"a {chat_type or 'non-private'} chat is not a customer conversation")
    if sender_user.get("is_bot"):
        raise Ignored("a message from a bot")
    user_id = sender_user.get("id")
    if not isinstance(user_id, int):
        raise Malformed("message.from.id must be an integer")

    phones: list[str] = []
    claims: list[dict] = []
    meta: dict = {"telegram": {"chat_id": chat["id"], "message_id": message["message_id"]}}
    if sender_user.get("username"):
        meta["telegram"]["username"] = sender_user["username"]
    text = str(message.get("text") or message.get("caption") or "")
    if phones_from_text and text:
        # A claim, not an identity: anyone can type a stranger's number.
        claims += [{"phone": p, "source": "text"} for p in phones_in_text(text)]
    media_text, files = _files(message)
    if files:
        meta["files"] = files
        text = f"{media_text} {text}".strip()
    shared = message.get("contact")
    if isinstance(shared, dict) and shared.get("phone_number"):
        phone = _contact_phone(str(shared["phone_number"]))
        meta["contact"] = {k: shared[k] for k in ("phone_number", "first_name", "last_name", "user_id") if k in shared}
        own = shared.get("user_id") == user_id
        if own:
            # The customer shared their own number (the "share my phone" button): it is theirs.
            phones.append(phone)
            text = f"[телефон: {phone}]"
        else:
            # Someone's card from the sender's phone book (or a contact without user_id): a claim.
            text = f"[контакт: {_name(shared)}, {phone}]"
            normalised = try_normalize_phone(phone)
            if normalised is not None and not normalised.extension:
                claims.append({"phone": normalised.e164, "source": "contact", "name": _name(shared)[:200]})
    location = message.get("location")
    if not text and isinstance(location, dict):
        text = f"[место: {location.get('latitude')}, {location.get('longitude')}]"
        meta["location"] = location
    if not text:
        text = "[сообщение без текста]"
    claims = [c for i, c in enumerate(claims) if c["phone"] not in {d["phone"] for d in claims[:i]}]
    if claims:
        meta["phone_claims"] = [{**c, "status": "proposed"} for c in claims]

    message_id = str(message["message_id"])
    if edited:
        edit_date = message.get("edit_date") or message.get("date")
        meta["edited"] = True
        meta["telegram"]["edit_date"] = edit_date
        message_id = f"{message_id}:edit:{edit_date}"
    when = message.get("edit_date") if edited else message.get("date")
    return InboundItem(
        conversation_kind="message", thread_id=f"tg:{chat['id']}", message_id=message_id,
        sender=Sender(name=_name(sender_user), phones=phones, handles=[("telegram", str(user_id))]),
        text=text, author_name=_name(sender_user),
        occurred_at=datetime.fromtimestamp(when, tz=UTC) if isinstance(when, int) else None,
        meta=meta,
    )


def api_base() -> str:
    return getattr(settings, "OKNO_TELEGRAM_API_BASE", DEFAULT_API_BASE).rstrip("/")


def bot_api_call(channel, method: str, params: dict):
    """Calls a Bot API method with the channel's token; returns its `result`.

    Rate limits (429) and server errors are temporary (SendFailed(retry=True)); a bad request,
    a blocked bot (403) or a wrong token are not. Error texts never carry the URL: it holds the
    token.
    """
    token = channel.settings.get("bot_token", "")
    if not token:
        raise SendFailed("the channel has no bot_token", retry=False)
    request = urllib.request.Request(
        f"{api_base()}/bot{token}/{method}", data=json.dumps(params).encode("utf-8"),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        description = _description(exc.read())
        temporary = exc.code == 429 or exc.code >= 500
        raise SendFailed(f"{method}: HTTP {exc.code} {description}".strip(), retry=temporary) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendFailed(f"{method}: Telegram not reachable ({type(reason).__name__})", retry=True) from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SendFailed(f"{method}: the answer is not JSON", retry=True) from None
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        description = answer.get("description", "") if isinstance(answer, dict) else ""
        raise SendFailed(f"{method}: not ok {description}".strip(), retry=False)
    return answer.get("result")


def _description(raw: bytes) -> str:
    """The Bot API's error text ({"ok":false,"error_code":429,"description":...,"parameters":...})."""
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    if not isinstance(answer, dict):
        return ""
    retry_after = (answer.get("parameters") or {}).get("retry_after")
    text = str(answer.get("description", ""))[:300]
    return f"{text} (retry after {retry_after} s)" if retry_after else text


def webhook_register(channel, *, url: str) -> None:
    """setWebhook with the channel's secret, so Telegram proves itself on every update."""
    bot_api_call(channel, "setWebhook", {
        "url": url, "secret_token": channel.secret,
        "allowed_updates": [*MESSAGE_UPDATES, "my_chat_member"],
    })
