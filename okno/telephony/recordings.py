"""Call recordings: fetched from the PBX into our storage, served only to users who may see the card.

When a PBX event names a call's recording (Mango's events/recording Completed, Zadarma's
NOTIFY_RECORD or a recorded NOTIFY_END, Telphin's RecID), the adapter calls `recording_queue`
inside the event's transaction: a CallRecording row, due after the PBX's own delay (Zadarma
advises 40 s). The worker's `recordings` drain claims due rows with a lease and asks the
channel's adapter to download the file (`recording_fetch`), checks that it is audio, and saves it
through Django's default storage; a failure is retried with back-off (1, 4, 16, 64 minutes) and
after MAX_ATTEMPTS tries the row keeps its error. One download per drain call: a slow PBX must not
hold back the worker's other drains.

A channel with `recording_store: false` stores nothing: the row is LINKED and every play asks the
PBX for a fresh short-lived link, to which the (visibility-checked) view redirects. Only PBXes
whose adapters can make such a link (`recording_link`) do this; the others store regardless.
"""

import logging
import re
import tempfile
from datetime import timedelta

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from okno.core.leases import claim_batch
from okno.inbox import adapters
from okno.inbox.adapters.base import SendFailed
from okno.telephony.models import Call, CallRecording

log = logging.getLogger(__name__)

# Tries of one recording, the first included; with retry_delay the last is ~85 min after the first,
# long enough for a PBX that is slow to finish a file.
MAX_ATTEMPTS = 5
# A row whose fetch keeps crashing (a bug, not a failed download) is given up after this many claims.
MAX_CLAIMS = MAX_ATTEMPTS + 3
# Three hours of 8 kHz 16-bit mono WAV is 173 MB; nothing a PBX records for one call is bigger.
MAX_BYTES = 200 * 1024 * 1024
# A 200 MB download at a slow 1 MB/s fits; an expired lease lets another worker take the row over.
LEASE_SECONDS = 600
FETCHES_PER_CALL = 1
STORAGE_PREFIX = "telephony/recordings/"
# What we serve, by what the bytes are; a PBX's own header is believed only for these types.
EXTENSIONS = {"audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg"}
ALIASES = {"audio/mp3": "audio/mpeg", "audio/mpeg3": "audio/mpeg", "audio/x-mpeg": "audio/mpeg",
           "audio/x-mp3": "audio/mpeg", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav",
           "audio/vnd.wave": "audio/wav", "audio/x-ogg": "audio/ogg"}


class RecordingMissing(Exception):
    """No recording, not fetched (yet), given up, or gone from storage."""


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed try: 1, 4, 16, 64 minutes."""
    return timedelta(minutes=4 ** max(attempts - 1, 0))


def audio_type(given: str, head: bytes) -> str | None:
    """The file's type by its first bytes, else by the PBX's header when that names audio; else None."""
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"  # an ID3 tag or an MPEG frame sync
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"OggS":
        return "audio/ogg"
    given = ALIASES.get(given, given)
    return given if given in EXTENSIONS else None


def _store_links_only(channel, adapter) -> bool:
    wanted = channel.settings.get("recording_store", True) in (False, "false", "0", 0)
    return wanted and callable(getattr(adapter, "recording_link", None))


def recording_queue(*, call: Call, delay_seconds: float = 0) -> CallRecording | None:
    """Called by a PBX adapter once a fact named the call's recording (in the event's transaction).

    Safe to repeat: the call has one row; a stored recording is kept, and a row still to be
    fetched follows the call's recording id if that changed."""
    if not call.recording_id:
        return None
    adapter = adapters.get(call.channel.kind)
    status = CallRecording.Status.LINKED if _store_links_only(call.channel, adapter) else CallRecording.Status.PENDING
    due = timezone.now() + timedelta(seconds=delay_seconds)
    recording, created = CallRecording.objects.get_or_create(
        call=call, defaults={"recording_id": call.recording_id, "status": status, "run_after": due})
    if not created and recording.recording_id != call.recording_id and recording.status != CallRecording.Status.STORED:
        CallRecording.objects.filter(pk=recording.pk).update(
            recording_id=call.recording_id, status=status, run_after=due, attempts=0, error="", locked_until=None)
    return recording


def _storage_name(recording: CallRecording, content_type: str) -> str:
    # Only characters safe in any storage's names; the ids are the PBX's and may hold "/" or "=".
    rid = re.sub(r"[^A-Za-z0-9._-]", "_", recording.recording_id)[:80]
    return f"{STORAGE_PREFIX}{recording.call.channel_id}/{recording.call_id}-{rid}.{EXTENSIONS[content_type]}"


def _fetch(recording: CallRecording) -> None:
    """One try: download into a temporary file, check it is audio, save it to storage; raises SendFailed."""
    channel = recording.call.channel
    adapter = adapters.get(channel.kind)
    fetch = getattr(adapter, "recording_fetch", None)
    if fetch is None:
        raise SendFailed(f"channel kind {channel.kind!r} cannot fetch recordings", retry=False)
    with tempfile.TemporaryFile() as sink:
        given = fetch(channel, recording.recording_id, sink, max_bytes=MAX_BYTES)
        size = sink.tell()
        sink.seek(0)
        head = sink.read(300)
        content_type = audio_type(given, head)
        if size == 0 or content_type is None:
            # An error page or JSON with a 200: the PBX's words say why (a link switched off, say).
            text = head.decode("utf-8", "replace").strip()[:200]
            raise SendFailed(f"the PBX sent {given or 'no content type'}, not audio" + (f": {text}" if text else ""))
        sink.seek(0)
        content = File(sink)
        content.size = size
        path = default_storage.save(_storage_name(recording, content_type), content)
    CallRecording.objects.filter(pk=recording.pk).update(
        status=CallRecording.Status.STORED, path=path, content_type=content_type, size_bytes=size, error="",
        locked_until=None, fetched_at=timezone.now())


def recording_fetch_due(recording: CallRecording) -> bool:
    """One due try of a recording claimed by this worker; returns whether it is stored now."""
    if recording.attempts > MAX_CLAIMS:
        CallRecording.objects.filter(pk=recording.pk).update(
            status=CallRecording.Status.FAILED, locked_until=None,
            error=(recording.error + "\n" if recording.error else "") + "given up: the fetch kept crashing")
        return False
    try:
        _fetch(recording)
    except SendFailed as exc:
        final = not exc.retry or recording.attempts >= MAX_ATTEMPTS
        CallRecording.objects.filter(pk=recording.pk).update(
            status=CallRecording.Status.FAILED if final else CallRecording.Status.PENDING, error=str(exc)[:2000],
            locked_until=None, run_after=timezone.now() + retry_delay(recording.attempts))
        return False
    return True


def recordings_drain(batch: int = FETCHES_PER_CALL) -> int:
    """The worker's loop: claims due recordings with a lease, so two workers never fetch one file."""
    ids = claim_batch(CallRecording, ready=Q(status=CallRecording.Status.PENDING), limit=batch,
                      lease_seconds=LEASE_SECONDS, order_by="run_after")
    for recording in CallRecording.objects.filter(pk__in=ids).select_related("call__channel"):
        try:
            recording_fetch_due(recording)
        except Exception:  # the lease runs out and the row is claimed again; MAX_CLAIMS bounds it
            log.exception("recording %s of call %s failed", recording.pk, recording.call_id)
    return len(ids)


def _playable(call: Call) -> CallRecording | None:
    try:
        recording = call.recording
    except CallRecording.DoesNotExist:
        return None
    if recording.status in (CallRecording.Status.STORED, CallRecording.Status.LINKED):
        return recording
    return None


def recording_url(call: Call) -> str:
    """Our URL of the call's recording once it can be played (stored or linked), else ""."""
    return reverse("telephony:call_recording", args=[call.pk]) if _playable(call) else ""


def recording_open(*, call: Call) -> tuple[CallRecording, File]:
    """The stored recording, opened for reading; raises RecordingMissing.

    The caller has already checked that the user may see the call (selectors.calls_visible)."""
    recording = _playable(call)
    if recording is None or recording.status != CallRecording.Status.STORED:
        raise RecordingMissing(call.pk)
    path = recording.path
    if not path.startswith(STORAGE_PREFIX) or ".." in path.split("/") or "\\" in path:
        raise RecordingMissing(call.pk)  # only where we store recordings, whatever the row says
    try:
        return recording, default_storage.open(path, "rb")
    except OSError as exc:
        raise RecordingMissing(call.pk) from exc


def recording_link(*, call: Call) -> str:
    """A fresh short-lived link from the PBX to a LINKED recording; raises RecordingMissing or SendFailed."""
    recording = _playable(call)
    if recording is None or recording.status != CallRecording.Status.LINKED:
        raise RecordingMissing(call.pk)
    adapter = adapters.get(call.channel.kind)
    link = getattr(adapter, "recording_link", None)
    if link is None:
        raise RecordingMissing(call.pk)
    return link(call.channel, recording.recording_id)
