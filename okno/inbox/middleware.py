"""Webhooks skip the browser's middleware.

A provider's POST to /hooks/... carries no session, cookie or language and is CSRF-exempt, yet
the full stack (sessions, locale, CSRF, auth, messages, htmx) cost about a third of its time
(bench_ingest). Placed right after SecurityMiddleware, this answers /hooks/ paths from the view
directly; every other path goes down the stack as before.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import resolve

PREFIX = "/hooks/"


class HooksFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        match = resolve(request.path_info)  # Resolver404 becomes the usual 404 in the handler
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        if not response.streaming and not response.has_header("Content-Length"):
            # As CommonMiddleware does: keep-alive clients need it (else chunked encoding).
            response.headers["Content-Length"] = str(len(response.content))
        return response
