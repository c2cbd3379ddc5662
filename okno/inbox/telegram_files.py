"""Media a customer sent to the bot, fetched after the message is recorded and kept in our storage.

The first try is a django-tasks follow-up (low volume: one task per message with media), not
part of the inbound drain: a slow download must not hold back other customers' messages. The
message already shows a placeholder and the file ids; this adds `stored` (a storage path) to
each file in `meta.files`. Safe to run twice: a file already stored is skipped.

A file that could not be fetched (Telegram answers "wrong file_id or the file is temporarily
unavailable", a timeout, a full disk) is retried by the worker's `telegram_files` drain: the
first failure leaves a `FileFetch` row for the message, due after 1, 4, 16 and 64 minutes,
and after `MAX_ATTEMPTS` tries of a file it is given up (`fetch_gave_up`), which the card says.
Each file counts its own tries in `fetch_attempts`. A person may ask for a given-up file again
(`telegram_file_retry`, the card's Retry button): its tries start over.

A file is stored under a name we make (`<uuid><extension>`, the extension only from
`SAFE_EXTENSIONS`), never under the sender's `file_name`: that name may be `../../x`, a
Windows path, a control character or 10,000 characters long. It stays in `meta.files` as the
sender sent it and is shown (sanitised: `attachments.display_file_name`) as text and in the
download's Content-Disposition only.

Whatever goes wrong with one file (the Bot API, the network, the storage refusing a path)
is recorded on that file and retried; a crash of the first task itself (a bug) still leaves
a `FileFetch` row with its error, so the worker tries again and, after `MAX_CLAIMS`, the
card says why the file was given up instead of "not downloaded yet" for ever.
"""

import logging
import posixpath
import urllib.request
import uuid
from datetime import timedelta

from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from okno.core.leases import claim_batch
from okno.inbox.adapters.base import SendFailed
from okno.inbox.adapters.telegram import TIMEOUT_SECONDS, api_base, bot_api_call
from okno.inbox.file_names import display_file_name
from okno.inbox.models import FileFetch, Message

log = logging.getLogger(__name__)

# "the bot can download files of up to 20MB in size" (Bot API, getFile).
MAX_BYTES = 20 * 1024 * 1024
# Tries of one file, the first one included; with the delays below the last is ~85 min after the first.
MAX_ATTEMPTS = 5
# The drain downloads inline in the worker loop, which also drains inbound events: one message
# per call lets the other drains run between two downloads.
FETCHES_PER_CALL = 1
# Two getFile calls and a download of up to 20 MB, each with a 15 s socket timeout, fit well inside.
LEASE_SECONDS = 300
# A message whose fetch keeps crashing (a bug, not a failed download) is dropped after this many claims.
MAX_CLAIMS = MAX_ATTEMPTS + 3


# Extensions a stored file may keep (lower case): documents, images, audio, video, archives.
# Anything else (.html, .svg, .js, .exe, none) is stored without one; the download's content
# type comes from the message's mime_type, and it is always served as an attachment.
SAFE_EXTENSIONS = frozenset((
    ".pdf", ".txt", ".csv", ".rtf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp",
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".bmp", ".tif", ".tiff",
    ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".wav", ".flac",
    ".mp4", ".mov", ".webm", ".mkv", ".avi", ".3gp",
    ".zip", ".rar", ".7z", ".tgs",
))
# Unexpected errors (a bug) are shown on the card by their type and a short text only.
ERROR_CHARS = 300


class FileTooBig(ValueError):
    """Over the Bot API's limit: no retry can help."""


def retry_delay(attempts: int) -> timedelta:
    """After a file's n-th failed try: 1, 4, 16, 64 minutes."""
    return timedelta(minutes=4 ** max(attempts - 1, 0))


def _pending(item: dict) -> bool:
    return bool(item.get("file_id")) and not item.get("stored") and not item.get("fetch_gave_up")


def _download(token: str, file_path: str) -> bytes:
    url = f"{api_base()}/file/bot{token}/{file_path}"
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        data = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise FileTooBig("file over the Bot API's 20 MB download limit")
    return data


def safe_extension(*names: str) -> str:
    """The first of the names' extensions that is on the whitelist, lower-cased; "" when none is."""
    for name in names:
        ext = posixpath.splitext(str(name or "").replace("\\", "/").rsplit("/", 1)[-1])[1].lower()
        if ext in SAFE_EXTENSIONS:
            return ext
    return ""


def storage_name(channel_id: int, item: dict, file_path: str) -> str:
    """Where a file is stored: the channel's folder, a fresh uuid, a whitelisted extension."""
    return f"inbox/telegram/{channel_id}/{uuid.uuid4().hex}{safe_extension(item.get('file_name', ''), file_path)}"


def _fetch_one(channel, token: str, item: dict) -> None:
    """Downloads one file into storage and records it on `item`; raises on failure."""
    if (item.get("file_size") or 0) > MAX_BYTES:
        raise FileTooBig("file over the Bot API's 20 MB download limit")
    result = bot_api_call(channel, "getFile", {"file_id": item["file_id"]})
    file_path = (result or {}).get("file_path")
    if not file_path:
        raise ValueError("getFile answered without a file_path")
    data = _download(token, file_path)
    path = default_storage.save(storage_name(channel.pk, item, str(file_path)), ContentFile(data))
    item.update(stored=path, stored_bytes=len(data))
    if not item.get("file_name"):
        # A photo or a voice note has no name of its own: Telegram's path ("photos/file_3.jpg") names it.
        item["display_name"] = display_file_name(posixpath.basename(str(file_path)))


def _error_text(exc: BaseException, token: str) -> str:
    """The card shows the error: it must never carry the token (a download URL holds it)."""
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, (SendFailed, OSError, ValueError)):
        text = f"{type(exc).__name__}: {text}"
    return (text.replace(token, "…") if token else text)[:ERROR_CHARS]


def _fetch_files(message: Message) -> tuple[int, list[dict]]:
    """Tries each pending file of the message once; returns how many were stored and the files as saved."""
    channel = message.conversation.channel
    token = channel.settings.get("bot_token", "")
    files = [dict(f) for f in message.meta.get("files") or []]
    stored = 0
    for item in files:
        if not _pending(item):
            continue
        item["fetch_attempts"] = item.get("fetch_attempts", 0) + 1
        try:
            _fetch_one(channel, token, item)
        except (SendFailed, OSError, ValueError, SuspiciousOperation) as exc:  # OSError: URLError, timeouts, storage
            item["fetch_error"] = _error_text(exc, token)
            if isinstance(exc, FileTooBig) or item["fetch_attempts"] >= MAX_ATTEMPTS:
                item["fetch_gave_up"] = True
            continue
        item.pop("fetch_error", None)
        stored += 1
    with transaction.atomic():
        fresh = Message.objects.select_for_update().only("meta").get(pk=message.pk)
        current = fresh.meta.get("files") or []
        if len(current) == len(files):
            # Another run that stored a file meanwhile wins over this run's failure for it.
            files = [old if old.get("stored") and not new.get("stored") else new
                     for old, new in zip(current, files, strict=True)]
        Message.objects.filter(pk=message.pk).update(meta={**fresh.meta, "files": files})
    return stored, files


def _schedule(message_id: int, files: list[dict]) -> None:
    """Keeps the message's FileFetch row due at the next try, or removes it when nothing is left to try."""
    pending = [f for f in files if _pending(f)]
    if not pending:
        FileFetch.objects.filter(message_id=message_id).delete()
        return
    tries = min(f.get("fetch_attempts", 0) for f in pending)
    FileFetch.objects.update_or_create(
        message_id=message_id, defaults={"run_after": timezone.now() + retry_delay(tries), "locked_until": None})


def telegram_files_fetch(*, channel_id: int, thread_id: str, message_external_id: str) -> int:
    """Downloads the message's media through getFile into Django's storage; returns how many.

    The message is found by its natural keys: the adapter asks for the fetch before the
    drain has recorded it (on commit of the event's transaction). Once a retry is scheduled
    the drain owns the message's files, so a second run of this task leaves them alone.
    """
    message = Message.objects.select_related("conversation__channel").filter(
        conversation__channel_id=channel_id, conversation__external_id=thread_id,
        external_id=message_external_id).first()
    if message is None or not message.meta.get("files"):
        return 0
    if FileFetch.objects.filter(message=message).exists():
        return 0
    try:
        stored, files = _fetch_files(message)
    except Exception as exc:
        # A bug, not a failed download: the worker's drain tries again (bounded by MAX_CLAIMS)
        # and the card ends up saying why, rather than "not downloaded yet" for ever.
        log.exception("telegram files of message %s: the first fetch crashed", message.pk)
        FileFetch.objects.update_or_create(message_id=message.pk, defaults={
            "run_after": timezone.now() + retry_delay(1), "locked_until": None,
            "last_error": _error_text(exc, message.conversation.channel.settings.get("bot_token", ""))})
        return 0
    _schedule(message.pk, files)
    return stored


def telegram_files_retry(*, fetch: FileFetch) -> int:
    """One due retry of a message's files (the row claimed by this worker); returns how many were stored."""
    message = fetch.message
    channel = message.conversation.channel
    if channel.kind != "telegram" or not channel.settings.get("fetch_files", True):
        FileFetch.objects.filter(pk=fetch.pk).delete()
        return 0
    if fetch.attempts > MAX_CLAIMS:
        log.error("telegram files of message %s: given up after %s claims", message.pk, fetch.attempts)
        error = fetch.last_error or "the download crashed (see the worker's log)"
        with transaction.atomic():
            fresh = Message.objects.select_for_update().only("meta").get(pk=message.pk)
            files = [{**f, "fetch_gave_up": True, "fetch_error": f.get("fetch_error") or error} if _pending(f) else f
                     for f in fresh.meta.get("files") or []]
            Message.objects.filter(pk=message.pk).update(meta={**fresh.meta, "files": files})
            FileFetch.objects.filter(pk=fetch.pk).delete()
        return 0
    stored, files = _fetch_files(message)
    _schedule(message.pk, files)
    return stored


def telegram_files_drain(batch: int = FETCHES_PER_CALL) -> int:
    """The worker's loop: claims due FileFetch rows with a lease, so two workers never fetch one file at once."""
    ids = claim_batch(FileFetch, ready=Q(), limit=batch, lease_seconds=LEASE_SECONDS, order_by="run_after")
    for fetch in FileFetch.objects.filter(pk__in=ids).select_related("message__conversation__channel"):
        try:
            telegram_files_retry(fetch=fetch)
        except Exception as exc:  # the lease runs out and the row is claimed again; MAX_CLAIMS bounds it
            log.exception("telegram files of message %s failed", fetch.message_id)
            token = fetch.message.conversation.channel.settings.get("bot_token", "")
            FileFetch.objects.filter(pk=fetch.pk).update(last_error=_error_text(exc, token))
    return len(ids)


def telegram_file_retry(*, message: Message, index: int) -> bool:
    """A person's "Retry" of a file given up: its tries start over and the worker fetches it now.

    `index` is the file's place in `meta.files`. The caller has checked the user may see the
    message. Returns False when there is nothing to retry (stored, still being tried, no such file).
    """
    with transaction.atomic():
        fresh = Message.objects.select_for_update().only("meta").get(pk=message.pk)
        files = [dict(f) for f in fresh.meta.get("files") or []]
        if not 0 <= index < len(files) or not files[index].get("fetch_gave_up") or files[index].get("stored"):
            return False
        item = files[index]
        item.pop("fetch_gave_up", None)
        item["fetch_attempts"] = 0
        item["fetch_retried"] = item.get("fetch_retried", 0) + 1
        Message.objects.filter(pk=message.pk).update(meta={**fresh.meta, "files": files})
        FileFetch.objects.update_or_create(message_id=message.pk, defaults={
            "run_after": timezone.now(), "locked_until": None, "attempts": 0, "last_error": ""})
    return True


@task()
def telegram_files_fetch_task(channel_id: int, thread_id: str, message_external_id: str) -> None:
    telegram_files_fetch(channel_id=channel_id, thread_id=thread_id, message_external_id=message_external_id)
