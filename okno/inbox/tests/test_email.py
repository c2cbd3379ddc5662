"""The e-mail channel against real servers: a private Dovecot over IMAP and aiosmtpd over SMTP."""

import email
import email.policy
import shutil
import tempfile
import time
import uuid
from email.utils import formatdate
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from okno.contacts.models import Contact, ContactEmail
from okno.deals.models import Lead
from okno.inbox.adapters.email import EmailAdapter
from okno.inbox.drain import inbound_drain
from okno.inbox.mailbox import mailbox_poll, mailboxes_drain
from okno.inbox.models import Channel, Conversation, Delivery, InboundEvent, Message
from okno.inbox.replies import conversation_reply, deliveries_drain
from okno.inbox.tests import mailservers
from okno.inbox.tests.factories import make_channel
from okno.inbox.tests.mailservers import SmtpRecorder, free_port, mail

pytestmark = pytest.mark.email

PDF = b"%PDF-1.4 price list\n" + bytes(range(256))


@pytest.fixture(scope="session")
def dovecot():
    # Not pytest's tmp_path: its parents are mode 0700, and Dovecot's own users must reach the files.
    root = Path(tempfile.mkdtemp(prefix="okno-dovecot-"))
    server = mailservers.dovecot_start(root)
    yield server
    mailservers.dovecot_stop(server)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def channel(db, dovecot, smtp):
    """An e-mail channel on its own folder of the shared test mailbox."""
    return make_channel(kind="email", name="Почта", settings={
        "imap_host": dovecot.host, "imap_port": dovecot.port, "imap_ssl": False, "imap_user": dovecot.user,
        "imap_password": dovecot.password, "imap_folder": f"t{uuid.uuid4().hex[:10]}",
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False, "smtp_from": "sales@okno.test",
    })


def poll(channel: Channel) -> int:
    """One pass of the worker: fetch new mail, then process the stored events."""
    stored = mailbox_poll(Channel.objects.get(pk=channel.pk))
    inbound_drain()
    return stored


def test_new_mail_opens_a_card_conversation_message_and_lead(channel, dovecot):
    # given a customer's letter with HTML (and a script in it) and a price list attached
    html = '<p>Здравствуйте! <b>Сколько</b> стоит?</p><script>alert("x")</script><a href="javascript:alert(1)">x</a>'
    dovecot.deliver(channel.settings["imap_folder"], mail(
        html=html, text="Здравствуйте! Сколько стоит?", attachments=[("прайс.pdf", "application/pdf", PDF)]))
    # when the mailbox is polled
    assert poll(channel) == 1
    # then the raw message is kept, and a card, a conversation, a message and a lead exist
    event = InboundEvent.objects.get()
    assert event.dedup_key == "email:<q1@example.org>" and event.status == "done"
    assert b"Message-ID: <q1@example.org>" in bytes(event.body)
    contact = ContactEmail.objects.get(email="ivan@example.org").contact
    assert (contact.first_name, contact.last_name) == ("Иван", "Петров")
    conv = Conversation.objects.get()
    assert (conv.contact, conv.kind, conv.subject, conv.external_id) == (contact, "email", "Вопрос", "<q1@example.org>")
    message = Message.objects.get()
    assert message.direction == "in" and message.text == "Здравствуйте! Сколько стоит?"
    assert "<b>Сколько</b>" in message.html
    assert "script" not in message.html and "alert" not in message.html and "javascript" not in message.html
    [attachment] = message.meta["attachments"]
    assert attachment["name"] == "прайс.pdf" and attachment["size"] == len(PDF)
    assert attachment["content_type"] == "application/pdf" and attachment["path"].startswith("inbox/email/")
    with default_storage.open(attachment["path"]) as stored:
        assert stored.read() == PDF
    assert Lead.objects.filter(contact=contact).count() == 1
    # and the message is flagged seen on the server, the UID remembered
    imap = dovecot.connect()
    imap.select(channel.settings["imap_folder"])
    assert b"\\Seen" in imap.uid("FETCH", "1", "(FLAGS)")[1][0]
    imap.logout()
    assert Channel.objects.get(pk=channel.pk).settings["last_uid"] == 1


def test_html_only_mail_gets_text_from_its_html(channel, dovecot):
    dovecot.deliver(channel.settings["imap_folder"], mail(text=None, html="<p>Первая&nbsp;строка</p><p>Вторая</p>"))
    poll(channel)
    message = Message.objects.get()
    assert message.text == "Первая\xa0строка\nВторая"
    assert message.html == "<p>Первая&nbsp;строка</p><p>Вторая</p>"


def test_replies_join_one_thread_whichever_arrives_first(channel, dovecot):
    folder = channel.settings["imap_folder"]
    # given the customer's second letter arrives before the first one
    reply = mail(subject="Re: Вопрос", text="И ещё вопрос", message_id="<q2@example.org>",
                 headers={"In-Reply-To": "<q1@example.org>", "References": "<q1@example.org>"})
    dovecot.deliver(folder, reply)
    poll(channel)
    dovecot.deliver(folder, mail())
    poll(channel)
    # and a third one whose client kept only In-Reply-To to the second
    dovecot.deliver(folder, mail(subject="Re: Вопрос", text="Третье", message_id="<q3@example.org>",
                                 headers={"In-Reply-To": "<q2@example.org>"}))
    poll(channel)
    # then all three are one conversation with one lead
    conv = Conversation.objects.get()
    assert conv.external_id == "<q1@example.org>"
    assert sorted(conv.messages.values_list("external_id", flat=True)) == [
        "<q1@example.org>", "<q2@example.org>", "<q3@example.org>"]
    assert Lead.objects.count() == 1 and Contact.objects.count() == 1


def test_a_message_fetched_again_after_a_uidvalidity_change_is_stored_once(channel, dovecot):
    folder = channel.settings["imap_folder"]
    dovecot.deliver(folder, mail())
    assert poll(channel) == 1
    assert poll(channel) == 0  # nothing new above the last UID
    uidvalidity = Channel.objects.get(pk=channel.pk).settings["uidvalidity"]
    # when the folder is recreated (new UIDVALIDITY) and holds the same message again
    dovecot.recreate(folder)
    time.sleep(1)  # another Date header: the Message-ID alone makes it the same message
    dovecot.deliver(folder, mail())
    # then it is fetched again but stored and recorded once
    assert poll(channel) == 0
    assert Channel.objects.get(pk=channel.pk).settings["uidvalidity"] != uidvalidity
    assert InboundEvent.objects.count() == 1 and Message.objects.count() == 1


def test_a_message_without_message_id_is_keyed_by_its_content(channel, dovecot):
    folder, raw = channel.settings["imap_folder"], mail(message_id=None, subject="Без идентификатора")
    dovecot.deliver(folder, raw)
    poll(channel)
    dovecot.recreate(folder)
    dovecot.deliver(folder, raw)
    poll(channel)
    message = Message.objects.get()
    assert message.external_id.startswith("sha256:")
    assert message.conversation.external_id == message.external_id
    assert InboundEvent.objects.get().dedup_key == "email:" + message.external_id


def test_automatic_mail_opens_no_lead_and_foreign_bounces_are_ignored(channel, dovecot):
    # given an out-of-office answer, a newsletter and a bounce of mail Okno never sent
    bounce = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: sales@okno.test\r\n"
              b"Subject: Undelivered Mail\r\nMessage-ID: <b1@mx.example.org>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
              b"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
              b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <someone@else.org>\r\n"
              b"Subject: hi\r\n\r\n--B--\r\n")
    dovecot.deliver(channel.settings["imap_folder"],
                    mail(sender="Olga <olga@example.org>", message_id="<ooo@example.org>",
                         headers={"Auto-Submitted": "auto-replied"}, text="I am on leave"),
                    mail(sender="News <news@shop.example>", message_id="<n1@shop.example>",
                         headers={"Precedence": "bulk"}, text="Sale!"),
                    bounce)
    # when polled
    assert poll(channel) == 3
    # then the letters are recorded, but no lead is opened, and the bounce made no card
    assert Conversation.objects.count() == 2 and Lead.objects.count() == 0
    assert ContactEmail.objects.get(email="olga@example.org").contact.conversations.get().messages.get().text \
        == "I am on leave"
    assert not ContactEmail.objects.filter(email__icontains="mailer-daemon").exists()
    assert InboundEvent.objects.get(dedup_key="email:<b1@mx.example.org>").status == "ignored"


def test_reply_from_the_card_goes_out_over_smtp_and_the_answer_lands_in_the_thread(channel, dovecot, smtp,
                                                                                    admin_user):
    folder = channel.settings["imap_folder"]
    dovecot.deliver(folder, mail(headers={"References": "<q0@example.org>"}, message_id="<q1@example.org>"))
    poll(channel)
    conv = Conversation.objects.get()
    # when a manager replies from the card and the worker sends it
    reply = conversation_reply(actor=admin_user, conversation=conv, text="Добрый день! Цена 100 ₽.")
    assert deliveries_drain() == 1
    # then the SMTP server got a threaded letter to the customer
    assert Delivery.objects.get().status == "sent"
    [sent] = smtp.messages
    assert sent["to"] == ["ivan@example.org"] and sent["from"] == "sales@okno.test"
    out = email.message_from_bytes(sent["data"], policy=email.policy.default)
    assert out["To"] == "ivan@example.org" and out["Subject"] == "Re: Вопрос"
    assert out["In-Reply-To"] == "<q1@example.org>"
    assert out["References"] == "<q0@example.org> <q1@example.org>"
    assert out.get_content().strip() == "Добрый день! Цена 100 ₽."
    reply.refresh_from_db()
    assert reply.external_id == out["Message-ID"] and out["Message-ID"].endswith("@okno.test>")
    # and the customer's answer to it joins the same conversation
    # (a Date header has whole seconds: the answer is dated a minute later, as a person's would be)
    dovecot.deliver(folder, mail(subject="Re: Вопрос", text="Беру!", message_id="<q3@example.org>",
                                 date=formatdate(time.time() + 60),
                                 headers={"In-Reply-To": out["Message-ID"], "References": out["References"] + " "
                                          + out["Message-ID"]}))
    poll(channel)
    assert Conversation.objects.count() == 1 and Lead.objects.count() == 1
    assert list(conv.messages.values_list("direction", "text")) == [
        ("in", "Здравствуйте!"), ("out", "Добрый день! Цена 100 ₽."), ("in", "Беру!")]


def test_a_bounce_of_our_reply_lands_in_its_thread_without_changing_the_card(channel, dovecot, admin_user):
    folder = channel.settings["imap_folder"]
    dovecot.deliver(folder, mail())
    poll(channel)
    conv = Conversation.objects.get()
    conversation_reply(actor=admin_user, conversation=conv, text="Ответ")
    deliveries_drain()
    ours = Message.objects.get(direction="out").external_id
    bounce = (b"From: MAILER-DAEMON@mx.example.org\r\nTo: sales@okno.test\r\nSubject: Undelivered\r\n"
              b"Message-ID: <b2@mx.example.org>\r\nContent-Type: multipart/report; boundary=\"B\"\r\n\r\n"
              b"--B\r\nContent-Type: text/plain\r\n\r\nMailbox full.\r\n--B\r\n"
              b"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: " + ours.encode() + b"\r\n"
              b"References: <q1@example.org>\r\n\r\n--B--\r\n")
    dovecot.deliver(folder, bounce)
    poll(channel)
    conv.refresh_from_db()
    assert conv.messages.count() == 3 and conv.messages.last().text == "Mailbox full."
    assert conv.contact.emails.get().email == "ivan@example.org" and Contact.objects.count() == 1


@pytest.mark.parametrize(("code", "status"), [(451, "pending"), (550, "failed")])
def test_smtp_refusals_are_retried_only_when_temporary(channel, dovecot, smtp, admin_user, code, status):
    dovecot.deliver(channel.settings["imap_folder"], mail())
    poll(channel)
    smtp.refuse = (code, "mailbox unavailable")
    conversation_reply(actor=admin_user, conversation=Conversation.objects.get(), text="Ответ")
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.status == status and str(code) in delivery.error


def test_an_unreachable_smtp_server_is_retried(channel, dovecot, admin_user):
    dovecot.deliver(channel.settings["imap_folder"], mail())
    poll(channel)
    Channel.objects.filter(pk=channel.pk).update(settings={**channel.settings, "smtp_port": free_port()})
    conversation_reply(actor=admin_user, conversation=Conversation.objects.get(), text="Ответ")
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and "SMTP connection" in delivery.error


def test_the_drain_polls_each_mailbox_once_per_interval_and_records_errors(channel, dovecot, settings):
    settings.OKNO_IMAP_POLL_SECONDS = 60
    broken = make_channel(kind="email", name="Сломанная", settings={
        "imap_host": "127.0.0.1", "imap_port": free_port(), "imap_ssl": False, "imap_user": "x", "imap_password": "y"})
    dovecot.deliver(channel.settings["imap_folder"], mail())
    # when the worker's drain runs twice in a row
    assert mailboxes_drain() == 1
    dovecot.deliver(channel.settings["imap_folder"], mail(message_id="<q9@example.org>"))
    assert mailboxes_drain() == 0  # not due again for a minute
    # then the broken mailbox's error is on its channel and nobody holds a lease
    state = Channel.objects.get(pk=broken.pk).settings
    assert "cannot connect" in state["poll_error"] and state["poll_lease_until"] == 0
    assert Channel.objects.get(pk=channel.pk).settings["poll_error"] == ""
    # when another worker holds the lease of a due mailbox, it is left alone
    Channel.objects.filter(pk=channel.pk).update(settings={
        **Channel.objects.get(pk=channel.pk).settings, "poll_due_at": 0, "poll_lease_until": 4e9})
    assert mailboxes_drain() == 0
    assert InboundEvent.objects.count() == 1


def test_a_legacy_charset_and_an_unknown_one_are_read(db):
    # given letters in windows-1251 and in a charset Python does not know
    channel = make_channel(kind="email", settings={"imap_user": "sales@okno.test"})
    cp1251 = (b"From: =?windows-1251?b?yOLg7Q==?= <ivan@example.org>\r\nSubject: =?windows-1251?b?z/Do4uXy?=\r\n"
              b"Message-ID: <c1@example.org>\r\nContent-Type: text/plain; charset=windows-1251\r\n"
              b"Content-Transfer-Encoding: 8bit\r\n\r\n") + "Добрый день".encode("cp1251")
    unknown = (b"From: ivan@example.org\r\nMessage-ID: <c2@example.org>\r\n"
               b"Content-Type: text/plain; charset=x-no-such\r\n\r\nhello")
    # when parsed
    [first] = EmailAdapter().parse(cp1251, "message/rfc822", channel)
    [second] = EmailAdapter().parse(unknown, "message/rfc822", channel)
    # then the text, subject and name are decoded
    assert (first.text, first.subject, first.sender.name) == ("Добрый день", "Привет", "Иван")
    assert second.text == "hello" and second.sender.emails == ["ivan@example.org"]


def test_a_letter_without_a_sender_is_rejected(channel, dovecot):
    dovecot.deliver(channel.settings["imap_folder"], b"Subject: nobody\r\nMessage-ID: <x1@example.org>\r\n\r\nhi")
    poll(channel)
    event = InboundEvent.objects.get()
    assert event.status == "rejected" and "From" in event.error
    assert not Conversation.objects.exists()
