"""E-mail through Django's SMTP backend (the site's existing path) to a real SMTP server (aiosmtpd on 127.0.0.1)."""

import email
import email.policy

import pytest
from django.utils import timezone

from okno.inbox.tests.mailservers import SmtpRecorder, free_port
from okno.outbox.drain import message_id_header, outbox_drain
from okno.outbox.models import OutboxMessage
from okno.outbox.services import outbox_email


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "shop@okno.test"
    yield recorder
    controller.stop()


def test_emails_go_out_over_smtp_with_their_message_id(db, smtp):
    for i in range(3):
        outbox_email(to=f"c{i}@example.ru", subject=f"Заказ {i}", body="Ваш заказ принят", key=f"smtp-{i}")
    outbox_drain()
    assert len(smtp.messages) == 3
    parsed = [email.message_from_bytes(m["data"], policy=email.policy.default) for m in smtp.messages]
    assert sorted(p["Message-ID"] for p in parsed) == sorted(message_id_header(f"smtp-{i}") for i in range(3))
    assert {p["Subject"] for p in parsed} == {"Заказ 0", "Заказ 1", "Заказ 2"}
    assert parsed[0].get_content().strip() == "Ваш заказ принят"
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_a_refusing_smtp_server_is_retried_and_nothing_is_lost(db, smtp):
    smtp.refuse = (451, "try again later")
    message = outbox_email(to="c@example.ru", subject="s", body="b", key="smtp-refused")
    outbox_drain()
    message.refresh_from_db()
    assert message.status == "pending" and "451" in message.last_error
    smtp.refuse = None
    OutboxMessage.objects.filter(pk=message.pk).update(run_after=timezone.now())
    outbox_drain()
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp.messages) == 1
