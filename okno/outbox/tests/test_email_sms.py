"""E-mail and SMS through the outbox: once per key, on the card's timeline, providers' errors retried."""

import pytest
from django.core import mail
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.core.errors import FieldError
from okno.outbox.drain import MESSAGE_DELAYS, message_id_header, outbox_drain
from okno.outbox.models import DeliveryAttempt, OutboxMessage
from okno.outbox.services import outbox_email, outbox_sms
from okno.outbox.sms_status import sms_status_drain
from okno.outbox.tests.factories import make_provider
from okno.outbox.tests.servers import LocalServer, Recorder, smsc_answer, smsru_answer
from okno.timeline.models import Activity


def _due_now():
    OutboxMessage.objects.filter(status="pending").update(run_after=timezone.now())


def test_an_email_is_sent_once_per_key_and_lands_on_the_timeline(db):
    contact = make_contact()
    # given the same e-mail asked for twice (a robot run repeated)
    first = outbox_email(to="ivan@example.ru", subject="Ваш заказ", body="Принят", key="robot-7-deal-3",
                         contact_id=contact.pk, deal_id=3)
    again = outbox_email(to="ivan@example.ru", subject="Ваш заказ", body="Принят", key="robot-7-deal-3",
                         contact_id=contact.pk, deal_id=3)
    assert again.pk == first.pk
    # when the worker drains the outbox
    outbox_drain()
    # then one e-mail went out through EMAIL_BACKEND with a Message-ID made from the key
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ivan@example.ru"] and sent.subject == "Ваш заказ"
    assert sent.extra_headers["Message-ID"] == message_id_header("robot-7-deal-3")
    first.refresh_from_db()
    assert first.status == "sent" and first.sent_at is not None
    # and the card shows it
    activity = Activity.objects.get(contact=contact, kind=Activity.Kind.OUTBOX)
    assert "Ваш заказ" in activity.summary and activity.detail == first
    # a second drain sends nothing more
    outbox_drain()
    assert len(mail.outbox) == 1


def test_bad_input_names_the_field(db):
    with pytest.raises(FieldError) as e:
        outbox_email(to="not-an-address", subject="x", body="y", key="k1")
    assert e.value.by_field.keys() == {"to"}
    with pytest.raises(FieldError) as e:
        outbox_sms(to="12", text="hi", key="k2")
    assert e.value.by_field.keys() == {"to"}
    assert outbox_sms(to="8 (916) 123-45-67", text="hi", key="sms-trunk-8").payload["to"] == "+79161234567"
    with pytest.raises(FieldError) as e:
        outbox_sms(to="+79161234567", text="hi", key="a key with spaces")
    assert e.value.by_field.keys() == {"key"}


class _BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


def test_an_smtp_failure_is_retried_then_given_up(db, settings):
    settings.EMAIL_BACKEND = "okno.outbox.tests.test_email_sms._BrokenBackend"
    message = outbox_email(to="a@example.ru", subject="s", body="b", key="smtp-down")
    # when every try fails
    for _ in range(len(MESSAGE_DELAYS) + 1):
        _due_now()
        outbox_drain()
    # then it gave up after the last try, with the error kept and each try logged
    message.refresh_from_db()
    assert message.status == "gave_up" and "SMTP server down" in message.last_error
    assert DeliveryAttempt.objects.filter(message=message).count() == len(MESSAGE_DELAYS) + 1


def test_sms_ru_sends_and_keeps_the_delivery_status(db):
    recorder = Recorder(smsru_answer)
    contact = make_contact()
    with LocalServer(recorder) as server:
        make_provider("smsru", server.url, sender="SHOP")
        message = outbox_sms(to="+7 916 123-45-67", text="Заказ принят", key="sms-1", contact_id=contact.pk)
        outbox_drain()
        message.refresh_from_db()
        # then SMS.ru got the documented request and its id is kept
        send = recorder.requests[0]
        assert send["path"] == "/sms/send"
        assert send["query"] == {"api_id": "good-key", "to": "79161234567", "msg": "Заказ принят", "json": "1",
                                 "from": "SHOP"}
        assert message.status == "sent" and message.provider_message_id == "000000-10000001"
        assert message.delivery_status == "accepted"
        # when the status drain asks
        assert sms_status_drain() == 1
    message.refresh_from_db()
    assert message.delivery_status == "delivered"
    assert recorder.requests[1]["query"]["sms_id"] == "000000-10000001"
    assert Activity.objects.filter(contact=contact, kind=Activity.Kind.OUTBOX).count() == 1


def test_smsc_sends_and_keeps_the_delivery_status(db):
    recorder = Recorder(smsc_answer)
    with LocalServer(recorder) as server:
        make_provider("smsc", server.url)
        message = outbox_sms(to="+79161234567", text="Hello", key="sms-2")
        outbox_drain()
        message.refresh_from_db()
        assert recorder.requests[0]["path"] == "/sys/send.php"
        assert recorder.requests[0]["query"]["fmt"] == "3" and recorder.requests[0]["query"]["phones"] == "79161234567"
        assert message.status == "sent" and message.provider_message_id == "77"
        sms_status_drain()
    message.refresh_from_db()
    assert message.delivery_status == "delivered"


@pytest.mark.parametrize("kind", ["smsru", "smsc"])
def test_a_provider_error_is_a_logged_retried_failure_then_gave_up(db, kind):
    recorder = Recorder(smsru_answer if kind == "smsru" else smsc_answer)
    with LocalServer(recorder) as server:
        make_provider(kind, server.url, api_key="bad-key" if kind == "smsru" else "", password="bad")
        message = outbox_sms(to="+79161234567", text="Hello", key=f"sms-bad-{kind}")
        outbox_drain()
        message.refresh_from_db()
        # then the first failure is kept and retried
        assert message.status == "pending"
        assert ("api_id" in message.last_error) if kind == "smsru" else ("authorise" in message.last_error)
        for _ in range(len(MESSAGE_DELAYS)):
            _due_now()
            outbox_drain()
    message.refresh_from_db()
    assert message.status == "gave_up"
    assert DeliveryAttempt.objects.filter(message=message, ok=False).count() == len(MESSAGE_DELAYS) + 1


def test_an_sms_without_a_provider_waits_and_is_not_lost(db):
    message = outbox_sms(to="+79161234567", text="Hello", key="sms-no-provider")
    outbox_drain()
    message.refresh_from_db()
    assert message.status == "pending" and "no active SMS provider" in message.last_error
