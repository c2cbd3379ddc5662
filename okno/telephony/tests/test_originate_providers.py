# ruff: noqa: F811 - the fixtures imported from test_zadarma and test_telphin are test arguments
"""Click-to-call through Zadarma (its signed `request/callback`) and Telphin (OAuth2, then the
extension's `callback`), against local fake APIs; and the shared transport's redirect rule."""

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from okno.contacts.tests.factories import make_contact
from okno.inbox.adapters.base import SendFailed
from okno.people.tests.factories import UserFactory
from okno.telephony.click_to_call import call_requests_drain
from okno.telephony.models import CallRequest, PbxExtension
from okno.telephony.pbx_api import pbx_call
from okno.telephony.tests.fake_pbx import FakePbx, as_json
from okno.telephony.tests.test_telphin import sales, telphin  # noqa: F401
from okno.telephony.tests.test_zadarma import SECRET, zadarma  # noqa: F401

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "5a3e9c0b8f3d4b6c9e1f2a7d8c6b4e21"


def answer(name: str, status: int = 200):
    return as_json(status, json.loads((PAYLOADS / name).read_text()))


@pytest.fixture
def fake():
    server = FakePbx().start()
    yield server
    server.stop()


def manager_on(channel, code: str = "101"):
    manager = UserFactory(department=channel.department)
    PbxExtension.objects.create(channel=channel, code=code, user=manager)
    return manager


def test_zadarma_rings_the_extension_then_the_customer(zadarma, fake, api_as):
    # given a Zadarma channel with its API key, and a manager on extension 101
    zadarma.settings = {**zadarma.settings, "api_key": "user-key", "api_url": fake.url}
    zadarma.save()
    fake.serve("/v1/request/callback/", answer("zadarma/request_callback.json"))
    manager = manager_on(zadarma)
    contact = make_contact(first_name="Ольга", phones=["8 (916) 123-45-67"], responsible_id=manager.pk)
    # when the manager presses the card's number
    r = api_as(manager).post("/api/v1/calls", {"contact_id": contact.pk})
    assert r.status_code == 202 and r.json()["extension"] == "101"
    assert call_requests_drain() == 1
    # then the worker sent Zadarma's callback, from the extension to the number's digits, signed
    (seen,) = fake.requests
    assert (seen.method, seen.path, seen.query) == ("GET", "/v1/request/callback/", {
        "from": "101", "to": "79161234567", "format": "json"})
    query = "format=json&from=101&to=79161234567"
    signed = "/v1/request/callback/" + query + hashlib.md5(query.encode()).hexdigest()
    digest = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha1).hexdigest()
    assert seen.headers["authorization"] == f"user-key:{base64.b64encode(digest.encode()).decode()}"
    assert CallRequest.objects.get().status == "sent"


def test_zadarma_down_is_retried_and_its_refusal_kept(zadarma, fake, api_as):
    zadarma.settings = {**zadarma.settings, "api_key": "user-key", "api_url": fake.url}
    zadarma.save()
    fake.queue("/v1/request/callback/", as_json(502, {}), answer("zadarma/error.json"))
    request_id = api_as(manager_on(zadarma)).post("/api/v1/calls", {"number": "+7 916 765-43-21"}).json()["id"]
    call_requests_drain()
    request = CallRequest.objects.get(pk=request_id)
    assert request.status == "pending" and "Zadarma answered 502" in request.error
    CallRequest.objects.filter(pk=request_id).update(run_after=request.created_at)
    call_requests_drain()
    request.refresh_from_db()
    assert request.status == "failed" and "Wrong parameters!" in request.error


def test_zadarma_without_an_api_key_is_a_refusal_with_the_reason(zadarma, api_as):
    api_as(manager_on(zadarma)).post("/api/v1/calls", {"number": "+79161234567"})
    call_requests_drain()
    request = CallRequest.objects.get()
    assert request.status == "failed" and "api_key" in request.error


@pytest.fixture
def telphin_api(telphin, fake):
    telphin.settings = {**telphin.settings, "client_id": "app-1", "client_secret": "app-secret",
                        "api_url": fake.url, "extension_ids": {"101": 4521}, "extension_prefix": "13596"}
    telphin.save()
    fake.serve("/oauth/token", answer("telphin/oauth_token.json"))
    return fake


def test_telphin_rings_the_extension_then_the_customer(telphin, telphin_api, api_as):
    # given Telphin accepts the callback
    telphin_api.serve("/api/ver1.0/extension/4521/callback/", as_json(201, {"call_api_id": "3-1704092400"}))
    manager = manager_on(telphin)
    # when the manager calls a number
    api_as(manager).post("/api/v1/calls", {"number": "+7 916 123-45-67"})
    assert call_requests_drain() == 1
    # then the worker got a token with the client credentials and posted the extension's callback
    token, callback = telphin_api.requests
    assert token.form() == {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": "app-secret"}
    assert (callback.method, callback.path) == ("POST", "/api/ver1.0/extension/4521/callback/")
    assert callback.headers["authorization"] == f"Bearer {TOKEN}"
    assert callback.headers["content-type"] == "application/json"
    assert callback.json() == {"src_num": ["13596*101"], "dst_num": "79161234567"}
    assert CallRequest.objects.get().status == "sent"


def test_telphin_expired_token_is_renewed_on_the_next_try(telphin, telphin_api, api_as):
    telphin_api.queue("/api/ver1.0/extension/4521/callback/", as_json(401, {"error": "invalid_token"}))
    telphin_api.serve("/api/ver1.0/extension/4521/callback/", as_json(200, {}))
    request_id = api_as(manager_on(telphin)).post("/api/v1/calls", {"number": "+79161234567"}).json()["id"]
    call_requests_drain()
    request = CallRequest.objects.get(pk=request_id)
    assert request.status == "pending" and "401" in request.error
    CallRequest.objects.filter(pk=request_id).update(run_after=request.created_at)
    call_requests_drain()
    request.refresh_from_db()
    assert request.status == "sent"
    assert [r.path for r in telphin_api.requests].count("/oauth/token") == 2


def test_telphin_extension_without_an_api_id_is_a_refusal_with_the_reason(telphin, telphin_api, api_as):
    api_as(manager_on(telphin, code="102")).post("/api/v1/calls", {"number": "+79161234567"})
    call_requests_drain()
    request = CallRequest.objects.get()
    assert request.status == "failed" and "extension_ids" in request.error
    assert not telphin_api.to("/api/ver1.0/extension/")


def test_a_redirect_to_another_host_loses_the_authorization_header(fake):
    # given the API redirects to a second server (another host:port)
    other = FakePbx().start()
    try:
        other.serve("/file", as_json(200, {"ok": True}))
        fake.queue("/api/", (302, {"Location": f"{other.url}/file"}, b""))
        fake.queue("/same/", (302, {"Location": "{base}/api/next"}, b""))
        fake.serve("/api/next", as_json(200, {"ok": True}))
        # when a request with a bearer token follows it
        pbx_call(f"{fake.url}/api/x", vendor="Test", headers={"Authorization": "Bearer secret"})
        pbx_call(f"{fake.url}/same/x", vendor="Test", headers={"Authorization": "Bearer secret"})
        # then the token stays with the API's host
        assert "authorization" not in other.requests[0].headers
        assert fake.requests[-1].path == "/api/next" and fake.requests[-1].headers["authorization"] == "Bearer secret"
    finally:
        other.stop()


def test_unreachable_and_refusals_map_to_retry_or_not(fake):
    fake.serve("/busy", as_json(429, {}))
    fake.serve("/no", as_json(400, {"message": "bad number"}))
    with pytest.raises(SendFailed) as busy:
        pbx_call(f"{fake.url}/busy", vendor="Test")
    with pytest.raises(SendFailed) as refused:
        pbx_call(f"{fake.url}/no", vendor="Test")
    with pytest.raises(SendFailed) as down:
        pbx_call("http://127.0.0.1:9/", vendor="Test", timeout=2)
    assert (busy.value.retry, refused.value.retry, down.value.retry) == (True, False, True)
    assert "bad number" in str(refused.value) and "Test is unreachable" in str(down.value)
