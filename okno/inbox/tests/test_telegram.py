"""The Telegram bot channel: recorded updates in, replies out through a local fake Bot API."""

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from okno.contacts.models import Contact, ContactPhone, MessengerHandle
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Lead
from okno.inbox.drain import inbound_drain
from okno.inbox.models import Conversation, Delivery, InboundEvent, Message
from okno.inbox.replies import deliveries_drain
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import DepartmentFactory, UserFactory

PAYLOADS = Path(__file__).parent / "payloads" / "telegram"
BOT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def post_update(client, channel, name: str, *, secret: str | None = None):
    headers = {"X-Telegram-Bot-Api-Secret-Token": channel.secret if secret is None else secret}
    return client.post(channel.webhook_path, data=payload(name), content_type="application/json", headers=headers)


@pytest.fixture
def channel(db):
    return make_channel(kind="telegram", name="Бот магазина", settings={"bot_token": BOT_TOKEN})


class FakeBotApi:
    """A local stand-in for api.telegram.org that speaks the published format and records calls."""

    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.queued: deque[tuple[int, dict]] = deque()
        self.next_message_id = 9001
        self.files: dict[str, bytes] = {}  # file_path -> content, for getFile and the download
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append((self.path, json.loads(self.rfile.read(length) or b"{}")))
                status, body = fake.queued.popleft() if fake.queued else (200, fake._ok())
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                fake.requests.append((self.path, {}))
                data = fake.files.get(self.path.rpartition("/file/bot" + BOT_TOKEN + "/")[2])
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _ok(self) -> dict:
        path, params = self.requests[-1]
        if path.endswith("/sendMessage"):
            self.next_message_id += 1
            return {"ok": True, "result": {
                "message_id": self.next_message_id, "date": 1718003000, "text": params.get("text"),
                "chat": {"id": params.get("chat_id"), "type": "private"},
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Okno", "username": "okno_shop_bot"},
            }}
        if path.endswith("/getFile"):
            file_path = params["file_id"].rpartition("-")[2] + ".bin"
            if file_path not in self.files:
                return {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return {"ok": True, "result": {"file_id": params["file_id"], "file_unique_id": "u",
                                           "file_size": len(self.files[file_path]), "file_path": file_path}}
        return {"ok": True, "result": True, "description": "Webhook was set"}


@pytest.fixture
def bot_api(settings):
    fake = FakeBotApi()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    settings.OKNO_TELEGRAM_API_BASE = fake.url
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_missing_or_wrong_secret_header_is_403_and_stores_nothing(channel, client):
    assert post_update(client, channel, "text", secret="").status_code == 403
    assert post_update(client, channel, "text", secret=channel.secret + "x").status_code == 403
    assert not InboundEvent.objects.exists()
    # the right secret is accepted with an empty 200, which Telegram does not read as a method call
    r = post_update(client, channel, "text")
    assert r.status_code == 200 and r.content == b""
    assert InboundEvent.objects.get().dedup_key == "tg:734001"


def test_text_message_becomes_card_conversation_message_and_lead(channel, client):
    # given a channel of a department with one manager at work
    sales = DepartmentFactory()
    manager = UserFactory(department=sales)
    channel.department = sales
    channel.save()
    # when a customer writes to the bot and the worker drains
    post_update(client, channel, "text")
    assert InboundEvent.objects.get().event_type == "message"
    assert inbound_drain() == 1
    # then there is one card known by its Telegram id, a messenger conversation and a lead
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Ольга", "Смирнова")
    assert list(contact.handles.values_list("kind", "handle")) == [("telegram", "424242001")]
    assert not contact.phones.exists()
    conv = Conversation.objects.get()
    assert (conv.contact, conv.kind, conv.external_id) == (contact, "message", "tg:424242001")
    message = Message.objects.get()
    assert (message.direction, message.external_id, message.text) == (
        "in", "12", "Здравствуйте! Сколько стоит доставка в Тверь?")
    assert message.sent_at.timestamp() == 1718000000
    assert message.meta["telegram"] == {"chat_id": 424242001, "message_id": 12, "username": "olga_s"}
    lead = Lead.objects.get()
    assert lead.contact == contact and lead.assignee == manager
    assert InboundEvent.objects.get().status == InboundEvent.Status.DONE


def test_telegrams_own_documented_sample_without_chat_type_is_recorded(channel, client):
    post_update(client, channel, "sample_start")
    inbound_drain()
    assert InboundEvent.objects.get().status == InboundEvent.Status.DONE
    message = Message.objects.get()
    assert (message.text, message.external_id, message.conversation.external_id) == ("/start", "1365", "tg:1111111")
    assert Contact.objects.get().first_name == "Test"


def test_the_same_update_twice_is_one_event_and_one_message(channel, client):
    post_update(client, channel, "text")
    assert post_update(client, channel, "text").status_code == 200
    assert InboundEvent.objects.count() == 1
    inbound_drain()
    # a worker that died after committing processes it again: nothing doubles
    InboundEvent.objects.update(status=InboundEvent.Status.RECEIVED)
    inbound_drain()
    assert (Contact.objects.count(), Conversation.objects.count(), Message.objects.count(), Lead.objects.count()) == (
        1, 1, 1, 1)


def test_next_messages_of_the_chat_join_its_conversation_with_media_kept_as_file_ids(channel, client):
    for name in ("text", "photo", "document", "voice"):
        post_update(client, channel, name)
    inbound_drain()
    conv = Conversation.objects.get()
    texts = list(conv.messages.values_list("external_id", "text"))
    assert texts == [("12", "Здравствуйте! Сколько стоит доставка в Тверь?"),
                     ("17", "[фото] Вот такая полка нужна"),
                     ("18", "[документ: реквизиты.pdf]"),
                     ("19", "[голосовое сообщение]")]
    photo, document, voice = (conv.messages.get(external_id=i).meta["files"] for i in ("17", "18", "19"))
    # of a photo's sizes the largest is kept
    assert photo == [{"kind": "photo", "file_id": "AgACAgIAAxkBAAIBEWZ-large", "file_unique_id": "AQADlarge",
                      "file_size": 80544, "width": 1280, "height": 960}]
    assert document[0]["file_id"] == "BQACAgIAAxkBAAIBEmZ-doc" and document[0]["mime_type"] == "application/pdf"
    assert voice[0]["file_id"] == "AwACAgIAAxkBAAIBE2Z-voice" and voice[0]["duration"] == 7
    assert Lead.objects.count() == 1 and Contact.objects.count() == 1


def test_an_edit_is_kept_as_a_further_message_marked_edited(channel, client):
    post_update(client, channel, "text")
    post_update(client, channel, "edited")
    inbound_drain()
    first, edit = Message.objects.order_by("sent_at")
    assert first.text == "Здравствуйте! Сколько стоит доставка в Тверь?" and "edited" not in first.meta
    assert edit.text == "Здравствуйте! Сколько стоит доставка в Тверь и в Клин?"
    assert edit.external_id == "12:edit:1718000500" and edit.meta["edited"] is True
    assert edit.conversation_id == first.conversation_id


def test_own_contact_adds_the_phone_and_someone_elses_does_not(channel, client):
    post_update(client, channel, "text")
    post_update(client, channel, "contact_other")
    inbound_drain()
    contact = Contact.objects.get()
    assert not contact.phones.exists()
    assert Message.objects.get(external_id="16").text == "[контакт: Муж, +7 903 111-22-33]"
    # when the customer presses "share my phone number"
    post_update(client, channel, "contact_own")
    inbound_drain()
    assert list(contact.phones.values_list("e164", flat=True)) == ["+79161234567"]
    assert Message.objects.get(external_id="15").text == "[телефон: +79161234567]"
    assert Contact.objects.count() == 1


def test_shared_phone_of_a_known_customer_merges_the_new_card_into_the_older(channel, client):
    # given a customer known by phone, with a responsible manager
    manager = UserFactory()
    known = make_contact(actor=manager, first_name="Ольга", last_name="Смирнова", phones=["+7 916 123-45-67"])
    # when they write to the bot (unknown Telegram id: a new card) and later share their phone
    post_update(client, channel, "text")
    inbound_drain()
    newer = Contact.objects.exclude(pk=known.pk).get()
    assert Conversation.objects.get().contact == newer
    post_update(client, channel, "contact_own")
    inbound_drain()
    # then the newer card is merged into the older one, with the conversation and the Telegram id
    newer.refresh_from_db()
    assert newer.status == Contact.Status.MERGED and newer.merged_into_id == known.pk
    assert list(Contact.objects.filter(status=Contact.Status.ACTIVE)) == [known]
    assert Conversation.objects.get().contact_id == known.pk
    assert MessengerHandle.objects.get(kind="telegram", handle="424242001").contact_id == known.pk
    assert ContactPhone.objects.filter(contact=known).count() == 1
    assert Message.objects.filter(conversation__contact=known).count() == 2
    # and the next message lands on the older card straight away
    post_update(client, channel, "photo")
    inbound_drain()
    assert Contact.objects.filter(status=Contact.Status.ACTIVE).count() == 1
    assert Message.objects.filter(conversation__contact=known).count() == 3


def test_phone_typed_in_the_chat_is_a_claim_and_order_numbers_are_not(channel, client):
    # a typed number is proposed on the card, never added by itself (test_telegram_phone_claims)
    post_update(client, channel, "other_user_text")
    post_update(client, channel, "text_with_phone")
    inbound_drain()
    petr = Contact.objects.get(first_name="Пётр")
    assert not petr.phones.exists() and "phone_claims" not in Message.objects.get(external_id="3").meta
    olga = Contact.objects.get(first_name="Ольга")
    assert not olga.phones.exists()
    assert Message.objects.get(external_id="14").meta["phone_claims"] == [
        {"phone": "+79161234567", "source": "text", "status": "proposed"}]


def test_phone_in_text_is_left_alone_when_the_channel_says_so(channel, client):
    channel.settings = {**channel.settings, "phones_from_text": False}
    channel.save()
    post_update(client, channel, "text_with_phone")
    inbound_drain()
    assert Contact.objects.get().phones.count() == 0
    assert "phone_claims" not in Message.objects.get().meta


def test_other_updates_are_kept_and_flagged(channel, client):
    for name in ("callback_query", "my_chat_member", "group", "malformed"):
        post_update(client, channel, name)
    client.post(channel.webhook_path, data=b"{not json", content_type="application/json",
                headers={"X-Telegram-Bot-Api-Secret-Token": channel.secret})
    inbound_drain()
    # (a group's message and a chatless one are both "message" events: pairs, not a dict, so
    # the answer does not depend on the rows' order)
    statuses = set(InboundEvent.objects.values_list("event_type", "status"))
    assert statuses == {("callback_query", "unknown"), ("my_chat_member", "ignored"), ("message", "ignored"),
                        ("message", "rejected"), ("", "rejected")}
    by_key = dict(InboundEvent.objects.values_list("dedup_key", "status"))
    assert by_key["tg:734011"] == "ignored"  # a group chat is not a customer conversation
    assert by_key["tg:734012"] == "rejected"  # a message without a chat
    assert not Contact.objects.exists() and not Message.objects.exists()


def _conversation(channel, client) -> Conversation:
    post_update(client, channel, "text")
    inbound_drain()
    return Conversation.objects.get()


def test_reply_from_the_card_is_sent_through_the_bot_api(channel, client, api, bot_api):
    conv = _conversation(channel, client)
    # when a manager answers through the API
    r = api.post(f"/api/v1/conversations/{conv.pk}/replies", {"text": "Доставка в Тверь — 500 ₽"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["direction"] == "out" and body["delivery_status"] == "pending" and body["conversation_id"] == conv.pk
    assert bot_api.requests == []  # nothing leaves on the request path
    # then the worker sends it with the bot token, to the customer's chat
    assert deliveries_drain() == 1
    assert bot_api.requests == [(f"/bot{BOT_TOKEN}/sendMessage",
                                 {"chat_id": 424242001, "text": "Доставка в Тверь — 500 ₽"})]
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SENT and delivery.error == ""
    assert Message.objects.get(pk=body["id"]).external_id == "9002"


def test_rate_limit_is_retried_and_a_blocked_bot_fails_for_good(channel, client, admin_user, bot_api):
    from okno.inbox.replies import conversation_reply

    conv = _conversation(channel, client)
    conversation_reply(actor=admin_user, conversation=conv, text="Первый ответ")
    bot_api.queued.append((429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                                 "parameters": {"retry_after": 3}}))
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and "429" in delivery.error and "retry after 3" in delivery.error
    assert BOT_TOKEN not in delivery.error
    Delivery.objects.update(run_after=delivery.run_after.replace(year=2000))
    deliveries_drain()
    assert Delivery.objects.get().status == Delivery.Status.SENT
    # a customer who blocked the bot: 403, no point in trying again
    Delivery.objects.all().delete()
    conversation_reply(actor=admin_user, conversation=conv, text="Второй ответ")
    bot_api.queued.append((403, {"ok": False, "error_code": 403,
                                 "description": "Forbidden: bot was blocked by the user"}))
    deliveries_drain()
    failed = Delivery.objects.get()
    assert failed.status == Delivery.Status.FAILED and "bot was blocked" in failed.error
    assert len(bot_api.requests) == 3


def test_unreachable_api_is_retried(channel, client, admin_user, settings):
    from okno.inbox.replies import conversation_reply

    conv = _conversation(channel, client)
    settings.OKNO_TELEGRAM_API_BASE = "http://127.0.0.1:9"  # discard port: connection refused
    conversation_reply(actor=admin_user, conversation=conv, text="Ответ")
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and "not reachable" in delivery.error


def test_another_departments_conversation_is_404_and_empty_reply_400(channel, client, api_as, api):
    # given a conversation whose card belongs to a manager of sales
    conv = _conversation(channel, client)
    owner, stranger = UserFactory(), UserFactory()
    Contact.objects.filter(pk=conv.contact_id).update(responsible=owner, department=owner.department)
    # then a manager of another department does not see it at all
    r = api_as(stranger).post(f"/api/v1/conversations/{conv.pk}/replies", {"text": "Привет"})
    assert r.status_code == 404
    assert not Message.objects.filter(direction="out").exists()
    # and the owner may answer, but not with nothing
    r = api_as(owner).post(f"/api/v1/conversations/{conv.pk}/replies", {"text": "  "})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "text"
    assert api_as(owner).post(f"/api/v1/conversations/{conv.pk}/replies", {"text": "Привет"}).status_code == 201
    assert Delivery.objects.count() == 1


def test_set_webhook_command_gives_telegram_the_url_and_secret(channel, bot_api, settings):
    settings.SITE_URL = "https://crm.example.ru"
    out = StringIO()
    call_command("telegram_set_webhook", str(channel.pk), stdout=out)
    path, params = bot_api.requests[0]
    assert path == f"/bot{BOT_TOKEN}/setWebhook"
    assert params["url"] == f"https://crm.example.ru/hooks/telegram/{channel.token}/"
    assert params["secret_token"] == channel.secret
    assert "message" in params["allowed_updates"]
    assert "crm.example.ru" in out.getvalue()


def test_channel_needs_a_bot_token(api):
    r = api.post("/api/v1/channels", {"kind": "telegram", "name": "Бот", "settings": {}})
    assert r.status_code == 400 and r.json()["errors"] == [
        {"field": "settings.bot_token", "reason": "required for this kind of channel"}]
    r = api.post("/api/v1/channels", {"kind": "telegram", "name": "Бот", "settings": {"bot_token": BOT_TOKEN}})
    assert r.status_code == 201 and "/hooks/telegram/" in r.json()["webhook_url"]
