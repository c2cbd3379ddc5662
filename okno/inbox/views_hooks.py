"""POST /hooks/<kind>/<token>/...: store first, acknowledge second, process in the worker."""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
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


@csrf_exempt
def inbound_hook(request: HttpRequest, kind: str, token: str, rest: str = "") -> HttpResponse:
    adapter = adapters.get(kind)
    channel = Channel.objects.filter(kind=kind, token=token, is_active=True).first()
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
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # A retry of a delivery we already hold: acknowledge it, store nothing twice.
        event = InboundEvent.objects.get(channel=channel, dedup_key=event.dedup_key)
    return adapter.acknowledge(request, channel, event)
