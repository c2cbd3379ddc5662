# ruff: noqa: F811 - the fixtures imported from test_telegram are, as pytest wants, test arguments
"""Media a customer sends the bot: fetched into storage after the message is recorded, retried by
the worker with back-off when the Bot API fails, and listed on the card (the local fake Bot API
is test_telegram's)."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.models import F, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from okno.core.leases import claim_batch
from okno.inbox.drain import inbound_drain
from okno.inbox.models import FileFetch, Message
from okno.inbox.telegram_files import telegram_files_drain, telegram_files_fetch
from okno.inbox.tests.test_telegram import BOT_TOKEN, FakeBotApi, bot_api, channel, payload, post_update  # noqa: F401
from okno.people.tests.factories import DepartmentFactory, UserFactory


def test_media_files_are_fetched_into_storage_after_the_message_is_recorded(
        channel, client, bot_api, settings, tmp_path, django_capture_on_commit_callbacks):
    # given the Bot API holds the photo but no longer the document
    settings.MEDIA_ROOT = tmp_path
    bot_api.files["large.bin"] = b"\xff\xd8 jpeg bytes"
    post_update(client, channel, "photo")
    post_update(client, channel, "document")
    # when the worker records the messages, the follow-up task fetches their files
    with django_capture_on_commit_callbacks(execute=True):
        inbound_drain()
    photo = Message.objects.get(external_id="17").meta["files"][0]
    # stored under a name we made (test_telegram_file_names), named after Telegram's file on the card
    assert re.fullmatch(rf"inbox/telegram/{channel.pk}/[0-9a-f]{{32}}", photo["stored"]) and photo["stored_bytes"] == 13
    assert photo["display_name"] == "large.bin"
    assert (tmp_path / photo["stored"]).read_bytes() == b"\xff\xd8 jpeg bytes"
    assert (f"/bot{BOT_TOKEN}/getFile", {"file_id": "AgACAgIAAxkBAAIBEWZ-large"}) in bot_api.requests
    # then a file the API cannot give stays a placeholder with the reason, and the message stays
    document = Message.objects.get(external_id="18")
    assert document.text == "[документ: реквизиты.pdf]"
    assert "stored" not in document.meta["files"][0] and "invalid file_id" in document.meta["files"][0]["fetch_error"]
    # and a second run downloads nothing twice
    calls = len(bot_api.requests)
    from okno.inbox.telegram_files import telegram_files_fetch

    assert telegram_files_fetch(channel_id=channel.pk, thread_id="tg:424242001", message_external_id="17") == 0
    assert len([r for r in bot_api.requests[calls:] if r[0].endswith("large.bin")]) == 0


def _due_in_minutes(fetch: FileFetch) -> float:
    return (fetch.run_after - timezone.now()).total_seconds() / 60


def _time_passes() -> None:
    """The retry's wait is over (moving the row's clock rather than the test's)."""
    FileFetch.objects.update(run_after=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def manager_client(channel):
    """A manager of the bot's department, given the customer's lead: may open the card."""
    sales = DepartmentFactory()
    manager = UserFactory(department=sales)
    channel.department = sales
    channel.save()
    client = Client()
    client.force_login(manager)
    return client


def _document_recorded(client, channel, settings, tmp_path, capture) -> Message:
    """A document is recorded and its first fetch runs (failing: the fake Bot API lacks the file)."""
    settings.MEDIA_ROOT = tmp_path
    post_update(client, channel, "document")
    with capture(execute=True):
        inbound_drain()
    return Message.objects.get(external_id="18")


def test_a_file_that_failed_is_retried_by_the_worker_and_ends_downloadable(
        channel, client, bot_api, manager_client, settings, tmp_path, django_capture_on_commit_callbacks):
    # given Telegram cannot give the document when the message arrives
    message = _document_recorded(client, channel, settings, tmp_path, django_capture_on_commit_callbacks)
    item = message.meta["files"][0]
    assert item["fetch_attempts"] == 1 and "invalid file_id" in item["fetch_error"] and "stored" not in item
    # then a retry is due in a minute, and the card says the file is not downloaded yet and why
    assert 0.9 < _due_in_minutes(FileFetch.objects.get(message=message)) <= 1
    card = manager_client.get(f"/contacts/{message.conversation.contact_id}/").content.decode()
    assert "реквизиты.pdf" in card and "ещё не скачан" in card and "invalid file_id" in card
    assert f"/inbox/messages/{message.pk}/files/0/" not in card
    assert manager_client.get(f"/inbox/messages/{message.pk}/files/0/").status_code == 404
    # when the worker looks before the minute has passed (or the first task runs again), nothing is fetched
    calls = len(bot_api.requests)
    assert telegram_files_drain() == 0
    assert telegram_files_fetch(channel_id=channel.pk, thread_id="tg:424242001", message_external_id="18") == 0
    assert len(bot_api.requests) == calls
    # when the minute has passed and Telegram has the file again
    bot_api.files["doc.bin"] = b"%PDF-1.4 requisites"
    _time_passes()
    assert telegram_files_drain() == 1
    # then it is stored, nothing more is scheduled, and the card offers the same bytes as a download
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert item["fetch_attempts"] == 2 and "fetch_error" not in item and item["stored_bytes"] == 19
    assert not FileFetch.objects.exists()
    card = manager_client.get(f"/contacts/{message.conversation.contact_id}/").content.decode()
    assert f'href="/inbox/messages/{message.pk}/files/0/"' in card and "ещё не скачан" not in card
    r = manager_client.get(f"/inbox/messages/{message.pk}/files/0/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"%PDF-1.4 requisites"
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].endswith(f"filename*=UTF-8''{quote('реквизиты.pdf')}")
    assert telegram_files_drain() == 0


def test_retries_back_off_and_give_up_after_five_tries_which_the_card_says(
        channel, client, bot_api, manager_client, settings, tmp_path, django_capture_on_commit_callbacks):
    # given a document Telegram never gives
    message = _document_recorded(client, channel, settings, tmp_path, django_capture_on_commit_callbacks)
    # when the worker retries whenever one is due, the waits grow 1, 4, 16, 64 minutes
    waits = [round(_due_in_minutes(FileFetch.objects.get()))]
    for _ in range(3):
        _time_passes()
        assert telegram_files_drain() == 1
        waits.append(round(_due_in_minutes(FileFetch.objects.get())))
    assert waits == [1, 4, 16, 64]
    _time_passes()
    assert telegram_files_drain() == 1
    # then after the fifth try it is given up: nothing is scheduled, and the card says so
    item = Message.objects.get(pk=message.pk).meta["files"][0]
    assert (item["fetch_attempts"], item["fetch_gave_up"]) == (5, True) and "invalid file_id" in item["fetch_error"]
    assert not FileFetch.objects.exists()
    assert len([r for r in bot_api.requests if r[0].endswith("/getFile")]) == 5
    card = manager_client.get(f"/contacts/{message.conversation.contact_id}/").content.decode()
    assert "file-failed" in card and "ещё не скачан" not in card
    assert f'action="/inbox/messages/{message.pk}/files/0/retry/"' in card


def test_a_claimed_retry_is_not_fetched_by_another_worker_until_its_lease_runs_out(
        channel, client, bot_api, settings, tmp_path, django_capture_on_commit_callbacks):
    _document_recorded(client, channel, settings, tmp_path, django_capture_on_commit_callbacks)
    bot_api.files["doc.bin"] = b"%PDF"
    _time_passes()
    # given another worker has claimed the due retry (and is still downloading)
    assert len(claim_batch(FileFetch, ready=Q(), limit=1, lease_seconds=300)) == 1
    calls = len(bot_api.requests)
    # then this worker leaves it alone
    assert telegram_files_drain() == 0 and len(bot_api.requests) == calls
    # and once that worker's lease ran out (it was killed), this one takes the file over
    FileFetch.objects.update(locked_until=F("locked_until") - timedelta(seconds=301))
    assert telegram_files_drain() == 1
    assert Message.objects.get(external_id="18").meta["files"][0]["stored_bytes"] == 4


def test_the_idle_drain_reads_only_the_retry_table(db):
    # given nothing to retry, the drain runs every few seconds on every worker
    with CaptureQueriesContext(connection) as queries:
        assert telegram_files_drain() == 0
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    # then it costs one query on the small FileFetch table, never a scan of messages
    assert len(selects) == 1 and "inbox_filefetch" in selects[0] and "inbox_message" not in selects[0]


def test_a_retry_that_keeps_crashing_is_given_up_after_a_bounded_number_of_claims(
        channel, client, bot_api, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    # given a failed file whose retry hits a bug (not a failed download: no try is counted)
    _document_recorded(client, channel, settings, tmp_path, django_capture_on_commit_callbacks)
    from okno.inbox import telegram_files

    def crash(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(telegram_files, "_fetch_one", crash)
    _time_passes()
    # when the worker claims it, the crash is logged and the row waits for its lease to run out
    assert telegram_files_drain() == 1
    assert FileFetch.objects.get().locked_until > timezone.now()
    # when it has been claimed more often than any honest retry needs
    FileFetch.objects.update(locked_until=None, attempts=telegram_files.MAX_CLAIMS)
    assert telegram_files_drain() == 1
    # then the file is given up, which the card shows, and nothing is scheduled any more
    assert Message.objects.get(external_id="18").meta["files"][0]["fetch_gave_up"] is True
    assert not FileFetch.objects.exists()
