"""POST /stores/hooks/<token>/: the store's webhook is stored first, acknowledged second.

The token in the URL names the connection (and is the only proof for stores that sign nothing:
Tilda, InSales, pretix); WooCommerce's signature is checked before anything is stored. A refused
request is answered 401/403 with the reason and logged on the connection (while the client's
refusals stay under the hooks' per-minute limit, so a flood cannot fill the log).
"""

import json
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from okno.core.ratelimit import rate_limited
from okno.stores import adapters
from okno.stores.adapters.base import Refused
from okno.stores.models import StoreConnection, StoreEvent, StoreLog

log = logging.getLogger(__name__)
KEPT_HEADERS = ("CONTENT_TYPE", "HTTP_USER_AGENT", "HTTP_X_")


def _headers(request: HttpRequest) -> dict[str, str]:
    return {(name[5:] if name.startswith("HTTP_") else name).replace("_", "-").title(): value
            for name, value in request.META.items() if name.startswith(KEPT_HEADERS)}


def _refuse(request: HttpRequest, connection: StoreConnection | None, status: int, reason: str) -> JsonResponse:
    client = request.META.get("REMOTE_ADDR", "")
    if rate_limited(f"store-hook-refused:{client}", limit=settings.OKNO_HOOK_REFUSALS_PER_MINUTE, window_seconds=60):
        return JsonResponse({"detail": "Too many refused requests"}, status=429)
    if connection is not None:
        StoreLog.objects.create(connection=connection, kind=StoreLog.Kind.REFUSED,
                                message=_("%(status)s from %(client)s: %(reason)s") % {
                                    "status": status, "client": client, "reason": reason})
    log.warning("store webhook refused (%s): %s", status, reason)
    return JsonResponse({"detail": reason}, status=status)


@csrf_exempt
@require_POST
def store_hook(request: HttpRequest, token: str) -> JsonResponse:
    connection = StoreConnection.objects.filter(webhook_token=token, is_active=True).first()
    if connection is None:
        return _refuse(request, None, 404, "no active store connection at this address")
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.OKNO_HOOK_MAX_BYTES:
        return _refuse(request, connection, 413, "the body is larger than this address takes")
    body = request.body
    headers = _headers(request)
    adapter = adapters.get(connection.kind)
    try:
        adapter.verify(headers=headers, body=body, settings=connection.settings, query=request.GET.dict())
    except Refused as exc:
        return _refuse(request, connection, exc.status, str(exc))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(request, connection, 400, "the body is not UTF-8")
    event = StoreEvent.objects.create(connection=connection, source=StoreEvent.Source.WEBHOOK,
                                      topic=adapter.topic(headers=headers, body=text), headers=headers, body=text)
    return JsonResponse({"result": "ok", "event_id": event.pk})


def order_body(external_id: str, payload: dict) -> str:
    """The API's upsert as the okno adapter reads it (the path's id wins over the body's)."""
    return json.dumps({**payload, "external_id": external_id}, ensure_ascii=False, default=str)
