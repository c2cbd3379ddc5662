"""The stream of a user's pushes, as Server-Sent Events.

Under ASGI (the push process, `scripts/push.sh`) a connection is a coroutine waiting on the
process's hub, so one process holds hundreds of them. Under WSGI (the development server, the
tests' live server) the same URL works by polling in the request's thread, for a few minutes at
a time; EventSource reconnects by itself and says where it was.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from okno.push.hub import get_hub
from okno.push.services import push_latest_id, pushes_after, pushes_for_user_after

PING = b": ping\n\n"  # keeps proxies from closing an idle stream, and finds dead connections
PING_SECONDS = 15
WSGI_STREAM_SECONDS = 120


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    return int(raw) if raw.isdigit() else None


async def _stream_asgi(user_id: int, last_id: int | None) -> AsyncIterator[bytes]:
    hub = get_hub()
    queue = await hub.subscribe(user_id)
    try:
        yield b"retry: 1000\n\n"
        if last_id is not None:
            for delivery in await asyncio.to_thread(pushes_for_user_after, user_id, last_id):
                yield delivery.as_sse()
        while True:
            try:
                delivery = await asyncio.wait_for(queue.get(), timeout=PING_SECONDS)
            except TimeoutError:
                yield PING
                continue
            if last_id is None or delivery.id > last_id:
                yield delivery.as_sse()
    finally:
        hub.unsubscribe(user_id, queue)


def _stream_wsgi(user_id: int, last_id: int | None, start_id: int) -> Iterator[bytes]:
    try:
        yield b"retry: 1000\n\n"
        if last_id is not None:
            for delivery in pushes_for_user_after(user_id, last_id):
                yield delivery.as_sse()
        last_id = max(last_id or 0, start_id)
        stop = time.monotonic() + WSGI_STREAM_SECONDS
        next_ping = time.monotonic() + 1
        while time.monotonic() < stop:
            time.sleep(settings.OKNO_PUSH_POLL_SECONDS)
            try:
                found = pushes_after(last_id)
            except DatabaseError:  # the tab reconnects in a second (retry) and resumes from its last id
                return
            for delivery in found:
                last_id = delivery.id
                if delivery.user_id == user_id:
                    yield delivery.as_sse()
            if time.monotonic() >= next_ping:
                # Writing is how a WSGI server finds the tab gone, and frees this thread.
                next_ping = time.monotonic() + 1
                yield PING
    finally:
        # This thread's connection is not a request's any more: do not leave it open.
        connection.close()


def _allow_site_origin(request: HttpRequest, response: HttpResponse) -> None:
    """The push process may listen on its own port (make demo): the site's pages may read it."""
    origin = request.headers.get("Origin", "")
    site = urlsplit(settings.SITE_URL)
    if origin and origin == f"{site.scheme}://{site.netloc}":
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"


async def push_stream(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    if not user.is_authenticated:
        response = HttpResponse("log in first", status=401, content_type="text/plain")
        _allow_site_origin(request, response)
        return response
    last_id = _last_event_id(request)
    if isinstance(request, ASGIRequest):
        stream = _stream_asgi(user.pk, last_id)
    else:
        # From the moment of the request, not of the first read of the stream.
        stream = _stream_wsgi(user.pk, last_id, await sync_to_async(push_latest_id)())
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the pops back
    _allow_site_origin(request, response)
    return response
