"""POST /hooks/<kind>/<token>/...: store first, acknowledge second, process in the worker."""

import logging
import time
from contextlib import nullcontext

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from okno.core.ratelimit import rate_limited
from okno.inbox import adapters
from okno.inbox.adapters.base import Refused
from okno.inbox.models import Channel, InboundEvent

log = logging.getLogger(__name__)

# Headers worth keeping with the raw body (signatures, content type, provider ids); the
# rest (cookies, proxies' additions) is noise and sometimes personal data.
KEPT_HEADERS = ("content-type", "user-agent", "x-", "signature", "authorization")


def _headers(request: HttpRequest) -> dict[str, str]:
    return {k: v for k, v in request.headers.items()
            if k.lower().startswith(KEPT_HEADERS) and k.lower() != "authorization"}


def _refuse(request: HttpRequest, status: int, reason: str) -> HttpResponse:
    client = request.META.get("REMOTE_ADDR", "")
    if rate_limited(f"hook-refused:{client}", limit=settings.OKNO_HOOK_REFUSALS_PER_MINUTE, window_seconds=60):
        return JsonResponse({"detail": "Too many refused requests"}, status=429)
    return JsonResponse({"detail": reason}, status=status)


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


def _event_insert(event: InboundEvent) -> None:
    """event.save() written out as one INSERT in autocommit: the ORM's save and its BEGIN/COMMIT
    round trips were two fifths of a hook's CPU (bench_ingest). A single statement is atomic by
    itself; inside an outer transaction (tests) a savepoint keeps a duplicate from breaking it.
    The row is only written while the channel is active with the token and secret the request
    was checked against (see _channels); otherwise _ChannelChanged."""
    meta, q = InboundEvent._meta, connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    params = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in fields]
    channel = event.channel
    sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
           f"SELECT {', '.join(['%s'] * len(fields))} WHERE EXISTS (SELECT 1 FROM {q(Channel._meta.db_table)} "
           f"WHERE {q('id')} = %s AND {q('token')} = %s AND {q('secret')} = %s AND {q('is_active')} = %s)")
    params += [channel.pk, channel.token, channel.secret, True]
    returning = connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {q(meta.pk.column)}"
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount == 0 if not returning else (row := cursor.fetchone()) is None:
            raise _ChannelChanged
        event.pk = row[0] if returning else cursor.lastrowid
    event._state.adding, event._state.db = False, connection.alias


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
    body = body or request.body
    if len(body) > settings.OKNO_HOOK_MAX_BYTES:
        return JsonResponse({"detail": f"Body over {settings.OKNO_HOOK_MAX_BYTES} bytes"}, status=413)
    try:
        adapter.verify(request, channel)
        # An adapter may turn a request away without losing it (a rate limit): kept, marked ignored.
        not_admitted = adapter.admit(request, channel) if hasattr(adapter, "admit") else None
    except Refused as exc:
        return _refuse(request, exc.status, str(exc))
    by_get = request.method == "GET"  # whatever type a GET claims, its fields are form-encoded
    content_type = "application/x-www-form-urlencoded" if by_get else request.content_type or ""
    event = InboundEvent(
        channel=channel, headers=_headers(request), body=body,
        content_type=content_type if by_get else request.META.get("CONTENT_TYPE", ""),
        event_type=adapter.event_type(body, content_type)[:100], dedup_key=adapter.dedup_key(body, content_type),
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
