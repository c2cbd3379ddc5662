"""POST /hooks/<kind>/<token>/...: store first, acknowledge second, process in the worker."""

import logging
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


def _active_channel(kind: str, token: str) -> Channel | None:
    """The channel by its URL, as one SQL statement written out: compiling the ORM query cost
    ~0.3 ms, a sixth of a hook's CPU (bench_ingest); raw() still applies the fields' converters."""
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in Channel._meta.concrete_fields)
    sql = (f"SELECT {columns} FROM {q(Channel._meta.db_table)} "
           f"WHERE {q('kind')} = %s AND {q('token')} = %s AND {q('is_active')} = %s")
    return next(iter(Channel.objects.raw(sql, [kind, token, True])), None)


def _event_insert(event: InboundEvent) -> None:
    """event.save() written out as one INSERT in autocommit: the ORM's save and its BEGIN/COMMIT
    round trips were two fifths of a hook's CPU (bench_ingest). A single statement is atomic by
    itself; inside an outer transaction (tests) a savepoint keeps a duplicate from breaking it."""
    meta, q = InboundEvent._meta, connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    params = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in fields]
    sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    returning = connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {q(meta.pk.column)}"
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        event.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    event._state.adding, event._state.db = False, connection.alias


@csrf_exempt
def inbound_hook(request: HttpRequest, kind: str, token: str, rest: str = "") -> HttpResponse:
    adapter = adapters.get(kind)
    channel = _active_channel(kind, token)
    if adapter is None or channel is None:
        return _refuse(request, 404, "No such channel")
    if request.method == "GET" and hasattr(adapter, "probe"):
        return adapter.probe(request, channel)
    if request.method == "OPTIONS" and hasattr(adapter, "preflight"):
        return adapter.preflight(request, channel)  # CORS: a browser asks before posting JSON
    if request.method != "POST":
        return JsonResponse({"detail": "Use POST"}, status=405)
    if len(request.body) > settings.OKNO_HOOK_MAX_BYTES:
        return JsonResponse({"detail": f"Body over {settings.OKNO_HOOK_MAX_BYTES} bytes"}, status=413)
    try:
        adapter.verify(request, channel)
        # An adapter may turn a request away without losing it (a rate limit): kept, marked ignored.
        not_admitted = adapter.admit(request, channel) if hasattr(adapter, "admit") else None
    except Refused as exc:
        return _refuse(request, exc.status, str(exc))
    body, content_type = request.body, request.content_type or ""
    event = InboundEvent(
        channel=channel, headers=_headers(request), body=body, content_type=request.META.get("CONTENT_TYPE", ""),
        event_type=adapter.event_type(body, content_type)[:100], dedup_key=adapter.dedup_key(body, content_type),
    )
    if not_admitted:
        # No dedup key: the sender's retry, once admitted, is stored and processed as new.
        event.status, event.error, event.dedup_key = InboundEvent.Status.IGNORED, not_admitted, None
    try:
        _event_insert(event)
    except IntegrityError:
        # A retry of a delivery we already hold: acknowledge it, store nothing twice.
        event = InboundEvent.objects.get(channel=channel, dedup_key=event.dedup_key)
    return adapter.acknowledge(request, channel, event)
