"""The stream of a user's pushes, as Server-Sent Events, when Django itself serves it.

The push process answers /push/stream below Django (okno.push.asgi), a coroutine per page.
This view is the WSGI path (the development server, the tests' live server): it polls in the
request's thread, for two minutes at a time; EventSource reconnects by itself and says where
it was.
"""

import time
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from okno.push.services import PING, cors_headers, push_latest_id, pushes_after, pushes_for_user_after

WSGI_STREAM_SECONDS = 120


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    return int(raw) if raw.isdigit() else None


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
    for name, value in cors_headers(request.headers.get("Origin", "")):
        response[name] = value


def push_stream(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        response = HttpResponse("log in first", status=401, content_type="text/plain")
        _allow_site_origin(request, response)
        return response
    last_id = _last_event_id(request)
    # From the moment of the request, not of the first read of the stream.
    stream = _stream_wsgi(user.pk, last_id, push_latest_id())
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise hold the pops back
    _allow_site_origin(request, response)
    return response
