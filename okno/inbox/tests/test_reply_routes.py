"""Answering from the card where the conversation's channel cannot send (a web form, a Jivo chat):
by e-mail or SMS through the outbox, the reply an outbound message of the conversation."""

import pytest
from django.core import mail
from django.test import Client

from okno.contacts.models import Contact
from okno.inbox.drain import inbound_drain
from okno.inbox.items import InboundItem, Sender
from okno.inbox.models import Conversation, Message
from okno.inbox.services import inbound_item_record
from okno.inbox.tests.factories import make_channel
from okno.outbox.drain import outbox_drain
from okno.outbox.models import OutboxMessage
from okno.outbox.sms_status import sms_status_drain
from okno.outbox.tests.factories import make_provider
from okno.outbox.tests.servers import LocalServer, Recorder, smsru_answer
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.timeline.models import Activity

HTMX = {"HTTP_HX_REQUEST": "true"}
# The managers read English: the reasons are checked as the service words them (Russian: reply.po).


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_submission(client: Client, manager, **fields) -> Conversation:
    """A customer sends the site's form; the worker records it on a card the manager sees."""
    channel = make_channel(name="Сайт", fallback_user=manager)
    data = {"name": "Ольга", "phone": "+7 916 123-45-67", "email": "olga@example.ru", "message": "Нужен счёт",
            "formname": "Заявка на расчёт"}
    data.update(fields)
    client.post(channel.webhook_path, {k: v for k, v in data.items() if v is not None})
    inbound_drain()
    return Conversation.objects.get(channel=channel)


def reply(client: Client, conv: Conversation, **data) -> str:
    response = client.post(f"/inbox/conversations/{conv.pk}/reply/", data, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_an_email_reply_to_a_form_lands_in_the_conversation_and_the_outbox(db, client):
    # given a manager whose customer sent a form with her e-mail and phone (no SMS provider set up)
    manager = UserFactory(language="en")
    conv = form_submission(client, manager)
    manager_client = logged_in(manager)
    card = manager_client.get(f"/contacts/{conv.contact_id}/").content.decode()
    # then the card offers to answer by e-mail to the submission's address, with a subject
    assert 'class="conv-reply conv-reply-routed"' in card
    assert 'value="email:olga@example.ru"' in card and "sms:" not in card
    assert 'value="Re: Заявка на расчёт"' in card
    # when the manager answers by e-mail
    page = reply(manager_client, conv, to="email:olga@example.ru", subject="Re: Заявка на расчёт",
                 text="Ольга, счёт во вложении завтра.")
    # then the reply is an outbound message of the conversation, queued in the outbox
    message = Message.objects.get(conversation=conv, direction="out")
    row = OutboxMessage.objects.get(kind="email")
    assert row.payload["to"] == "olga@example.ru" and row.payload["subject"] == "Re: Заявка на расчёт"
    assert row.payload["body"] == "Ольга, счёт во вложении завтра." and row.contact_id == conv.contact_id
    assert message.author == manager and message.meta["route_id"] == row.pk and message.meta["reply_route"] == "email"
    assert "Ольга, счёт во вложении завтра." in page and "reply-state-queued" in page
    # when the worker sends it
    outbox_drain()
    assert [m.to for m in mail.outbox] == [["olga@example.ru"]]
    assert mail.outbox[0].subject == "Re: Заявка на расчёт"
    # then the card shows it sent, inside the conversation, and not a second time as an "E-mail to" line
    card = manager_client.get(f"/contacts/{conv.contact_id}/").content.decode()
    assert "reply-state-sent" in card and card.count("Ольга, счёт во вложении завтра.") == 1
    assert not Activity.objects.filter(contact_id=conv.contact_id, kind=Activity.Kind.OUTBOX).exists()


def test_a_failed_email_shows_as_not_sent_with_the_reason(db, client):
    manager = UserFactory(language="en")
    conv = form_submission(client, manager)
    manager_client = logged_in(manager)
    reply(manager_client, conv, to="email:olga@example.ru", text="Ответ")
    # given the outbox gave up on the e-mail
    OutboxMessage.objects.update(status="gave_up", last_error="SMTPRecipientsRefused: 550 no such user")
    card = manager_client.get(f"/contacts/{conv.contact_id}/").content.decode()
    assert "reply-state-failed" in card and "550 no such user" in card


def test_an_sms_reply_goes_through_the_configured_provider(db, client):
    # given a form with a mobile only, and an SMS provider set up
    manager = UserFactory(language="en")
    recorder = Recorder(smsru_answer)
    with LocalServer(recorder) as server:
        make_provider("smsru", server.url)
        conv = form_submission(client, manager, email=None)
        manager_client = logged_in(manager)
        card = manager_client.get(f"/contacts/{conv.contact_id}/").content.decode()
        assert 'value="sms:+79161234567"' in card and "email:" not in card
        # when the manager answers by SMS
        page = reply(manager_client, conv, to="sms:+79161234567", text="Перезвоню в 15:00")
        row = OutboxMessage.objects.get(kind="sms")
        assert row.payload == {"to": "+79161234567", "text": "Перезвоню в 15:00", "conversation_id": conv.pk}
        assert "Перезвоню в 15:00" in page and "+7 916 123-45-67" in page
        # then the provider gets it and the conversation shows it sent
        outbox_drain()
        assert recorder.requests[0]["query"]["to"] == "79161234567"
        card = manager_client.get(f"/contacts/{conv.contact_id}/").content.decode()
        assert "reply-state-sent" in card
        # and delivered once the provider says so
        sms_status_drain()
    card = manager_client.get(f"/contacts/{conv.contact_id}/").content.decode()
    assert "reply-state-delivered" in card
    assert not Activity.objects.filter(contact_id=conv.contact_id, kind=Activity.Kind.OUTBOX).exists()


def test_without_an_sms_provider_a_phone_only_customer_gets_no_box_but_a_reason(db, client):
    manager = UserFactory(language="en")
    conv = form_submission(client, manager, email=None)
    manager_client = logged_in(manager)
    card = manager_client.get(f"/contacts/{conv.contact_id}/").content.decode()
    assert "conv-reply-routed" not in card and "until an SMS provider is set up" in card
    # and a hand-made post is refused with the reason, nothing queued
    page = reply(manager_client, conv, to="sms:+79161234567", text="Ответ")
    assert "SMS cannot be sent: no SMS provider is set up" in page
    assert not OutboxMessage.objects.exists() and not Message.objects.filter(direction="out").exists()


def test_a_jivo_chat_without_email_or_mobile_says_so_instead_of_a_box(db):
    # given a Jivo chat of a visitor who left only a landline
    manager = UserFactory(language="en")
    channel = make_channel(kind="jivo", name="Чат на сайте", fallback_user=manager)
    with LocalServer(Recorder(smsru_answer)) as server:
        make_provider("smsru", server.url)
        inbound_item_record(channel=channel, item=InboundItem(
            conversation_kind="chat", thread_id="chat-1", message_id="chat-1:1",
            sender=Sender(name="Посетитель", phones=["+7 495 123-45-67"]), text="Сколько стоит доставка?"))
        contact = Contact.objects.get()
        card = logged_in(manager).get(f"/contacts/{contact.pk}/").content.decode()
    # then the card says a live reply is given in Jivo, and that there is no way to answer here
    assert "Jivo&#x27;s operator app" in card or "Jivo's operator app" in card
    assert "neither an e-mail nor a mobile phone" in card and "conv-reply" not in card.replace("conv-reply-other", "")


def test_a_jivo_chat_with_an_email_on_the_card_is_answered_by_email(db):
    manager = UserFactory(language="en")
    channel = make_channel(kind="jivo", name="Чат на сайте", fallback_user=manager)
    inbound_item_record(channel=channel, item=InboundItem(
        conversation_kind="chat", thread_id="chat-2", message_id="chat-2:1",
        sender=Sender(name="Посетитель", emails=["Visitor@Example.ru"]), text="Пришлите прайс"))
    conv = Conversation.objects.get()
    client = logged_in(manager)
    card = client.get(f"/contacts/{conv.contact_id}/").content.decode()
    assert "Jivo" in card and 'value="email:visitor@example.ru"' in card and 'value="Re: Чат на сайте"' in card
    page = reply(client, conv, to="email:visitor@example.ru", text="Прайс во вложении")
    # then the reply reads in the chat's thread after the visitor's message
    assert page.index("Пришлите прайс") < page.index("Прайс во вложении")
    assert OutboxMessage.objects.get().payload["to"] == "visitor@example.ru"


@pytest.mark.parametrize(("data", "field_error"), [
    ({"to": "email:olga@example.ru", "text": "   "}, "a reply cannot be empty"),
    ({"to": "email:stranger@evil.example", "text": "Ответ"}, "not one of this customer&#x27;s addresses"),
    ({"to": "", "text": "Ответ"}, "choose how to answer: by e-mail or by SMS"),
    ({"to": "fax:123", "text": "Ответ"}, "choose how to answer: by e-mail or by SMS"),
    ({"to": "email:olga@example.ru", "text": "Ответ", "subject": "x" * 201}, "at most 200 characters"),
])
def test_bad_input_is_shown_in_the_box_and_nothing_is_queued(db, client, data, field_error):
    manager = UserFactory(language="en")
    conv = form_submission(client, manager)
    page = reply(logged_in(manager), conv, **data)
    assert f'<p class="field-error">{field_error}</p>' in page
    assert 'class="conv-reply conv-reply-routed"' in page  # the box stays, with what was typed
    assert not OutboxMessage.objects.exists() and not Message.objects.filter(direction="out").exists()


def test_another_departments_conversation_is_404(db, client):
    # given a form submission on a card of the sales department
    sales, service = DepartmentFactory(), DepartmentFactory()
    manager = UserFactory(department=sales, language="en")
    conv = form_submission(client, manager)
    Contact.objects.filter(pk=conv.contact_id).update(responsible=manager, department=sales)
    # when a manager of another department posts a reply to it
    outsider = logged_in(UserFactory(department=service))
    response = outsider.post(f"/inbox/conversations/{conv.pk}/reply/",
                             {"to": "email:olga@example.ru", "text": "Ответ"}, **HTMX)
    # then it does not exist for them, and nothing is sent
    assert response.status_code == 404
    assert not OutboxMessage.objects.exists() and not Message.objects.filter(direction="out").exists()
