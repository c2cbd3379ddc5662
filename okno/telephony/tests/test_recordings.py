# ruff: noqa: F811 - the fixtures imported from test_mango are, as pytest wants, test arguments
"""Call recordings: a PBX event names one, the worker fetches it from the PBX (a local fake Mango
API here) with retries, keeps it in storage, and only users who may see the card can play it."""

import hashlib
import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.test import Client
from django.utils import timezone

from okno.contacts.models import Contact
from okno.inbox.drain import inbound_drain
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.models import Call, CallRecording, PbxExtension
from okno.telephony.recordings import MAX_ATTEMPTS, MAX_CLAIMS, recordings_drain
from okno.telephony.tests.fake_pbx import MP3, FakePbx, as_json, audio
from okno.telephony.tests.test_mango import KEY, SALT, ivr_then_answered, mango, post, sales  # noqa: F401

PAYLOADS = Path(__file__).parent / "payloads"
RECORDING_ID = "MToxMDE2NjQ6MzA4NDY5NTA2OjA="
LINK = "/vpbx/queries/recording/link/"


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


@pytest.fixture
def pbx(mango, settings, tmp_path):
    """Mango's API on a local port, and storage in a temporary directory."""
    settings.MEDIA_ROOT = tmp_path
    fake = FakePbx().start()
    mango.settings = {**mango.settings, "api_url": fake.url + "/vpbx/"}
    mango.save()
    yield fake
    fake.stop()


@pytest.fixture
def manager(mango, sales):
    manager = UserFactory(department=sales)
    PbxExtension.objects.create(channel=mango, code="101", user=manager)
    return manager


def recorded_call(client, mango, manager) -> Call:
    """An answered call to 101 whose recording Mango reports Completed, processed by the worker;
    its card is the manager's."""
    for event in ivr_then_answered():
        post(client, mango, "events/call", event)
    post(client, mango, "events/recording", payload("mango/events_recording_completed.json"))
    inbound_drain()
    call = Call.objects.get()
    Contact.objects.filter(pk=call.contact_id).update(responsible=manager, department=manager.department)
    return call


def time_passes() -> None:
    """The retry's wait is over (moving the row's clock rather than the test's)."""
    CallRecording.objects.update(run_after=timezone.now() - timedelta(seconds=1))


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def play(client: Client, call: Call):
    return client.get(f"/telephony/calls/{call.pk}/recording")


def test_a_completed_recording_is_fetched_stored_and_played_to_who_may_see_the_card(
        mango, manager, pbx, client, api_as, tmp_path):
    # given Mango holds the recording behind its signed link
    pbx.serve(LINK, audio(MP3))
    # when the call and its recording event are processed
    call = recorded_call(client, mango, manager)
    # then the fetch is queued, due now (Mango says Completed once the file is ready)
    recording = CallRecording.objects.get(call=call)
    assert (recording.recording_id, recording.status, call.recording_id) == (RECORDING_ID, "pending", RECORDING_ID)
    assert recording.run_after <= timezone.now()
    # and until it is fetched there is nothing to play
    assert api_as(manager).get(f"/api/v1/calls/{call.pk}").json()["recording_url"] == ""
    assert play(logged_in(manager), call).status_code == 404
    # when the worker drains recordings
    assert recordings_drain() == 1
    # then it asked for the link PROTOCOLS.md documents, signed sha256(key + timestamp + id + salt)
    (seen,) = pbx.requests
    rid, action, key, expires, sign = seen.path[len(LINK):].split("/")
    assert (seen.method, unquote(rid), action, key) == ("GET", RECORDING_ID, "download", KEY)
    assert sign == hashlib.sha256((KEY + expires + RECORDING_ID + SALT).encode()).hexdigest()
    assert int(expires) > time.time()  # the link's expiry lies ahead
    # and keeps the file in storage
    recording.refresh_from_db()
    assert (recording.status, recording.content_type, recording.size_bytes, recording.error) == (
        "stored", "audio/mpeg", len(MP3), "")
    assert recording.path.startswith(f"telephony/recordings/{mango.pk}/{call.pk}-") and recording.path.endswith(".mp3")
    assert (tmp_path / recording.path).read_bytes() == MP3
    # and the API names our URL, which plays it to the card's manager
    url = f"/telephony/calls/{call.pk}/recording"
    assert api_as(manager).get(f"/api/v1/calls/{call.pk}").json()["recording_url"] == url
    r = play(logged_in(manager), call)
    assert r.status_code == 200 and b"".join(r.streaming_content) == MP3
    assert (r["Content-Type"], r["X-Content-Type-Options"], r["Cache-Control"]) == ("audio/mpeg", "nosniff", "private")
    assert r["Content-Disposition"] == f'inline; filename="call-{call.pk}.mp3"'
    # but not to a manager of another department, nor without a login
    stranger = UserFactory(department=DepartmentFactory(name="Склад"))
    assert play(logged_in(stranger), call).status_code == 404
    assert api_as(stranger).get(f"/api/v1/calls/{call.pk}").status_code == 404
    assert play(Client(), call).status_code == 302  # to the login page
    # and a second drain fetches nothing twice
    assert recordings_drain() == 0 and len(pbx.requests) == 1


def test_a_pbx_error_is_retried_with_back_off(mango, manager, pbx, client):
    # given Mango fails once with a 503, then serves the file
    pbx.queue(LINK, as_json(503, {"result": 5008}))
    pbx.serve(LINK, audio(MP3))
    call = recorded_call(client, mango, manager)
    # when the worker tries
    recordings_drain()
    # then the row waits for its next try, a minute later, with the reason
    recording = CallRecording.objects.get(call=call)
    assert (recording.status, recording.attempts) == ("pending", 1)
    assert "Mango answered 503" in recording.error
    assert timedelta(seconds=55) < recording.run_after - timezone.now() <= timedelta(minutes=1)
    assert recordings_drain() == 0  # not due yet
    # when the wait is over, the next try stores it
    time_passes()
    assert recordings_drain() == 1
    recording.refresh_from_db()
    assert (recording.status, recording.attempts, recording.error) == ("stored", 2, "")


def test_after_the_last_try_the_error_is_kept_and_nothing_is_served(mango, manager, pbx, client, api_as):
    # given Mango answers an error in JSON with a 200 once, then keeps failing with 500
    pbx.queue(LINK, as_json(200, {"result": 4001}))
    pbx.serve(LINK, as_json(500, {}))
    call = recorded_call(client, mango, manager)
    recordings_drain()
    # then a 200 that is not audio is a failed try, with Mango's words
    recording = CallRecording.objects.get(call=call)
    assert recording.status == "pending" and "not audio" in recording.error and "4001" in recording.error
    # when every try fails
    for _ in range(MAX_ATTEMPTS - 1):
        time_passes()
        assert recordings_drain() == 1
    # then the row gives up after MAX_ATTEMPTS with the last error kept
    recording.refresh_from_db()
    assert (recording.status, recording.attempts) == ("failed", MAX_ATTEMPTS)
    assert "Mango answered 500" in recording.error
    time_passes()
    assert recordings_drain() == 0 and len(pbx.requests) == MAX_ATTEMPTS
    assert api_as(manager).get(f"/api/v1/calls/{call.pk}").json()["recording_url"] == ""
    assert play(logged_in(manager), call).status_code == 404


def test_a_refusal_gives_up_at_once(mango, manager, pbx, client):
    pbx.serve(LINK, as_json(403, {"result": 3101}))
    call = recorded_call(client, mango, manager)
    recordings_drain()
    recording = CallRecording.objects.get(call=call)
    assert (recording.status, recording.attempts) == ("failed", 1) and "Mango answered 403" in recording.error


def test_the_signed_post_with_its_redirect_to_the_file_store(mango, manager, pbx, client):
    # given the channel fetches through queries/recording/post, which redirects to a one-time link
    mango.settings = {**mango.settings, "recording_via": "post"}
    mango.save()
    pbx.queue("/vpbx/queries/recording/post", (302, {"Location": "{base}/files/one-time.mp3"}, b""))
    pbx.serve("/files/", audio(MP3, "audio/mp3"))
    call = recorded_call(client, mango, manager)
    # when the worker fetches it
    recordings_drain()
    # then the form was signed like every Mango command, and the redirect was followed
    command, download = pbx.requests
    form = command.form()
    assert command.method == "POST" and json.loads(form["json"]) == {"recording_id": RECORDING_ID,
                                                                    "action": "download"}
    assert form["sign"] == hashlib.sha256((KEY + form["json"] + SALT).encode()).hexdigest()
    assert (download.method, download.path) == ("GET", "/files/one-time.mp3")
    recording = CallRecording.objects.get(call=call)
    assert (recording.status, recording.content_type) == ("stored", "audio/mpeg")


def test_the_cards_timeline_shows_an_audio_player_once_stored(mango, manager, pbx, client):
    pbx.serve(LINK, audio(MP3))
    call = recorded_call(client, mango, manager)
    card = logged_in(manager)
    player = f'<audio class="call-recording" controls preload="none" src="/telephony/calls/{call.pk}/recording"'
    assert player not in card.get(f"/contacts/{call.contact_id}/").content.decode()
    recordings_drain()
    page = card.get(f"/contacts/{call.contact_id}/").content.decode()
    assert page.count("<audio") == 1 and player in page


def test_a_fetch_that_keeps_crashing_is_given_up(mango, manager, pbx, client):
    call = recorded_call(client, mango, manager)
    CallRecording.objects.filter(call=call).update(attempts=MAX_CLAIMS)
    assert recordings_drain() == 1
    recording = CallRecording.objects.get(call=call)
    assert recording.status == "failed" and "kept crashing" in recording.error and not pbx.requests
