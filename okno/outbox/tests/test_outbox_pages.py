"""The outbox's admin pages: endpoints with their log, templates with a preview, SMS providers, problems."""

import pytest
from django.test import Client

from okno.contacts.tests.factories import make_contact
from okno.core import events
from okno.outbox.drain import outbox_drain
from okno.outbox.models import MessageTemplate, OutboxMessage, SmsProvider, WebhookEndpoint
from okno.outbox.services import outbox_email
from okno.outbox.tests.factories import make_endpoint
from okno.outbox.tests.servers import LocalServer, Recorder
from okno.people.tests.factories import UserFactory
from okno.timeline.models import Activity

ADMIN_PAGES = ["/outbox/webhooks/", "/outbox/webhooks/new/", "/outbox/templates/", "/outbox/templates/new/",
               "/outbox/sms/", "/outbox/problems/"]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_for_administrators_only(db, admin_user, path):
    assert logged_in(admin_user).get(path).status_code == 200
    assert logged_in(UserFactory()).get(path).status_code == 403


def test_create_an_endpoint_and_see_its_secret_and_log(db, admin_user):
    client = logged_in(admin_user)
    bad = client.post("/outbox/webhooks/new/", {"url": "http://10.1.2.3/hook", "events": ["deal.created"]})
    assert bad.status_code == 200 and not WebhookEndpoint.objects.exists()
    r = client.post("/outbox/webhooks/new/", {"url": "https://crm-hooks.example.com/in", "events": ["deal.created",
                                                                                                    "lead.created"]})
    endpoint = WebhookEndpoint.objects.get()
    assert r.status_code == 302 and endpoint.events == ["deal.created", "lead.created"]
    page = client.get(r["Location"]).content.decode()
    assert endpoint.secret in page and "https://crm-hooks.example.com/in" in page
    assert client.post(f"/outbox/webhooks/{endpoint.pk}/action/", {"action": "delete"}).status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_template_form_saves_and_previews(db, admin_user):
    client = logged_in(admin_user)
    preview = client.post("/outbox/templates/preview/", {"channel": "sms", "body": "Привет, {{ contact.first_name }}"})
    assert "Привет, Иван" in preview.content.decode()
    from okno.deals.tests.factories import DealFactory

    deal = DealFactory(title="Заказ 31", contact=make_contact(first_name="Пётр"))
    real = client.post("/outbox/templates/preview/", {"channel": "sms", "preview_deal_id": str(deal.pk),
                                                      "body": "{{ contact.first_name }}: {{ deal.title }}"})
    assert "Пётр: Заказ 31" in real.content.decode()
    broken = client.post("/outbox/templates/preview/", {"channel": "sms", "body": "{% for %}"})
    assert "preview-error" in broken.content.decode()
    bad = client.post("/outbox/templates/new/", {"name": "x", "channel": "sms", "body": "{% if %}"})
    assert bad.status_code == 200 and not MessageTemplate.objects.exists()
    r = client.post("/outbox/templates/new/", {"name": "Заказ принят", "channel": "email", "subject": "Заказ",
                                                "body": "{{ deal.title }}"})
    assert r.status_code == 302 and MessageTemplate.objects.get().name == "Заказ принят"


def test_sms_provider_form(db, admin_user):
    client = logged_in(admin_user)
    bad = client.post("/outbox/sms/", {"kind": "smsru", "name": "SMS.ru"})
    assert bad.status_code == 200 and not SmsProvider.objects.exists()
    r = client.post("/outbox/sms/", {"kind": "smsru", "name": "SMS.ru", "api_key": "k", "sender": "SHOP",
                                     "is_active": "on"})
    assert r.status_code == 302
    provider = SmsProvider.objects.get()
    assert provider.is_default  # the only one is the default
    # an SMSC provider's password is kept when the form leaves it empty, and never shown
    client.post(f"/outbox/sms/{provider.pk}/", {"kind": "smsc", "name": "SMSC", "login": "shop",
                                                "password": "s3cret-pass", "is_active": "on"})
    assert "s3cret-pass" not in client.get(f"/outbox/sms/{provider.pk}/").content.decode()
    r = client.post(f"/outbox/sms/{provider.pk}/", {"kind": "smsc", "name": "SMSC 2", "login": "shop",
                                                    "password": "", "is_active": "on"})
    provider.refresh_from_db()
    assert r.status_code == 302 and provider.password == "s3cret-pass" and provider.name == "SMSC 2"


def test_endpoint_page_shows_its_delivery_log(db, admin_user):
    recorder = Recorder()
    with LocalServer(recorder) as server:
        endpoint = make_endpoint(server.url + "/h")
        events.publish("deal.created", subject=None, data={"deal_id": 1})
        outbox_drain()
    page = logged_in(admin_user).get(f"/outbox/webhooks/{endpoint.pk}/").content.decode()
    assert OutboxMessage.objects.get().key in page and "deal.created" in page


def test_problems_page_lists_given_up_messages_and_sends_them_again(db, admin_user, settings):
    settings.EMAIL_BACKEND = "okno.outbox.tests.test_email_sms._BrokenBackend"
    message = outbox_email(to="a@example.ru", subject="s", body="b", key="will-give-up")
    OutboxMessage.objects.filter(pk=message.pk).update(status="gave_up", attempts=6, last_error="SMTP down")
    make_endpoint("http://127.0.0.1:9/x")
    client = logged_in(admin_user)
    page = client.get("/outbox/problems/").content.decode()
    assert "will-give-up" in page and "SMTP down" in page
    # when the administrator sends it again
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    r = client.post("/outbox/problems/retry/", {"only": message.pk})
    assert r.status_code == 302
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 0 and message.key == "will-give-up"
    outbox_drain()
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_sent_email_is_drawn_on_the_card(db, admin_user):
    contact = make_contact()
    outbox_email(to="ivan@example.ru", subject="Счёт", body="Во вложении", key="invoice-1", contact_id=contact.pk)
    outbox_drain()
    assert Activity.objects.filter(contact=contact, kind="outbox").exists()
    page = logged_in(admin_user).get(f"/contacts/{contact.pk}/").content.decode()
    assert "Счёт" in page and "Во вложении" in page


def test_the_problems_counter_counts_given_up_messages(db):
    from okno.outbox.navigation import problems_counter

    assert problems_counter(None) is None
    message = outbox_email(to="a@example.ru", subject="s", body="b", key="counted")
    OutboxMessage.objects.filter(pk=message.pk).update(status="gave_up")
    assert problems_counter(None).value == 1
