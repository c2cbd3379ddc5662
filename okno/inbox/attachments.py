"""Files a customer sent with a message, as the card lists them and the download view serves them.

They are described in `Message.meta` by our own adapters, in two shapes: e-mail's
`attachments` ({name, size, content_type, path}) and Telegram's `files` ({kind, file_id,
file_name?, mime_type?, stored?, fetch_error?, ...}). One list numbers them, e-mail's first;
that number is the download URL's index, so a URL names a file of a message the user may
see, never a storage path.

A name is the sender's text, never a path: shown through `file_names.display_file_name`, and
stored files have names we made (okno.inbox.telegram_files.storage_name).
"""

import mimetypes
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote

from django.core.files import File
from django.core.files.storage import default_storage

from okno.inbox.file_names import display_file_name
from okno.inbox.models import Message

# A bare "type/subtype": anything else (parameters, a sender's garbage) is served as bytes.
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
OCTET_STREAM = "application/octet-stream"


class AttachmentMissing(Exception):
    """No such file on the message, not downloaded (yet), or gone from storage."""


@dataclass(frozen=True)
class Attachment:
    index: int
    name: str
    size: int | None
    content_type: str
    # The storage path; empty while a Telegram file is not downloaded.
    path: str
    error: str = ""
    attempts: int = 0
    gave_up: bool = False
    # Its place in `meta.files` for a Telegram file (what a person's Retry names); None for e-mail's.
    file_index: int | None = None


def _content_type(given: str, name: str) -> str:
    value = (given or "").strip().lower() or (mimetypes.guess_type(name)[0] or "")
    return value if CONTENT_TYPE.match(value) else OCTET_STREAM


def _telegram_name(item: dict) -> str:
    if item.get("file_name"):
        return display_file_name(item["file_name"])
    if item.get("display_name"):
        return display_file_name(item["display_name"])
    stored = str(item.get("stored") or "")
    if not stored:
        return ""
    # Stored before names were generated, as "<file_unique_id>_<name>": the customer never saw the id.
    base = posixpath.basename(stored)
    prefix = f"{item.get('file_unique_id', 'file')}_"
    return display_file_name(base[len(prefix):] if base.startswith(prefix) else base)


def message_attachments(message: Message) -> list[Attachment]:
    """The message's files in download-index order (no query: everything is in `meta`)."""
    meta = message.meta if isinstance(message.meta, dict) else {}
    found: list[Attachment] = []
    for item in meta.get("attachments") or []:
        if isinstance(item, dict):
            name = display_file_name(item.get("name") or "")
            found.append(Attachment(index=len(found), name=name, size=item.get("size"),
                                    content_type=_content_type(item.get("content_type", ""), name),
                                    path=str(item.get("path") or "")))
    for file_index, item in enumerate(meta.get("files") or []):
        if isinstance(item, dict):
            name = _telegram_name(item)
            found.append(Attachment(
                index=len(found), name=name, size=item.get("stored_bytes") or item.get("file_size"),
                content_type=_content_type(item.get("mime_type", ""), name or str(item.get("stored") or "")),
                path=str(item.get("stored") or ""), error=str(item.get("fetch_error") or ""),
                attempts=int(item.get("fetch_attempts") or 0), gave_up=bool(item.get("fetch_gave_up")),
                file_index=file_index))
    return found


def _allowed_path(message: Message, path: str) -> bool:
    """Only where our adapters store this channel's files; never `..`, an absolute or a Windows path."""
    channel = message.conversation.channel
    parts = path.split("/")
    return (path.startswith(f"inbox/{channel.kind}/{channel.pk}/") and "\\" not in path
            and all(p not in ("", ".", "..") for p in parts))


def attachment_open(*, message: Message, index: int) -> tuple[Attachment, File]:
    """The index-th file of a message, opened for reading; raises AttachmentMissing.

    The caller has already checked that the user may see the message (selectors.messages_visible).
    """
    files = message_attachments(message)
    if not 0 <= index < len(files) or not files[index].path or not _allowed_path(message, files[index].path):
        raise AttachmentMissing(index)
    attachment = files[index]
    try:
        return attachment, default_storage.open(attachment.path, "rb")
    except OSError as exc:  # gone from storage
        raise AttachmentMissing(index) from exc


def content_disposition(name: str) -> str:
    """Always a download, never shown inline; RFC 6266: an ASCII fallback, then the UTF-8 name (RFC 5987).

    The name is sanitised again (no path, no control characters: a header can never be split),
    and the fallback keeps printable ASCII only, without quotes or backslashes.
    """
    name = display_file_name(name)
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name or 'file', safe='')}"
