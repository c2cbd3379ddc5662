"""Test connection for PBX lines: Zadarma's and Telphin's APIs (a local fake PBX API) and an
Asterisk AMI login (a local AMI server); Mango has no such test."""

import pytest
from django.test import Client

from okno.inbox.tests.factories import make_channel
from okno.telephony.tests.ami_server import AmiReplayServer
from okno.telephony.tests.fake_pbx import FakePbx, as_json


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read the page's English (the site's default language is Russian)."""
    settings.LANGUAGE_CODE = "en"



def check(admin_user, channel) -> str:
    client = Client()
    client.force_login(admin_user)
    return client.post(f"/inbox/channels/{channel.pk}/check/", HTTP_HX_REQUEST="true").content.decode()


@pytest.fixture
def fake():
    server = FakePbx().start()
    yield server
    server.stop()


def test_zadarma_check_signs_a_balance_request(db, admin_user, fake):
    channel = make_channel(kind="zadarma", name="Zadarma", settings={
        "api_key": "user-key", "api_secret": "z-secret", "api_url": fake.url})
    fake.serve("/v1/info/balance/", as_json(200, {"status": "success", "balance": 1520.5, "currency": "RUB"}))
    assert "OK: Zadarma accepted the key; balance 1520.5 RUB." in check(admin_user, channel)
    (seen,) = fake.requests
    assert seen.path == "/v1/info/balance/" and seen.headers["authorization"].startswith("user-key:")
    # given Zadarma refuses the key, then its words are shown
    fake.serve("/v1/info/balance/", as_json(401, {"status": "error", "message": "Not authorized"}))
    text = check(admin_user, channel)
    assert "Zadarma answered 401" in text and "Not authorized" in text and "z-secret" not in text


def test_zadarma_check_asks_for_the_key_first(db, admin_user, fake):
    channel = make_channel(kind="zadarma", name="Zadarma", settings={"api_secret": "z", "api_url": fake.url})
    assert "Enter the API key and the API secret first." in check(admin_user, channel)
    assert not fake.requests


def test_telphin_check_gets_a_token(db, admin_user, fake):
    channel = make_channel(kind="telphin", name="Telphin", settings={
        "client_id": "app", "client_secret": "t-secret", "api_url": fake.url})
    fake.serve("/oauth/token", as_json(200, {"access_token": "tok", "expires_in": 3600}))
    assert "OK: Telphin accepted the application." in check(admin_user, channel)
    fake.serve("/oauth/token", as_json(401, {"error": "invalid_client"}))
    assert "Telphin answered 401" in check(admin_user, channel)


def test_asterisk_check_logs_in_and_off(db, admin_user):
    with AmiReplayServer() as ami:
        channel = make_channel(kind="asterisk", name="Asterisk", settings=ami.settings())
        assert f"OK: Asterisk at 127.0.0.1:{ami.port} accepted the login." in check(admin_user, channel)
        channel.settings = ami.settings(secret="wrong")
        channel.save()
        assert "Asterisk refused the login: Authentication failed" in check(admin_user, channel)
        assert ami.logins == [("okno", True), ("okno", False)]


def test_mango_has_no_test_button(db, admin_user):
    channel = make_channel(kind="mango", name="Mango", settings={"api_key": "k", "api_salt": "s"})
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/inbox/channels/{channel.pk}/").content.decode()
    assert "Mango Office" in page and 'id="test-connection"' not in page
    assert "This kind of channel has no connection test." in check(admin_user, channel)
