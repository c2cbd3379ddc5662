# ruff: noqa: F811 - the fixtures imported from test_zadarma and test_telphin are test arguments
"""Recordings from Zadarma (its signed API gives a link, fetched 40 s after the notification, or
played through our view when the channel keeps recordings at the PBX) and from Telphin (OAuth2),
against local fake APIs."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from okno.contacts.models import Contact
from okno.inbox.drain import inbound_drain
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import Call, CallRecording, PbxExtension
from okno.telephony.recordings import recordings_drain
from okno.telephony.tests import test_telphin
from okno.telephony.tests.fake_pbx import MP3, WAV, FakePbx, as_json, audio
from okno.telephony.tests.test_telphin import managers, sales, telphin  # noqa: F401
from okno.telephony.tests.test_zadarma import SECRET, notify, zadarma  # noqa: F401

PAYLOADS = Path(__file__).parent / "payloads"
API_KEY = "zadarma-user-key"
CALLER = {"caller_id": "+79001234567", "called_did": "+74951234567"}


def answer(name: str, fake: FakePbx, status: int = 200):
    return as_json(status, json.loads((PAYLOADS / name).read_text().replace("{base}", fake.url)))


@pytest.fixture
def fake(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    server = FakePbx().start()
    yield server
    server.stop()


@pytest.fixture
def zadarma_api(zadarma, fake):
    zadarma.settings = {**zadarma.settings, "api_key": API_KEY, "api_url": fake.url}
    zadarma.save()
    return fake


def time_passes() -> None:
    CallRecording.objects.update(run_after=timezone.now() - timedelta(seconds=1))


def recorded_zadarma_call(client, zadarma) -> tuple[Call, User]:
    """An answered call on 101 whose end says it was recorded, then NOTIFY_RECORD (the documented
    fields); the card is given to 101's manager. Returns the call and the manager."""
    manager = UserFactory(department=zadarma.department)
    PbxExtension.objects.create(channel=zadarma, code="101", user=manager)
    notify(client, zadarma, "NOTIFY_START", **CALLER)
    notify(client, zadarma, "NOTIFY_ANSWER", internal="101", caller_id=CALLER["caller_id"], destination="101")
    notify(client, zadarma, "NOTIFY_END", internal="101", duration="65", disposition="answered", status_code="16",
           is_recorded="1", call_id_with_rec="1704092400.123", **CALLER)
    record = json.loads((PAYLOADS / "zadarma/notify_record.json").read_text())
    notify(client, zadarma, record.pop("event"), **record)
    inbound_drain()
    call = Call.objects.get()
    Contact.objects.filter(pk=call.contact_id).update(responsible=manager, department=manager.department)
    return call, manager


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_zadarma_recording_is_asked_for_40_seconds_later_through_the_signed_api(zadarma, zadarma_api, client,
                                                                                tmp_path):
    # given Zadarma's API gives a link, and the link a file it calls application/octet-stream
    zadarma_api.serve("/v1/pbx/record/request/", answer("zadarma/pbx_record_request.json", zadarma_api))
    zadarma_api.serve("/files/", audio(WAV, "application/octet-stream"))
    # when the end (is_recorded=1) and NOTIFY_RECORD are processed
    call, manager = recorded_zadarma_call(client, zadarma)
    # then one fetch is queued for the call's recording, due 40 s on, as Zadarma advises
    recording = CallRecording.objects.get()
    assert (recording.call, recording.recording_id, recording.status) == (call, "1704092400.123", "pending")
    assert timedelta(seconds=30) < recording.run_after - timezone.now() <= timedelta(seconds=40)
    assert recordings_drain() == 0
    # when the 40 s are over
    time_passes()
    assert recordings_drain() == 1
    # then the worker asked the API, signed as the vendor's client signs
    ask, download = zadarma_api.requests
    query = "call_id=1704092400.123&format=json&lifetime=180"  # sorted by name, format=json added
    assert (ask.method, ask.path, ask.query) == ("GET", "/v1/pbx/record/request/", {
        "call_id": "1704092400.123", "format": "json", "lifetime": "180"})
    signed = "/v1/pbx/record/request/" + query + hashlib.md5(query.encode()).hexdigest()
    digest = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha1).hexdigest()
    assert ask.headers["authorization"] == f"{API_KEY}:{base64.b64encode(digest.encode()).decode()}"
    # and fetched the link it gave; the bytes say WAV, whatever the header said
    assert (download.path, "authorization" in download.headers) == ("/files/1704092400.123.mp3", False)
    recording.refresh_from_db()
    assert (recording.status, recording.content_type) == ("stored", "audio/wav")
    assert (tmp_path / recording.path).read_bytes() == WAV
    r = logged_in(manager).get(f"/telephony/calls/{call.pk}/recording")
    assert r.status_code == 200 and r["Content-Type"] == "audio/wav" and b"".join(r.streaming_content) == WAV


def test_zadarma_refusing_a_recording_not_ready_yet_is_retried(zadarma, zadarma_api, client):
    zadarma_api.queue("/v1/pbx/record/request/", answer("zadarma/error.json", zadarma_api))
    zadarma_api.serve("/v1/pbx/record/request/", answer("zadarma/pbx_record_request.json", zadarma_api))
    zadarma_api.serve("/files/", audio(MP3))
    recorded_zadarma_call(client, zadarma)
    time_passes()
    recordings_drain()
    recording = CallRecording.objects.get()
    assert recording.status == "pending" and "Wrong parameters!" in recording.error
    time_passes()
    recordings_drain()
    recording.refresh_from_db()
    assert recording.status == "stored"


def test_zadarma_channel_that_keeps_recordings_at_the_pbx_plays_them_through_a_fresh_link(
        zadarma, zadarma_api, client, api_as):
    # given the channel stores no recordings
    zadarma.settings = {**zadarma.settings, "recording_store": False}
    zadarma.save()
    zadarma_api.serve("/v1/pbx/record/request/", answer("zadarma/pbx_record_request.json", zadarma_api))
    call, manager = recorded_zadarma_call(client, zadarma)
    # then nothing is fetched, yet the call has a recording to play
    recording = CallRecording.objects.get()
    assert recording.status == "linked"
    time_passes()
    assert recordings_drain() == 0 and not zadarma_api.requests
    url = f"/telephony/calls/{call.pk}/recording"
    assert api_as(manager).get(f"/api/v1/calls/{call.pk}").json()["recording_url"] == url
    # when the manager plays it, our view asks Zadarma for a short-lived link and redirects there
    r = logged_in(manager).get(url)
    assert r.status_code == 302 and r["Location"] == f"{zadarma_api.url}/files/1704092400.123.mp3"
    assert (r["Cache-Control"], r["Referrer-Policy"]) == ("no-store", "no-referrer")
    assert zadarma_api.requests[0].query["call_id"] == "1704092400.123"
    # and someone who may not see the card gets no link made
    stranger = UserFactory(department=DepartmentFactory(name="Склад"))
    assert logged_in(stranger).get(url).status_code == 404 and len(zadarma_api.requests) == 1


@pytest.fixture
def telphin_api(telphin, fake):
    telphin.settings = {**telphin.settings, "client_id": "app-1", "client_secret": "app-secret", "api_url": fake.url}
    telphin.save()
    fake.serve("/oauth/token", answer("telphin/oauth_token.json", fake))
    return fake


def test_telphin_recording_is_fetched_with_the_applications_token(telphin, telphin_api, managers, client):
    # given Telphin serves the recording to a bearer of the application's token, and fails once
    telphin_api.queue("/api/ver1.0/client/@me/record/", as_json(503, {}))
    telphin_api.serve("/api/ver1.0/client/@me/record/", audio(MP3))
    # when the transferred call's hangup names its recording (RecID)
    for data in test_telphin.answered_with_transfer():
        test_telphin.post(client, telphin, data)
    inbound_drain()
    recording = CallRecording.objects.get()
    assert (recording.recording_id, recording.status) == ("rec-777-1", "pending")
    time_passes()
    recordings_drain()
    time_passes()
    recordings_drain()
    # then the token was asked for once with the client credentials, and used for both tries
    token, first, second = telphin_api.requests
    assert (token.method, token.path) == ("POST", "/oauth/token")
    assert token.form() == {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": "app-secret"}
    assert first.path == second.path == "/api/ver1.0/client/@me/record/rec-777-1"
    assert second.headers["authorization"] == "Bearer 5a3e9c0b8f3d4b6c9e1f2a7d8c6b4e21"
    recording.refresh_from_db()
    assert (recording.status, recording.content_type) == ("stored", "audio/mpeg")


def test_telphin_token_refused_is_dropped_and_the_next_try_gets_a_new_one(telphin, telphin_api, managers, client):
    telphin_api.queue("/api/ver1.0/client/@me/record/", as_json(401, {"error": "invalid_token"}))
    telphin_api.serve("/api/ver1.0/client/@me/record/", audio(MP3))
    for data in test_telphin.answered_with_transfer():
        test_telphin.post(client, telphin, data)
    inbound_drain()
    time_passes()
    recordings_drain()
    recording = CallRecording.objects.get()
    assert recording.status == "pending" and "401" in recording.error
    time_passes()
    recordings_drain()
    assert [r.path for r in telphin_api.requests].count("/oauth/token") == 2
    recording.refresh_from_db()
    assert recording.status == "stored"
