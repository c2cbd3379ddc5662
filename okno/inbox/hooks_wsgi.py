"""The web entry's fast path: /hooks/<kind>/<token>/... answered below Django's handler.

A webhook carries no session, cookie or language and its view is CSRF-exempt, so none of the
browser's machinery applies to it, yet Django's WSGIHandler, its request signals, URL
resolving and the response's close cost a fifth of a hook's CPU in a profile; answered here,
the web process spends about 15 % less CPU per hook (bench_ingest, docs/benchmarks.md,
2026-11-23). Here a /hooks/ request is turned into a WSGIRequest (the adapters read
body, headers, META, method, GET and content_type, all of which it gives), handed to the hook
view, and its HttpResponse written out as WSGI; every other path goes to Django untouched.

What Django's handler gave and this keeps:
- Connection hygiene. request_started and request_finished each run close_old_connections
  (a connection past CONN_MAX_AGE, left out of autocommit, or unusable after an error is
  closed). It is called directly, before and after, without the signals. Before the request
  this also notices, without a round trip, a connection that died while idle (the server
  restarted or terminated it): Django would send the request's first query into the dead
  socket, fail the hook with a 500 and replace the connection only after it.
- request_finished's close_caches (a memcached or Redis client is let go per request).
- An exception becomes an answer: Http404, PermissionDenied and bad requests as Django maps
  them, a body over DATA_UPLOAD_MAX_MEMORY_SIZE as 413 (Django answers 400), anything else is
  logged, sent to got_request_exception (error reporters listen there) and answered 500 with
  no detail: a traceback never goes to the sender.
- The script prefix, for reverse() in an answer (Jivo's card links to the contact).
A chunked body (no CONTENT_LENGTH, wsgi.input ending with the body) is read by the hook view
itself (views_hooks._streamed_body), the same under this entry and under Django's handler.
Not kept: the middleware (none applies), request_started/request_finished themselves (a
receiver added later will not hear hooks) and reset_queries (DEBUG's query log, bounded anyway).
"""

import logging
import re
import select
import threading
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.db import connections
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import set_script_prefix

from okno.core.ratelimit import PER_PROCESS_CACHES
from okno.inbox.views_hooks import inbound_hook

log = logging.getLogger(__name__)

PREFIX = "/hooks/"
# okno/urls.py's two hook routes as one pattern: <str:kind>/<str:token>/ and then <path:rest>,
# empty for the first route ([^/]+ and .+ are what Django's str and path converters match).
ROUTE = re.compile(r"/hooks/(?P<kind>[^/]+)/(?P<token>[^/]+)/(?P<rest>.*)")

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def _socket_readable(fd: int) -> bool:
    poller = select.poll()  # not select.select: a busy process may have descriptors over 1024
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _dead_while_idle(conn) -> bool:
    """True when the connection cannot serve a query, seen without sending one.

    PostgreSQL: the driver already knows it closed, or the socket is readable. Between requests
    an autocommit connection has read every answer it asked for (Okno does not LISTEN), so
    something to read means the server's farewell (terminated, restarted) and end of file; at
    worst a stray message costs one reconnect. One poll() is a system call, not a round trip
    (CONN_HEALTH_CHECKS would send a query per request). SQLite dies only by a closed handle."""
    raw = conn.connection
    if raw is None:
        return False
    if conn.vendor == "postgresql":
        return bool(raw.closed or getattr(raw, "broken", False) or _socket_readable(raw.fileno()))
    if conn.vendor == "sqlite":
        try:
            raw.in_transaction  # noqa: B018 - the check itself: a closed handle raises
        except Exception:  # noqa: BLE001 - sqlite3.ProgrammingError, whatever its module
            return True
    return False


_thread = threading.local()


def _thread_connections() -> list:
    """This thread's database connections, as connections.all(initialized_only=True) lists them.

    Kept per thread once the list holds one: a thread's connection objects, once made, stay for
    its life (closing one keeps the object), while each walk reads a context-local twice per
    alias (two walks were a tenth of a hook's CPU). New storage (a test swapping DATABASES) is
    noticed and walked again. A hook uses the default database only; a second alias opened
    later by a page served in the same thread is looked after by Django's own handler."""
    storage = connections._connections
    kept = getattr(_thread, "connections", None)
    if kept is not None and kept[0] is storage:
        return kept[1]
    found = connections.all(initialized_only=True)
    if found:
        _thread.connections = (storage, found)
    return found


def connections_ready() -> None:
    """request_started's close_old_connections, plus a dead idle connection replaced."""
    for conn in _thread_connections():
        conn.close_if_unusable_or_obsolete()
        if conn.connection is not None and not conn.in_atomic_block and _dead_while_idle(conn):
            conn.close()  # the next query opens a new one


def connections_release() -> None:
    """What request_finished runs, minus reset_urlconf: hooks never set a urlconf of their own."""
    for conn in _thread_connections():
        conn.close_if_unusable_or_obsolete()
    if any(c["BACKEND"] not in PER_PROCESS_CACHES for c in settings.CACHES.values()):
        close_caches()  # a client of a cache server lets its connection go; local memory holds none


def _error_response(request: WSGIRequest | None, exc: Exception, kind: str) -> HttpResponse:
    if isinstance(exc, Http404):
        return JsonResponse({"detail": "Not found"}, status=404)
    if isinstance(exc, PermissionDenied):
        return JsonResponse({"detail": "Forbidden"}, status=403)
    if isinstance(exc, RequestDataTooBig):
        return JsonResponse({"detail": "Body too large"}, status=413)
    if isinstance(exc, (BadRequest, SuspiciousOperation)):
        return JsonResponse({"detail": "Bad request"}, status=400)
    # The token stays out of the log: it is the channel's secret URL.
    log.error("Webhook of kind %r failed", kind, exc_info=exc)
    signals.got_request_exception.send(sender=None, request=request)
    return JsonResponse({"detail": "Server error"}, status=500)


def _hook_response(environ: dict) -> HttpResponse:
    request, kind = None, ""
    try:
        set_script_prefix(get_script_name(environ))
        connections_ready()
        request = WSGIRequest(environ)
        match = ROUTE.fullmatch(request.path_info)  # decoded as Django decodes it for its resolver
        if match is None:  # /hooks/ but neither route: no view, as Django's resolver would say
            return JsonResponse({"detail": "No such channel"}, status=404)
        kind = match["kind"]
        response = inbound_hook(request, kind, match["token"], match["rest"])
        response.content  # noqa: B018 - a streaming or broken answer fails here, inside the try
        return response
    except Exception as exc:  # noqa: BLE001 - every failure must become an answer
        return _error_response(request, exc, kind)
    finally:
        try:
            connections_release()
        except Exception:  # noqa: BLE001 - the answer stands; the next request's check retries
            log.exception("Closing connections after a webhook failed")


def hook_application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """Answers one /hooks/ request (the caller has checked the prefix); connections are checked
    before and released after, so the body handed back holds nothing open."""
    response = _hook_response(environ)
    body = response.content
    headers = list(response.items())
    if not response.has_header("Content-Length"):
        # Without it the server answers chunked; keep-alive senders read a length.
        headers.append(("Content-Length", str(len(body))))
    headers += [("Set-Cookie", c.output(header="")) for c in response.cookies.values()]
    start_response(f"{response.status_code} {response.reason_phrase}", headers)
    return [body]


def with_hooks(django_application: WSGIApp) -> WSGIApp:
    """The site's WSGI callable: /hooks/ answered here, everything else by Django."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return hook_application(environ, start_response)
        return django_application(environ, start_response)

    return application
