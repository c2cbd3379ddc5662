"""Media a customer sent to the bot, fetched after the message is recorded and kept in our storage.

A django-tasks follow-up (low volume: one task per message with media), not part of the
inbound drain: a slow download must not hold back other customers' messages. The message
already shows a placeholder and the file ids; this adds `stored` (a storage path) to each
file in `meta.files`. Safe to run twice: a file already stored is skipped.
"""

import logging
import posixpath
import urllib.error
import urllib.request

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django_tasks import task

from okno.inbox.adapters.base import SendFailed
from okno.inbox.adapters.telegram import TIMEOUT_SECONDS, api_base, bot_api_call
from okno.inbox.models import Message

log = logging.getLogger(__name__)

# "the bot can download files of up to 20MB in size" (Bot API, getFile).
MAX_BYTES = 20 * 1024 * 1024


def _download(token: str, file_path: str) -> bytes:
    url = f"{api_base()}/file/bot{token}/{file_path}"
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        data = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError("file over the Bot API's 20 MB download limit")
    return data


def telegram_files_fetch(*, channel_id: int, thread_id: str, message_external_id: str) -> int:
    """Downloads the message's media through getFile into Django's storage; returns how many.

    The message is found by its natural keys: the adapter asks for the fetch before the
    drain has recorded it (on commit of the event's transaction).
    """
    message = Message.objects.select_related("conversation__channel").filter(
        conversation__channel_id=channel_id, conversation__external_id=thread_id,
        external_id=message_external_id).first()
    if message is None or not message.meta.get("files"):
        return 0
    channel = message.conversation.channel
    token = channel.settings.get("bot_token", "")
    files = [dict(f) for f in message.meta["files"]]
    stored = 0
    for item in files:
        if item.get("stored") or not item.get("file_id"):
            continue
        try:
            result = bot_api_call(channel, "getFile", {"file_id": item["file_id"]})
            file_path = (result or {}).get("file_path")
            if not file_path:
                raise ValueError("getFile answered without a file_path")
            data = _download(token, file_path)
        except (SendFailed, urllib.error.URLError, TimeoutError, ValueError) as exc:
            # Kept as a placeholder with the file id; a later run can try again.
            item["fetch_error"] = str(exc)[:300]
            continue
        name = item.get("file_name") or posixpath.basename(file_path)
        path = default_storage.save(f"inbox/telegram/{channel.pk}/{item.get('file_unique_id', 'file')}_{name}",
                                    ContentFile(data))
        item.update(stored=path, stored_bytes=len(data))
        item.pop("fetch_error", None)
        stored += 1
    with transaction.atomic():
        fresh = Message.objects.select_for_update().get(pk=message.pk)
        Message.objects.filter(pk=message.pk).update(meta={**fresh.meta, "files": files})
    return stored


@task()
def telegram_files_fetch_task(channel_id: int, thread_id: str, message_external_id: str) -> None:
    telegram_files_fetch(channel_id=channel_id, thread_id=thread_id, message_external_id=message_external_id)
