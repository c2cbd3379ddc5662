"""POST /hooks/<kind>/<token>/...: store first, acknowledge second, process in the worker."""

import hashlib
import json
import logging
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from okno.core.ratelimit import rate_limited
from okno.inbox import adapters
from okno.inbox.adapters.base import Malformed, Refused, json_hazard
from okno.inbox.models import Channel, InboundEvent

log = logging.getLogger(__name__)

# Headers worth keeping with the raw body (signatures, content type, provider ids); the
# rest (cookies, proxies' additions) is noise and sometimes personal data. As WSGI names them.
KEPT_HEADERS = ("CONTENT_TYPE", "HTTP_USER_AGENT", "HTTP_X_", "HTTP_SIGNATURE")


def _headers(request: HttpRequest) -> dict[str, str]:
    """The kept headers named as request.headers names them ("Content-Type", "X-Jivo-Id"), read
    from META directly: request.headers parses every header the request has."""
    return {(name[5:] if name.startswith("HTTP_") else name).replace("_", "-").title(): value
            for name, value in request.META.items() if name.startswith(KEPT_HEADERS)}


def _refusals_exceeded(request: HttpRequest) -> bool:
    """Counts one refusal of the client's address; True once it has had too many this minute."""
    client = request.META.get("REMOTE_ADDR", "")
    return rate_limited(f"hook-refused:{client}", limit=settings.OKNO_HOOK_REFUSALS_PER_MINUTE, window_seconds=60)


def _refuse(request: HttpRequest, status: int, reason: str) -> HttpResponse:
    if _refusals_exceeded(request):
        return JsonResponse({"detail": "Too many refused requests"}, status=429)
    return JsonResponse({"detail": reason}, status=status)


def body_limit() -> int:
    """The largest hook body taken: OKNO_HOOK_MAX_BYTES, or Django's own upload limit if lower."""
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return settings.OKNO_HOOK_MAX_BYTES if django_limit is None else min(settings.OKNO_HOOK_MAX_BYTES, django_limit)


def _streamed_body(request: HttpRequest) -> bytes | None:
    """The body of a request sent without a Content-Length (`Transfer-Encoding: chunked`), read
    up to body_limit() + 1 bytes; None for a request with a length, which request.body reads.

    Django's request.body reads CONTENT_LENGTH bytes, none when the header is absent, so a
    chunked delivery was stored empty and the customer's message lost. A WSGI server hands such
    a body over de-chunked, its stream ending where the body ends: granian and gunicorn say so
    with `wsgi.input_terminated` (PEP 3333 allows no reading past CONTENT_LENGTH otherwise).
    Django's development server gives an empty stream here, which reads as an empty body."""
    meta = request.META
    if meta.get("CONTENT_LENGTH") or request.method != "POST" or "wsgi.input" not in meta:
        return None
    if not (meta.get("wsgi.input_terminated") or "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()):
        return None
    stream, wanted, chunks = meta["wsgi.input"], body_limit() + 1, []
    while wanted > 0:
        chunk = stream.read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    body = b"".join(chunks)
    request._body = body  # what request.body (and POST, and the adapters) read from now on
    meta["CONTENT_LENGTH"] = str(len(body))
    return body


# Channels by (kind, token), each with when it was read. A hook's two round trips (find the
# channel, store the event) were most of its cost; the cache saves the first. It cannot let a
# rotated URL or secret, or a deactivated channel, through: the INSERT itself checks that the
# channel still has this token and secret and is active, and stores nothing otherwise, and the
# request is then answered from a fresh read. Other settings (allowed origins, a rate limit)
# reach the hooks within CHANNEL_CACHE_SECONDS.
CHANNEL_CACHE_SECONDS = 5.0
_channels: dict[tuple[str, str], tuple[float, Channel]] = {}


def channels_forget(**_kwargs) -> None:
    _channels.clear()


class _ChannelChanged(Exception):
    """The cached channel no longer matches its row: answer again from a fresh read."""


def _active_channel(kind: str, token: str, *, fresh: bool = False) -> Channel | None:
    """The channel by its URL, as one SQL statement written out: compiling the ORM query cost
    ~0.3 ms, a sixth of a hook's CPU (bench_ingest); raw() still applies the fields' converters."""
    key, now = (kind, token), time.monotonic()
    hit = _channels.get(key)
    if hit is not None and not fresh and now - hit[0] < CHANNEL_CACHE_SECONDS:
        return hit[1]
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in Channel._meta.concrete_fields)
    sql = (f"SELECT {columns} FROM {q(Channel._meta.db_table)} "
           f"WHERE {q('kind')} = %s AND {q('token')} = %s AND {q('is_active')} = %s")
    channel = next(iter(Channel.objects.raw(sql, [kind, token, True])), None)
    if channel is None:
        _channels.pop(key, None)
    else:
        _channels[key] = (now, channel)
    return channel


# The columns _event_insert writes, in order; every other column of InboundEvent is NULL for a
# new event (locked_until, processed_at). A field added to the model must be added here too:
# test_hooks_event_insert compares this list with the model.
EVENT_COLUMNS = ("channel_id", "received_at", "headers", "body", "content_type", "event_type", "dedup_key",
                 "status", "attempts", "run_after", "error")


@lru_cache(maxsize=4)
def _insert_sql(vendor: str) -> str:
    """One INSERT ... SELECT ... WHERE EXISTS: the row is only written while the channel is active
    with the token and secret the request was checked against (see _channels)."""
    mark = "?" if vendor == "sqlite" else "%s"
    values = [mark] * len(EVENT_COLUMNS)
    if vendor == "postgresql":
        values[EVENT_COLUMNS.index("headers")] = "%s::jsonb"
    return (f"INSERT INTO {InboundEvent._meta.db_table} ({', '.join(EVENT_COLUMNS)}) "
            f"SELECT {', '.join(values)} WHERE EXISTS (SELECT 1 FROM {Channel._meta.db_table} "
            f"WHERE id = {mark} AND token = {mark} AND secret = {mark} AND is_active = {mark}) RETURNING id")


@dataclass(slots=True)
class Received:
    """A webhook's event as the hook stores it: what _event_insert writes and acknowledge reads.

    Not an InboundEvent instance: building the model instance was a tenth of a hook's CPU
    (bench_ingest). A delivery already held is answered with its InboundEvent row instead, which
    has the same attributes."""

    channel: Channel
    headers: dict[str, str]
    body: bytes
    content_type: str
    event_type: str
    dedup_key: str | None
    status: str = InboundEvent.Status.RECEIVED
    error: str = ""
    received_at: datetime = field(default_factory=timezone.now)
    pk: int | None = None


def _hook_cursor(raw: "psycopg.Connection") -> "psycopg.Cursor":
    """The connection's own server-binding cursor for the hook's INSERT (Django's cursors bind
    client side), kept on the connection: a new cursor builds its result loaders again for its
    first row, a third of the driver's time for this one-row answer. A connection is one
    thread's, and a new connection gets a new cursor."""
    cursor = getattr(raw, "_okno_hook_cursor", None)
    if cursor is None or cursor.closed:
        cursor = raw._okno_hook_cursor = psycopg.Cursor(raw)
    return cursor


def _event_insert(event: Received) -> None:
    """event.save() written out as one prepared INSERT on the driver's own connection.

    What the ORM adds to a hook was most of its CPU (bench_ingest, docs/benchmarks.md): its save
    and BEGIN/COMMIT round trips, each field's preparation, and, on PostgreSQL, Django's
    client-side binding, which makes the server parse and plan the statement again for every
    hook (the raw baseline's psycopg prepares it once). Here the values are built directly, the
    statement is prepared once per connection (PostgreSQL; sqlite3 caches it), and a single
    statement in autocommit is atomic by itself; inside an outer transaction (tests) a savepoint
    keeps a duplicate from breaking it. Driver errors arrive as Django's (IntegrityError for a
    held dedup key), and mark the connection as Django's own cursor would."""
    conn = connections[DEFAULT_DB_ALIAS]
    now, channel = event.received_at, event.channel
    headers = json.dumps(event.headers, ensure_ascii=False)
    if conn.vendor == "sqlite":
        now = conn.ops.adapt_datetimefield_value(now)
    params = (channel.pk, now, headers, event.body, event.content_type, event.event_type, event.dedup_key,
              event.status, 0, now, event.error, channel.pk, channel.token, channel.secret, True)
    sql = _insert_sql(conn.vendor)
    with transaction.atomic() if conn.in_atomic_block else nullcontext():
        conn.ensure_connection()
        with conn.wrap_database_errors:
            if conn.vendor == "postgresql":
                raw = conn.connection
                if raw.prepare_threshold is None:
                    # Django turns psycopg's prepared statements off; on, but never automatic, this
                    # connection prepares what asks for it (prepare=True) and nothing else.
                    raw.prepare_threshold = sys.maxsize
                row = _hook_cursor(raw).execute(sql, params, prepare=settings.OKNO_HOOK_PREPARED).fetchone()
            else:
                row = conn.connection.execute(sql, params).fetchone()
    if row is None:
        raise _ChannelChanged
    event.pk = row[0]


@csrf_exempt
def inbound_hook(request: HttpRequest, kind: str, token: str, rest: str = "") -> HttpResponse:
    try:
        return _receive(request, kind, token, rest, fresh=False)
    except _ChannelChanged:
        return _receive(request, kind, token, rest, fresh=True)


def _receive(request: HttpRequest, kind: str, token: str, rest: str, *, fresh: bool) -> HttpResponse:
    adapter = adapters.get(kind)
    channel = _active_channel(kind, token, fresh=fresh)
    if adapter is None or channel is None:
        return _refuse(request, 404, "No such channel")
    # A provider that may deliver an event as a GET (Telphin) puts its fields in the query string:
    # that is the event's body, stored before it is acknowledged like a POST's.
    body = adapter.query_body(request, channel) if request.method == "GET" and hasattr(adapter, "query_body") else b""
    if request.method == "GET" and hasattr(adapter, "probe") and not body:
        return adapter.probe(request, channel)
    if request.method == "OPTIONS" and hasattr(adapter, "preflight"):
        return adapter.preflight(request, channel)  # CORS: a browser asks before posting JSON
    if request.method != "POST" and not body:
        return JsonResponse({"detail": "Use POST"}, status=405)
    if not body:
        streamed = _streamed_body(request)
        if streamed is not None and len(streamed) > body_limit():
            return JsonResponse({"detail": f"Body over {body_limit()} bytes"}, status=413)
    body = body or request.body
    if len(body) > settings.OKNO_HOOK_MAX_BYTES:
        return JsonResponse({"detail": f"Body over {settings.OKNO_HOOK_MAX_BYTES} bytes"}, status=413)
    try:
        adapter.verify(request, channel)
        # An adapter may turn a request away without losing it (a rate limit): kept, marked ignored.
        not_admitted = adapter.admit(request, channel) if hasattr(adapter, "admit") else None
    except Refused as exc:
        if not exc.keep:
            return _refuse(request, exc.status, str(exc))
        # Proven the sender's, yet refused (a stale or replayed signed event): kept, marked
        # rejected with the reason, so that nothing a misconfigured setting refuses is lost.
        return _store_refused(request, adapter, channel, body, rest, status=exc.status, reason=str(exc))
    except Malformed as exc:
        # The adapter cannot read the body well enough to check its signature (a Mango or
        # Zadarma form that is not UTF-8): nothing proves it is the sender's, so nothing is kept.
        return _refuse(request, 400, f"Unreadable body: {exc}")
    by_get = request.method == "GET"  # whatever type a GET claims, its fields are form-encoded
    content_type = "application/x-www-form-urlencoded" if by_get else request.content_type or ""
    hazard = json_hazard(body)
    if hazard is None:
        try:
            event_type, dedup_key = adapter.event_type(body, content_type), adapter.dedup_key(body, content_type)
        except (RecursionError, ValueError) as exc:  # an adapter's own json.loads of a hostile body
            hazard = f"unreadable body: {str(exc)[:200]}"
    if hazard is not None:
        return _store_refused(request, adapter, channel, body, rest, status=400, reason=hazard)
    event = Received(
        channel=channel, headers=_headers(request), body=body,
        content_type=content_type if by_get else request.META.get("CONTENT_TYPE", ""),
        event_type=event_type[:100], dedup_key=dedup_key,
    )
    if adapter.path_events:
        event.event_type = rest[:100]
    if not_admitted:
        # No dedup key: the sender's retry, once admitted, is stored and processed as new.
        event.status, event.error, event.dedup_key = InboundEvent.Status.IGNORED, not_admitted, None
    try:
        _event_insert(event)
    except IntegrityError:
        # A retry of a delivery we already hold: acknowledge it, store nothing twice.
        event = InboundEvent.objects.get(channel=channel, dedup_key=event.dedup_key)
    return adapter.acknowledge(request, channel, event)


def _store_refused(request: HttpRequest, adapter, channel: Channel, body: bytes, rest: str, *, status: int,
                   reason: str) -> HttpResponse:
    """A body the channel keeps though it refuses it (JSON too deep or with a number too long to
    read, a stale or replayed signed event): stored as rejected with the reason (the problems
    page shows it, nothing is processed) and answered `status`, counted as a refusal. Beyond
    OKNO_HOOK_REFUSALS_PER_MINUTE refusals a minute from the address it is 429 and not stored,
    so a flood of them cannot fill the database; a repeat of one body is stored once."""
    if _refusals_exceeded(request):
        return JsonResponse({"detail": "Too many refused requests"}, status=429)
    event = Received(
        channel=channel, headers=_headers(request), body=body, content_type=request.META.get("CONTENT_TYPE", ""),
        event_type=rest[:100] if adapter.path_events else "", dedup_key="rejected:" + hashlib.sha256(body).hexdigest(),
        status=InboundEvent.Status.REJECTED, error=reason,
    )
    try:
        _event_insert(event)
    except IntegrityError:
        pass  # this very body was refused before and is kept already
    return JsonResponse({"detail": reason}, status=status)
