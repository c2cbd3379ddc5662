# ruff: noqa: F811 - the fixtures imported from test_telegram are, as pytest wants, test arguments
"""A Telegram document's name is the sender's text, never a path: files are stored under a name we
make, the sender's name is only shown; a download that fails is recorded with its error and
retried, and one given up can be retried by a person from the card (the fake Bot API is
test_telegram's: the network is replaced at its edge only)."""

import re
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from okno.inbox.drain import inbound_drain
from okno.inbox.models import FileFetch, Message
from okno.inbox.telegram_files import MAX_ATTEMPTS, telegram_files_drain
from okno.inbox.tests.test_telegram import BOT_TOKEN, bot_api, channel, post_update  # noqa: F401
from okno.people.tests.factories import DepartmentFactory, UserFactory

STORED = r"inbox/telegram/{pk}/[0-9a-f]{{32}}{ext}"


@pytest.fixture
def manager_client(channel):
    """A manager of the bot's department, given the customer's lead: may open the card."""
    sales = DepartmentFactory()
    channel.department = sales
    channel.save()
    client = Client()
    client.force_login(UserFactory(department=sales))
    return client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _record(client, channel, name: str, capture) -> Message:
    """The update arrives, the worker records it, and the follow-up task tries its file once."""
    post_update(client, channel, name)
    with capture(execute=True):
        inbound_drain()
    return Message.objects.filter(conversation__channel=channel).latest("sent_at")


def _card(client, message: Message) -> str:
    r = client.get(f"/contacts/{message.conversation.contact_id}/")
    assert r.status_code == 200
    return r.content.decode()


def _time_passes() -> None:
    FileFetch.objects.update(run_after=timezone.now() - timedelta(seconds=1))


def test_a_path_as_file_name_is_stored_under_a_generated_name_inside_the_media_root(
        channel, client, bot_api, manager_client, media, tmp_path, django_capture_on_commit_callbacks):
    # given Telegram holds the bytes of a document its sender named "../../../../tmp/x"
    bot_api.files["evil.bin"] = b"<script>alert(1)</script>"
    # when it arrives and its file is fetched
    message = _record(client, channel, "document_traversal", django_capture_on_commit_callbacks)
    # then it is stored once, under a uuid in the channel's folder, without the sender's name or an extension
    item = message.meta["files"][0]
    assert item["stored"] == item["stored"].strip() and "fetch_error" not in item
    assert re.fullmatch(STORED.format(pk=channel.pk, ext=""), item["stored"])
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [media / item["stored"]] and files[0].read_bytes() == b"<script>alert(1)</script>"
    assert not FileFetch.objects.exists()
    # and the sender's name is kept as they sent it, shown as text only (its last part)
    assert item["file_name"] == "../../../../tmp/x" and message.text == "[документ: x]"
    card = _card(manager_client, message)
    assert f'href="/inbox/messages/{message.pk}/files/0/" download>x</a>' in card
    # and the download is an attachment named "x", never run as our page
    r = manager_client.get(f"/inbox/messages/{message.pk}/files/0/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"<script>alert(1)</script>"
    assert r["Content-Disposition"] == "attachment; filename=\"x\"; filename*=UTF-8''x"
    assert r["X-Content-Type-Options"] == "nosniff" and "sandbox" in r["Content-Security-Policy"]


def test_a_windows_path_with_line_breaks_and_a_direction_override_is_shown_clean(
        channel, client, bot_api, manager_client, media, django_capture_on_commit_callbacks):
    # given a document named "C:\Users\olga\счёт<CR><LF>№ 5<RLO>gpj.PDF" (which reads "...FDP.jpg")
    bot_api.files["odd.bin"] = b"%PDF-1.4 "
    message = _record(client, channel, "document_odd_name", django_capture_on_commit_callbacks)
    # then it is stored under a generated name keeping only its whitelisted extension, lower-cased
    stored = message.meta["files"][0]["stored"]
    assert re.fullmatch(STORED.format(pk=channel.pk, ext=r"\.pdf"), stored)
    # and shown and served as "счёт № 5gpj.PDF": no folders, no line break, no override
    card = _card(manager_client, message)
    assert message.text == "[документ: счёт № 5gpj.PDF]"
    assert "download>счёт № 5gpj.PDF</a>" in card and "\u202e" not in card
    r = manager_client.get(f"/inbox/messages/{message.pk}/files/0/")
    assert r["Content-Disposition"] == (
        f"attachment; filename=\"____ _ 5gpj.PDF\"; filename*=UTF-8''{quote('счёт № 5gpj.PDF', safe='')}")


class SlowFiles(dict):
    """The Bot API's file server, slow for the first `slow` downloads (a timeout at the network's edge)."""

    def __init__(self, *args, slow: int = 1, seconds: float = 1.5):
        super().__init__(*args)
        self.slow, self.seconds = slow, seconds

    def get(self, key, default=None):
        if self.slow > 0:
            self.slow -= 1
            time.sleep(self.seconds)
        return super().get(key, default)


def test_a_download_that_times_out_is_recorded_with_its_error_and_retried_until_it_succeeds(
        channel, client, bot_api, manager_client, media, monkeypatch, django_capture_on_commit_callbacks):
    from okno.inbox import telegram_files

    # given the file server does not answer within the timeout the first time
    monkeypatch.setattr(telegram_files, "TIMEOUT_SECONDS", 0.3)
    bot_api.files = SlowFiles({"doc.bin": b"%PDF-1.4 requisites"})
    # when the document arrives
    message = _record(client, channel, "document", django_capture_on_commit_callbacks)
    # then the failure is recorded on the file (attempts, error) with a retry due in a minute
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert item["fetch_attempts"] == 1 and "timed out" in item["fetch_error"] and "stored" not in item
    assert BOT_TOKEN not in item["fetch_error"]
    fetch = FileFetch.objects.get(message=message)
    assert timedelta(seconds=50) < fetch.run_after - timezone.now() <= timedelta(minutes=1)
    assert "timed out" in _card(manager_client, message)
    # when the worker's drain retries once it is due
    _time_passes()
    assert telegram_files_drain() == 1
    # then the file is stored and nothing is left to retry
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert item["fetch_attempts"] == 2 and "fetch_error" not in item and item["stored_bytes"] == 19
    assert not FileFetch.objects.exists()


def test_an_http_error_given_up_shows_its_reason_and_a_persons_retry_downloads_it(
        channel, client, bot_api, manager_client, media, django_capture_on_commit_callbacks):
    # given getFile answers a 502 every time (queued answers are the Bot API's, one per call)
    for _ in range(MAX_ATTEMPTS):
        bot_api.queued.append((502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}))
    message = _record(client, channel, "document", django_capture_on_commit_callbacks)
    for _ in range(MAX_ATTEMPTS - 1):
        _time_passes()
        assert telegram_files_drain() == 1
    # then after MAX_ATTEMPTS tries the file is given up with its error, and nothing is scheduled
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert (item["fetch_attempts"], item["fetch_gave_up"]) == (MAX_ATTEMPTS, True)
    assert item["fetch_error"] == "getFile: HTTP 502 Bad Gateway"
    assert not FileFetch.objects.exists()
    # and the card says why, with a Retry button for a person
    card = _card(manager_client, message)
    retry = f"/inbox/messages/{message.pk}/files/0/retry/"
    assert "file-failed" in card and "getFile: HTTP 502 Bad Gateway" in card and f'action="{retry}"' in card
    # when someone of another department tries it, it is 404 and nothing is scheduled
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(retry).status_code == 404 and not FileFetch.objects.exists()
    # when the manager presses Retry (Telegram works again), nothing is downloaded on the request path
    bot_api.files["doc.bin"] = b"%PDF-1.4 requisites"
    calls = len(bot_api.requests)
    r = manager_client.post(retry)
    assert r.status_code == 302 and r["Location"].endswith(f"#conversation-{message.conversation_id}")
    assert len(bot_api.requests) == calls
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert item["fetch_attempts"] == 0 and "fetch_gave_up" not in item
    # then the worker fetches it at once, and the card offers the download
    assert telegram_files_drain() == 1
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert item["stored_bytes"] == 19 and not FileFetch.objects.exists()
    card = _card(manager_client, message)
    assert f'href="/inbox/messages/{message.pk}/files/0/"' in card and retry not in card
    # and a second Retry has nothing to do
    assert manager_client.post(retry).status_code == 302 and not FileFetch.objects.exists()


def test_a_crash_of_the_first_fetch_is_recorded_and_retried_by_the_worker(
        channel, client, bot_api, manager_client, media, monkeypatch, django_capture_on_commit_callbacks):
    from okno.inbox import telegram_files

    # given the first fetch crashes (a bug, not a failed download)
    real = telegram_files._fetch_files

    def crash(message):
        raise RuntimeError("bug in the fetch")

    monkeypatch.setattr(telegram_files, "_fetch_files", crash)
    message = _record(client, channel, "document", django_capture_on_commit_callbacks)
    # then a retry is scheduled with the crash as its error (not "not downloaded yet" for ever)
    fetch = FileFetch.objects.get(message=message)
    assert fetch.last_error == "RuntimeError: bug in the fetch" and fetch.run_after > timezone.now()
    # when the bug keeps crashing until the drain gives up
    FileFetch.objects.update(run_after=timezone.now(), attempts=telegram_files.MAX_CLAIMS)
    assert telegram_files_drain() == 1
    # then the card says the download failed and why
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert item["fetch_gave_up"] is True and item["fetch_error"] == "RuntimeError: bug in the fetch"
    assert "RuntimeError: bug in the fetch" in _card(manager_client, message)
    # and once fixed, a person's retry downloads it
    monkeypatch.setattr(telegram_files, "_fetch_files", real)
    bot_api.files["doc.bin"] = b"%PDF"
    assert manager_client.post(f"/inbox/messages/{message.pk}/files/0/retry/").status_code == 302
    assert telegram_files_drain() == 1
    assert Message.objects.get(pk=message.pk).meta["files"][0]["stored_bytes"] == 4
