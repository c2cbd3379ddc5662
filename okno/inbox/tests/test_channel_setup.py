"""Channel set-up through its pages: kinds by name, a form per kind (never a JSON textarea for
what has a field), secrets never shown back, editing a channel, and "Test connection" against
fakes at the network edge (a Bot API, an IMAP server, an SMTP server)."""

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from okno.core.models import Calendar
from okno.inbox.channel_forms import kind_label
from okno.inbox.models import Channel, InboundEvent
from okno.inbox.tests.factories import make_channel
from okno.inbox.tests.mailservers import free_port
from okno.inbox.tests.setup_servers import GOOD_TOKEN, FakeBotApi, FakeImap
from okno.people.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read the page's English (the site's default language is Russian)."""
    settings.LANGUAGE_CODE = "en"



def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bot_api(settings):
    fake = FakeBotApi().start()
    settings.OKNO_TELEGRAM_API_BASE = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def imap():
    fake = FakeImap().start()
    yield fake
    fake.stop()


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        good = (auth_data.login, auth_data.password) == (b"sales@okno.test", b"smtp-pass")
        return AuthResult(success=good, handled=False)  # handled=False: aiosmtpd answers 535 itself

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    yield controller
    controller.stop()


def test_the_new_channel_page_names_the_kinds_and_shows_a_kinds_fields(db, admin_user):
    client = logged_in(admin_user)
    # given the page in Russian
    admin_user.language = "ru"
    admin_user.save()
    page = client.get("/inbox/channels/new/").content.decode()
    with translation.override("ru"):
        telegram, email = kind_label("telegram"), kind_label("email")
    # then the kinds are named through the catalogue, not as slugs, and the web form's fields are labelled
    assert f'<option value="telegram">{telegram}</option>' in page and telegram != "telegram"
    assert f'<option value="email">{escape(email)}</option>' in page and email != "email"
    assert 'name="s-allowed_origins"' in page
    # when Telegram is chosen
    page = client.get("/inbox/channels/new/?kind=telegram").content.decode()
    # then its token is a password input and its switches are checkboxes; no JSON textarea is open
    assert re.search(r'<input type="password" name="s-bot_token"', page)
    assert 'name="s-fetch_files"' in page and 'name="s-allowed_origins"' not in page
    assert '<details id="advanced-settings">' in page
    # when e-mail is chosen, then its defaults are filled in: SSL on, the INBOX folder, mail marked read
    page = client.get("/inbox/channels/new/?kind=email").content.decode()
    assert re.search(r'<input type="checkbox" name="s-imap_ssl" [^>]*checked', page)
    assert re.search(r'<input type="checkbox" name="s-imap_mark_seen" [^>]*checked', page)
    assert re.search(r'name="s-imap_folder" value="INBOX"', page)
    assert not re.search(r'<input type="checkbox" name="s-smtp_ssl" [^>]*checked', page)


def test_a_telegram_channel_is_created_with_its_fields_and_a_missing_token_is_named(db, admin_user):
    client = logged_in(admin_user)
    # when the token is left out
    bad = client.post("/inbox/channels/new/", {"kind": "telegram", "name": "Бот", "s-fetch_files": "on"})
    # then the form stays, the token's field says why, and nothing is created
    assert bad.status_code == 200 and not Channel.objects.exists()
    assert re.search(r'data-setting="bot_token">.*?Required for this kind of channel', bad.content.decode(), re.S)
    # when it is given, with file downloads switched off
    r = client.post("/inbox/channels/new/", {"kind": "telegram", "name": "Бот", "s-bot_token": GOOD_TOKEN,
                                             "s-phones_from_text": "on", "route_subdepartments": "on"})
    channel = Channel.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/inbox/channels/{channel.pk}/"
    assert channel.settings == {"bot_token": GOOD_TOKEN, "phones_from_text": True, "fetch_files": False,
                                "route_subdepartments": True}
    # then its page names the kind and never shows the token
    page = client.get(r["Location"]).content.decode()
    assert "Telegram bot" in page and GOOD_TOKEN not in page
    assert channel.webhook_path in page and "Connect the bot" in page


def test_the_services_reasons_show_beside_the_field_they_are_about(db, admin_user):
    client = logged_in(admin_user)
    # when the advanced box holds a timetable with a wrong day
    r = client.post("/inbox/channels/new/", {"kind": "zadarma", "name": "АТС", "s-api_secret": "z-secret",
                                             "settings": '{"business_hours": {"mon": "9 to 6"}}'})
    # then the box says which key is wrong, and the box is open
    page = r.content.decode()
    assert r.status_code == 200 and not Channel.objects.exists()
    assert "settings.business_hours.mon" in page and '<details id="advanced-settings" open>' in page
    # when the mailbox's folder is named as the mail program shows it
    r = client.post("/inbox/channels/new/", {"kind": "email", "name": "Почта", "s-imap_host": "imap.example.ru",
                                             "s-imap_user": "a@b.ru", "s-imap_password": "p",
                                             "s-imap_folder": "Заявки"})
    assert r.status_code == 200 and "a folder&#x27;s IMAP name" in r.content.decode()
    # when the time zone is not one
    r = client.post("/inbox/channels/new/", {"kind": "zadarma", "name": "АТС", "s-api_secret": "z-secret",
                                             "s-timezone": "Moscow"})
    assert r.status_code == 200 and "Unknown time zone Moscow" in r.content.decode()
    assert not Channel.objects.exists()


def test_editing_keeps_secrets_left_blank_and_the_workers_state(db, admin_user):
    # given an e-mail channel the worker has polled
    calendar = Calendar.objects.create(name="Офис", hours={"mon": "09:00-18:00"})
    channel = make_channel(kind="email", name="Почта", settings={
        "imap_host": "imap.example.ru", "imap_user": "sales@okno.test", "imap_password": "old-pass",
        "smtp_password": "smtp-old", "last_uid": 41, "uidvalidity": 7, "api_url": "http://x"})
    client = logged_in(admin_user)
    page = client.get(f"/inbox/channels/{channel.pk}/edit/").content.decode()
    # then no password is in the page, and only what no field covers is in the JSON box
    assert "old-pass" not in page and "smtp-old" not in page and "last_uid" not in page
    assert "api_url" in page
    # when the host changes, passwords are left blank and the JSON box is emptied
    r = client.post(f"/inbox/channels/{channel.pk}/edit/", {
        "name": "Почта продаж", "s-imap_host": "imap.yandex.ru", "s-imap_user": "sales@okno.test",
        "s-imap_ssl": "on", "s-imap_folder": "INBOX", "s-calendar_id": "", "settings": "",
        "route_subdepartments": "on"})
    assert r.status_code == 302
    channel.refresh_from_db()
    # then the passwords and the poll state are kept, the host and name changed, api_url removed
    assert channel.name == "Почта продаж"
    assert channel.settings["imap_host"] == "imap.yandex.ru" and channel.settings["imap_password"] == "old-pass"
    assert channel.settings["smtp_password"] == "smtp-old"
    assert (channel.settings["last_uid"], channel.settings["uidvalidity"]) == (41, 7)
    assert "api_url" not in channel.settings and channel.settings["imap_mark_seen"] is False
    del calendar


def test_a_pbx_line_takes_its_calendar_and_callback_deadline_from_fields(db, admin_user):
    calendar = Calendar.objects.create(name="Офис", hours={"mon": "09:00-18:00"})
    client = logged_in(admin_user)
    r = client.post("/inbox/channels/new/", {"kind": "mango", "name": "Mango", "s-api_key": "k", "s-api_salt": "s",
                                             "s-callback_minutes": "15", "s-calendar_id": str(calendar.pk),
                                             "s-recording_store": "on"})
    assert r.status_code == 302
    settings_ = Channel.objects.get().settings
    assert (settings_["callback_minutes"], settings_["calendar_id"], settings_["recording_store"]) == (15, calendar.pk,
                                                                                                       True)
    page = client.get(r["Location"]).content.decode()
    assert "Mango Office" in page and "Офис" in page and "Integrations → API Connector" in page


def test_editing_and_testing_are_for_administrators_only(db, bot_api):
    channel = make_channel(kind="telegram", name="Бот", settings={"bot_token": GOOD_TOKEN})
    manager = logged_in(UserFactory())
    assert manager.get(f"/inbox/channels/{channel.pk}/edit/").status_code == 403
    assert manager.post(f"/inbox/channels/{channel.pk}/edit/", {"name": "x"}).status_code == 403
    assert manager.post(f"/inbox/channels/{channel.pk}/check/").status_code == 403
    assert manager.post(f"/inbox/channels/{channel.pk}/telegram-webhook/").status_code == 403
    assert Channel.objects.get().name == "Бот" and not bot_api.requests


def test_telegram_test_connection_names_the_bot_or_says_the_token_is_wrong(db, admin_user, bot_api):
    channel = make_channel(kind="telegram", name="Бот", settings={"bot_token": GOOD_TOKEN})
    client = logged_in(admin_user)
    # when the administrator presses Test connection (htmx)
    r = client.post(f"/inbox/channels/{channel.pk}/check/", HTTP_HX_REQUEST="true")
    # then the bot is named
    assert r.status_code == 200 and "OK: bot @okno_shop_bot (Магазин)" in r.content.decode()
    assert bot_api.requests[-1][0] == "getMe"
    # given a wrong token, then Telegram's refusal is said in words, without the token
    channel.settings = {"bot_token": "999:wrong-token-value"}
    channel.save()
    r = client.post(f"/inbox/channels/{channel.pk}/check/", follow=True)
    page = r.content.decode()
    assert "Telegram does not know this token (Unauthorized)" in page and "wrong-token-value" not in page


def test_telegram_unreachable_is_said_quickly(db, admin_user, settings):
    settings.OKNO_TELEGRAM_API_BASE = "http://127.0.0.1:9"  # discard port: refused
    channel = make_channel(kind="telegram", name="Бот", settings={"bot_token": GOOD_TOKEN})
    r = logged_in(admin_user).post(f"/inbox/channels/{channel.pk}/check/", HTTP_HX_REQUEST="true")
    assert "Telegram is not reachable from the server" in r.content.decode()
    assert GOOD_TOKEN not in r.content.decode()


def test_connect_the_bot_calls_set_webhook_with_the_channels_url_and_secret(db, admin_user, bot_api, settings):
    settings.SITE_URL = "https://crm.example.ru"
    channel = make_channel(kind="telegram", name="Бот", settings={"bot_token": GOOD_TOKEN})
    r = logged_in(admin_user).post(f"/inbox/channels/{channel.pk}/telegram-webhook/", follow=True)
    method, params = bot_api.requests[-1]
    assert method == "setWebhook" and params["url"] == "https://crm.example.ru" + channel.webhook_path
    assert params["secret_token"] == channel.secret
    assert "The bot is connected" in r.content.decode()


def _email_channel(imap, smtp, **overrides) -> Channel:
    return make_channel(kind="email", name="Почта", settings={
        "imap_host": "127.0.0.1", "imap_port": imap.port, "imap_ssl": False, "imap_user": "sales@okno.test",
        "imap_password": "imap-pass", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False,
        "smtp_user": "sales@okno.test", "smtp_password": "smtp-pass", **overrides})


def test_email_test_connection_logs_in_to_imap_and_smtp(db, admin_user, imap, smtp):
    channel = _email_channel(imap, smtp)
    r = logged_in(admin_user).post(f"/inbox/channels/{channel.pk}/check/", HTTP_HX_REQUEST="true")
    text = r.content.decode()
    assert "IMAP OK: INBOX holds 3 letters." in text and "SMTP OK: 127.0.0.1 accepted the login." in text
    assert "check-ok" in text
    # the check changed nothing: no poll state, no event
    assert Channel.objects.get().settings == channel.settings and not InboundEvent.objects.exists()


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"imap_password": "wrong"}, "IMAP: 127.0.0.1 refused the login: [AUTHENTICATIONFAILED] Authentication failed."),
    ({"imap_folder": "Leads"}, "IMAP: no folder Leads: Mailbox doesn&#x27;t exist"),
    ({"imap_folder": "Заявки"}, "IMAP: the folder name Заявки is not an IMAP name"),
    ({"smtp_password": "wrong"}, "SMTP: 127.0.0.1 refused the login: 535"),
    ({"imap_port": 9}, "IMAP: cannot connect to 127.0.0.1: connection refused"),
])
def test_email_test_connection_says_what_is_wrong(db, admin_user, imap, smtp, overrides, expected):
    channel = _email_channel(imap, smtp, **overrides)
    text = logged_in(admin_user).post(f"/inbox/channels/{channel.pk}/check/", HTTP_HX_REQUEST="true").content.decode()
    assert expected in text and "alert-error" in text
    assert "imap-pass" not in text and "smtp-pass" not in text


def test_kinds_are_named_in_russian_on_the_list_and_the_problems_page(db, admin_user):
    channel = make_channel(kind="jivo", name="Чат на сайте")
    InboundEvent.objects.create(channel=channel, body=b"{}", status="failed", error="boom")
    channel = make_channel(kind="email", name="Почта", settings={"imap_host": "x"})
    admin_user.language = "ru"
    admin_user.save()
    client = logged_in(admin_user)
    listing = client.get("/inbox/channels/").content.decode()
    problems = client.get("/inbox/problems/").content.decode()
    with translation.override("ru"):
        email = escape(kind_label("email"))
    assert "<td>Jivo</td>" in listing and f"<td>{email}</td>" in listing and "<td>email</td>" not in listing
    assert re.search(r'<div class="kind">Jivo', problems)
