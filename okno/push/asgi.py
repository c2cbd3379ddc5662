"""The push process's ASGI application (granian, `--interface asgi`; docs/architecture.md).

/push/stream is answered here, below Django's handler: through Django each open stream kept a
thread of its own and, in it, a database connection (the session lookup's), so a hundred
pages exhausted PostgreSQL's connections (bench_pbx). Here a stream is one coroutine; the
session is checked once on a small shared thread pool, and the stream then waits on the
process's hub. Every other path goes to Django; the lifespan protocol is answered.
"""

import asyncio
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.http.cookie import parse_cookie  # noqa: E402

from okno.push.hub import get_hub  # noqa: E402
from okno.push.services import PING, cors_headers, pushes_for_user_after, session_user_id  # noqa: E402

STREAM_PATH = "/push/stream"
PING_SECONDS = 15


async def application(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        # Django's handler refuses anything but HTTP; the server only needs to hear "ready".
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope["path"] == STREAM_PATH:
        await stream(scope, receive, send)
        return
    await django_application(scope, receive, send)


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _disconnect(receive) -> None:
    # The request's (empty) body comes first; only http.disconnect means the page went away.
    while (await receive())["type"] != "http.disconnect":
        pass


async def stream(scope, receive, send) -> None:
    headers = _headers(scope)
    cors = [(k.lower().encode(), v.encode()) for k, v in cors_headers(headers.get("origin", ""))]
    session_key = parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME, "")
    user_id = await sync_to_async(session_user_id, thread_sensitive=False)(session_key) if session_key else None
    if user_id is None:
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"text/plain"), *cors]})
        await send({"type": "http.response.body", "body": b"log in first"})
        return
    raw_last = headers.get("last-event-id", "")
    last_id = int(raw_last) if raw_last.isdigit() else None
    hub = get_hub()
    queue = await hub.subscribe(user_id)
    disconnected = asyncio.ensure_future(_disconnect(receive))
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"), *cors]})  # nginx would otherwise hold the pops back
        await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
        if last_id is not None:
            missed = await sync_to_async(pushes_for_user_after, thread_sensitive=False)(user_id, last_id)
            for delivery in missed:
                await send({"type": "http.response.body", "body": delivery.as_sse(), "more_body": True})
        while True:
            next_push = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({next_push, disconnected}, timeout=PING_SECONDS,
                                         return_when=asyncio.FIRST_COMPLETED)
            if disconnected in done:
                next_push.cancel()
                return
            if next_push in done:
                delivery = next_push.result()
                if last_id is None or delivery.id > last_id:
                    await send({"type": "http.response.body", "body": delivery.as_sse(), "more_body": True})
            else:
                next_push.cancel()
                # A comment line keeps proxies from closing an idle stream.
                await send({"type": "http.response.body", "body": PING, "more_body": True})
    except OSError:  # the client went away mid-write
        return
    finally:
        disconnected.cancel()
        hub.unsubscribe(user_id, queue)
