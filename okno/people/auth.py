"""API authentication: a per-user bearer token for programs, the session for the UI.

Also the login throttle's two hooks (django-axes, settings "Login throttling"): its backend, and
the client's address behind the TLS proxy."""

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from okno.people.models import ApiToken


class BearerToken(HttpBearer):
    """`Authorization: Bearer okno_...`: a valid (not revoked, not expired) token of an active user.

    Not throttled by axes: a token is 256 random bits, not a password one could guess."""

    def authenticate(self, request: HttpRequest, token: str):
        now = timezone.now()
        row = ApiToken.objects.valid(now).select_related("user").filter(key_hash=ApiToken.hash(token)).first()
        if row is None or not row.user.is_active:
            return None
        # Touch at most once a minute: a busy integration must not write on every call.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        request.api_token = row
        return row.user


api_auth = [BearerToken(), SessionAuth()]


class LoginThrottleBackend(AxesStandaloneBackend):
    """axes' backend, first in AUTHENTICATION_BACKENDS: refuses a locked-out account or address.

    A call without a request is not a login over HTTP (Django's test client `login()`, a script)
    and has no address to count: axes would raise; it passes to the next backend instead. Every
    HTTP login (the login page; the API has no password login) carries its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username axes counts: as typed, cut to the longest a user's can be (150).

    Django's login form does not enforce its username's length, so a 300-character name reached
    axes, whose column holds 255: PostgreSQL refused the row and the login answered 500. No
    account has a longer name, so the cut loses nothing a lockout needs."""
    field = settings.AXES_USERNAME_FORM_FIELD
    name = credentials.get(field) if credentials else request.POST.get(field)
    return name[:150] if isinstance(name, str) else name


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind `OKNO_TRUSTED_PROXIES` proxies the address the
    outermost of them saw, read from the right of X-Forwarded-For.

    Each proxy appends the address it received the request from, so with N trusted proxies the
    N-th entry from the right is the client as our first proxy saw it; entries left of it are
    whatever the client wrote itself and are never trusted. A header with fewer entries than
    proxies (a request that bypassed them) falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "OKNO_TRUSTED_PROXIES", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote
