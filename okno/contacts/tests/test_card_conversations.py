from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from okno.contacts.models import Contact
from okno.inbox import adapters
from okno.inbox.adapters.base import ChannelAdapter
from okno.inbox.drain import inbound_drain
from okno.inbox.items import InboundItem, Sender
from okno.inbox.models import Delivery, Message
from okno.inbox.services import inbound_item_record
from okno.inbox.tests.factories import make_channel
from okno.people.tests.factories import UserFactory


class ChatAdapter(ChannelAdapter):
    kind = "testchat"
    can_reply = True


@pytest.fixture
def chat_kind(monkeypatch):
    monkeypatch.setitem(adapters._adapters, "testchat", ChatAdapter())


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def chat(channel, thread: str, lines: list[tuple[str, str, str]], start=None):
    """Records a transcript: (direction, author, text) per message, a minute apart."""
    start = start or timezone.now() - timedelta(hours=1)
    for i, (direction, author, text) in enumerate(lines):
        inbound_item_record(channel=channel, item=InboundItem(
            conversation_kind="chat", thread_id=thread, message_id=f"{thread}:{i}", direction=direction,
            sender=Sender(name="Ольга", phones=["+7 916 123-45-67"]), author_name=author, text=text,
            occurred_at=start + timedelta(minutes=i)))


def test_card_shows_a_form_submission_and_a_chat_transcript_interleaved(db, client, chat_kind):
    # given a manager whose customer sent a form, then chatted with an operator
    manager = UserFactory()
    form_channel = make_channel(name="Сайт", fallback_user=manager)
    client.post(form_channel.webhook_path, {"name": "Ольга", "phone": "+7 916 123-45-67", "message": "Нужен счёт",
                                            "company_size": "50", "utm_source": "yandex"})
    inbound_drain()
    contact = Contact.objects.get()
    chat_channel = make_channel(kind="testchat", name="Чат на сайте")
    chat(chat_channel, "c1", [("in", "Ольга", "Здравствуйте, где счёт?"), ("out", "Анна", "Уже отправили"),
                              ("in", "Ольга", "Спасибо")], start=timezone.now() + timedelta(minutes=5))
    # when the manager opens the card
    page = logged_in(manager).get(f"/contacts/{contact.pk}/").content.decode()
    # then the chat (newer) comes before the form, each with its channel
    chat_at, form_at = page.index("Чат на сайте"), page.index("company_size")
    assert chat_at < form_at
    # the form shows its fields
    assert "<dt>company_size</dt><dd>50</dd>" in page and "<dt>Сообщение</dt><dd>Нужен счёт</dd>" in page
    # the transcript shows each message with its direction and author, in order
    transcript = page[chat_at:form_at]
    assert transcript.count('class="msg msg-in"') == 2 and transcript.count('class="msg msg-out"') == 1
    assert transcript.index("Здравствуйте, где счёт?") < transcript.index("Уже отправили") < transcript.index(
        "Спасибо")
    assert "Анна" in transcript
    # and a channel that can reply gets a reply box; the form does not
    assert transcript.count('class="conv-reply"') == 1 and page.count('class="conv-reply"') == 1


def test_long_transcripts_are_folded_and_queries_do_not_grow_with_conversations(db, chat_kind):
    manager = UserFactory()
    channel = make_channel(kind="testchat", fallback_user=manager)
    chat(channel, "long", [("in" if i % 2 else "out", "", f"сообщение {i}") for i in range(10)])
    contact = Contact.objects.get()
    client = logged_in(manager)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    folded = page[page.index("<details"):page.index("</details>")]
    assert '<summary class="small">7 ' in folded and "сообщение 0" in folded and "сообщение 9" not in folded
    assert "сообщение 9" in page[page.index("</details>"):]
    with CaptureQueriesContext(connection) as one:
        client.get(f"/contacts/{contact.pk}/")
    for n in range(8):
        chat(channel, f"more{n}", [("in", "", "ещё"), ("out", "", "ответ")])
    with CaptureQueriesContext(connection) as nine:
        client.get(f"/contacts/{contact.pk}/")
    assert len(nine) == len(one)


def test_reply_from_the_card_queues_a_delivery_and_shows_in_the_conversation(db, chat_kind):
    manager = UserFactory(first_name="Анна", last_name="Операторова")
    channel = make_channel(kind="testchat", fallback_user=manager)
    chat(channel, "c1", [("in", "Ольга", "Есть в наличии?")])
    conv = Message.objects.get().conversation
    r = logged_in(manager).post(f"/inbox/conversations/{conv.pk}/reply/", {"text": "Да, есть"},
                                headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.content.decode()
    assert body.startswith(f'<div class="conv conv-chat" id="conversation-{conv.pk}">')
    assert 'class="msg msg-out"' in body and "Да, есть" in body and "Анна Операторова" in body
    reply = Message.objects.get(direction="out")
    assert reply.author == manager and Delivery.objects.get(message=reply).status == "pending"
    # an empty reply is an error shown in the box, nothing queued
    r = logged_in(manager).post(f"/inbox/conversations/{conv.pk}/reply/", {"text": "  "},
                                headers={"HX-Request": "true"})
    assert 'class="field-error"' in r.content.decode() and Delivery.objects.count() == 1


def test_reply_to_another_departments_customer_is_404(db, chat_kind):
    owner = UserFactory()
    channel = make_channel(kind="testchat", fallback_user=owner)
    chat(channel, "c1", [("in", "Ольга", "Вопрос")])
    conv = Message.objects.get().conversation
    stranger = UserFactory()  # a manager of another department
    r = logged_in(stranger).post(f"/inbox/conversations/{conv.pk}/reply/", {"text": "Привет"})
    assert r.status_code == 404 and not Delivery.objects.exists()
