"""Polling e-mail channels over IMAP: every new message is stored raw as an InboundEvent.

A message is committed as an InboundEvent (dedup key `email:<Message-ID>`) in the same
transaction that advances the channel's last seen UID, and only then flagged \\Seen on the
server: a worker killed mid-poll fetches the message again rather than losing it, and the
unique dedup key makes the second copy a no-op. A changed UIDVALIDITY (the folder was
recreated, the server migrated) starts again from UID 1, harmless for the same reason.

The poll state lives in `channel.settings` (`uidvalidity`, `last_uid`, `poll_due_at`,
`poll_lease_until`, `poll_error`), written under the channel row's lock, so two workers never
poll one mailbox at once and an administrator sees the last error on the channel.
"""

import imaplib
import logging
import ssl
import time

from django.conf import settings
from django.db import IntegrityError, transaction

from okno.inbox.adapters.email import dedup_key_for
from okno.inbox.models import Channel, InboundEvent

log = logging.getLogger(__name__)

BATCH = 200
# Longer than a slow poll of a full batch; if a poll outlives it a second worker may poll too,
# which costs a second fetch and stores nothing twice.
LEASE_SECONDS = 300


class MailboxError(Exception):
    pass


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(s: dict) -> imaplib.IMAP4:
    use_ssl = bool(s.get("imap_ssl", True))
    port = int(s.get("imap_port") or (993 if use_ssl else 143))
    timeout = float(s.get("imap_timeout", 30))
    if use_ssl:
        return imaplib.IMAP4_SSL(s["imap_host"], port, ssl_context=ssl.create_default_context(), timeout=timeout)
    imap = imaplib.IMAP4(s["imap_host"], port, timeout=timeout)
    if s.get("imap_starttls"):
        imap.starttls(ssl_context=ssl.create_default_context())
    return imap


def _settings_update(channel_id: int, **values) -> dict:
    """Writes poll state into the channel's settings under its row lock (a fresh read, not a stale copy)."""
    with transaction.atomic():
        qs = Channel.objects.filter(pk=channel_id)
        if settings.IS_POSTGRES:
            qs = qs.select_for_update()
        channel = qs.get()
        channel.settings = {**channel.settings, **values}
        channel.save(update_fields=["settings"])
        return channel.settings


def _store(channel: Channel, raw: bytes, *, uid: int, uidvalidity: int, folder: str) -> bool:
    """Stores one fetched message and advances the last seen UID in one transaction."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                InboundEvent.objects.create(
                    channel=channel, headers={"imap_uid": uid, "uidvalidity": uidvalidity, "folder": folder},
                    body=raw, content_type="message/rfc822", event_type="email", dedup_key=dedup_key_for(raw))
            stored = True
        except IntegrityError:
            stored = False  # fetched before: a crash before the UID advanced, or a UIDVALIDITY reset
        _settings_update(channel.pk, uidvalidity=uidvalidity, last_uid=uid)
    return stored


def mailbox_poll(channel: Channel, *, batch: int = BATCH) -> int:
    """Fetches messages above the last seen UID; returns how many new ones were stored."""
    s = channel.settings
    folder = s.get("imap_folder") or "INBOX"
    try:
        imap = _connect(s)
    except OSError as exc:
        raise MailboxError(f"cannot connect to {s.get('imap_host')}: {exc}") from exc
    try:
        imap.login(s["imap_user"], s["imap_password"])
        typ, data = imap.select(_quoted(folder))
        if typ != "OK":
            raise MailboxError(f"cannot open folder {folder!r}: {data}")
        uidvalidity = int(imap.response("UIDVALIDITY")[1][0])
        last = int(s.get("last_uid", 0)) if s.get("uidvalidity") == uidvalidity else 0
        typ, data = imap.uid("SEARCH", None, f"UID {last + 1}:*")
        # "n:*" always matches the newest message, even below n (RFC 3501 6.4.8): filter here.
        uids = sorted(uid for uid in map(int, (data[0] or b"").split()) if uid > last)[:batch]
        stored = 0
        for uid in uids:
            typ, fetched = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched or [] if isinstance(part, tuple)), None)
            if typ != "OK" or raw is None:  # expunged meanwhile: nothing to keep
                _settings_update(channel.pk, uidvalidity=uidvalidity, last_uid=uid)
                continue
            stored += _store(channel, raw, uid=uid, uidvalidity=uidvalidity, folder=folder)
            if s.get("imap_mark_seen", True):
                imap.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
        if len(uids) == batch:  # more are waiting: come back at once rather than after the interval
            _settings_update(channel.pk, poll_due_at=0)
        return stored
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"IMAP: {exc}") from exc
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _claim(channel_id: int, *, now: float, interval: float) -> bool:
    """Takes the mailbox's poll lease when it is due and nobody holds it; exactly one worker wins."""
    with transaction.atomic():
        qs = Channel.objects.filter(pk=channel_id, is_active=True)
        if settings.IS_POSTGRES:
            qs = qs.select_for_update()
        channel = qs.first()
        if channel is None:
            return False
        state = channel.settings
        if float(state.get("poll_lease_until", 0)) > now or float(state.get("poll_due_at", 0)) > now:
            return False
        channel.settings = {**state, "poll_lease_until": now + LEASE_SECONDS, "poll_due_at": now + interval}
        channel.save(update_fields=["settings"])
        return True


def mailboxes_drain() -> int:
    """The worker's loop: polls each active e-mail channel at most every OKNO_IMAP_POLL_SECONDS."""
    interval = float(getattr(settings, "OKNO_IMAP_POLL_SECONDS", 60))
    handled = 0
    for channel in Channel.objects.filter(kind="email", is_active=True).order_by("pk"):
        now = time.time()
        due = max(float(channel.settings.get("poll_due_at", 0)), float(channel.settings.get("poll_lease_until", 0)))
        if due > now or not _claim(channel.pk, now=now, interval=interval):
            continue
        error = ""
        try:
            handled += mailbox_poll(Channel.objects.get(pk=channel.pk))
        except Exception as exc:  # one broken mailbox must not stop the others
            log.warning("polling mailbox of channel %s failed: %s", channel.pk, exc)
            error = f"{type(exc).__name__}: {exc}"[:500]
        _settings_update(channel.pk, poll_lease_until=0, poll_error=error)
    return handled
