"""Answering the customer from the card in a real browser: a Telegram chat through its own
channel (with the error an empty reply shows), a web form by e-mail through the outbox."""

import pytest
from playwright.sync_api import expect

from okno.contacts.models import Contact
from okno.inbox.adapters.form import submission_item
from okno.inbox.items import InboundItem, Sender
from okno.inbox.models import Conversation, Delivery, Message
from okno.inbox.services import inbound_item_record
from okno.inbox.tests.factories import make_channel
from okno.outbox.drain import outbox_drain
from okno.outbox.models import OutboxMessage
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_a_telegram_chat_is_answered_from_the_card_and_an_empty_reply_is_refused(logged_in_page):
    # given a Telegram chat with a customer
    manager = UserFactory(language="en")
    channel = make_channel(kind="telegram", name="Telegram бот", fallback_user=manager)
    inbound_item_record(channel=channel, item=InboundItem(
        conversation_kind="message", thread_id="tg-1", message_id="tg-1:1",
        sender=Sender(name="Ольга", handles=[("telegram", "1001")]), text="Когда доставка?"))
    conv = Conversation.objects.get()
    page = logged_in_page(manager)
    page.goto(f"/contacts/{conv.contact_id}/")
    box = page.locator(f"#conversation-{conv.pk}")

    # when the manager sends an empty reply
    box.locator("button[type=submit]").click()
    # then the box says why, and nothing is queued
    expect(box.locator(".field-error")).to_have_text("a reply cannot be empty")
    assert not Delivery.objects.exists()

    # when the manager writes the answer and sends it
    page.locator(f"#conversation-{conv.pk} textarea[name=text]").fill("Завтра до обеда")
    page.locator(f"#conversation-{conv.pk} button[type=submit]").click()
    # then it shows in the chat, waiting for the worker, and the box is empty again
    expect(page.locator(f"#conversation-{conv.pk} .msg-out")).to_contain_text("Завтра до обеда")
    expect(page.locator(f"#conversation-{conv.pk} .msg-out .badge")).to_have_text("pending")
    expect(page.locator(f"#conversation-{conv.pk} textarea[name=text]")).to_have_value("")
    assert Delivery.objects.get().message.text == "Завтра до обеда"


def test_a_form_submission_is_answered_by_email_from_the_card(logged_in_page):
    # given a form submission with the customer's e-mail and a landline
    manager = UserFactory(language="en")
    channel = make_channel(name="Сайт", fallback_user=manager)
    inbound_item_record(channel=channel, item=submission_item(
        {"name": "Ольга", "email": "olga@example.ru", "phone": "+7 495 123-45-67", "message": "Нужен счёт",
         "formname": "Заявка на расчёт"}, thread_id="form-1"))
    conv = Conversation.objects.get()
    page = logged_in_page(manager)
    page.goto(f"/contacts/{conv.contact_id}/")
    box = page.locator(f"#conversation-{conv.pk}")

    # then the box offers the e-mail (a landline takes no SMS) with a subject ready
    expect(box.get_by_label("by e-mail to olga@example.ru")).to_be_checked()
    expect(box.locator("input[name=subject]")).to_have_value("Re: Заявка на расчёт")
    # when the manager writes the answer and sends it
    box.locator("textarea[name=text]").fill("Ольга, счёт пришлём сегодня.")
    box.locator("button[type=submit]").dblclick()  # an impatient double click sends once
    # then the answer follows the submission as an outbound message, queued in the outbox
    reply = page.locator(f"#conversation-{conv.pk} .msg-routed")
    expect(reply).to_contain_text("Ольга, счёт пришлём сегодня.")
    expect(reply).to_contain_text("by e-mail to olga@example.ru")
    expect(reply.locator(".reply-state")).to_have_text("queued")
    row = OutboxMessage.objects.get()
    assert (row.payload["to"], row.payload["subject"]) == ("olga@example.ru", "Re: Заявка на расчёт")
    assert Message.objects.get(direction="out").author == manager

    # when the worker sends it and the manager opens the card again
    outbox_drain()
    page.reload()
    expect(page.locator(f"#conversation-{conv.pk} .msg-routed .reply-state")).to_have_text("sent")
    assert Contact.objects.count() == 1
