"""Sending a push to users' browsers, and reading the pushes a connection has not had yet."""

import json
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Max
from django.utils import timezone

from okno.push.models import Push

KEEP = timedelta(days=1)
PING = b": ping\n\n"  # an SSE comment: keeps proxies from closing an idle stream, finds dead ones
# A tab that reconnects after a longer gap is not shown what rang meanwhile: that call is over.
REPLAY = timedelta(seconds=60)


@dataclass(frozen=True)
class Delivery:
    id: int
    user_id: int
    kind: str
    payload: dict

    def as_sse(self) -> bytes:
        """The Server-Sent Events frame: the id lets a reconnecting EventSource say where it was."""
        data = json.dumps(self.payload, ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.kind}\ndata: {data}\n\n".encode()


def push_send(*, user_ids: list[int], kind: str, key: str, payload: dict) -> int:
    """Queues `payload` for each user's open tabs, once per (user, kind, key); returns how many."""
    rows = [Push(user_id=u, kind=kind, key=key[:64], payload=payload) for u in dict.fromkeys(user_ids)]
    return len(Push.objects.bulk_create(rows, ignore_conflicts=True))


def _deliveries(qs, limit: int) -> list[Delivery]:
    return [Delivery(*row) for row in qs.order_by("pk").values_list("pk", "user_id", "kind", "payload")[:limit]]


def push_latest_id() -> int:
    return Push.objects.aggregate(m=Max("pk"))["m"] or 0


def pushes_after(after_id: int, *, limit: int = 1000) -> list[Delivery]:
    """Every user's pushes newer than `after_id`: one query per poll, whoever is connected."""
    return _deliveries(Push.objects.filter(pk__gt=after_id), limit)


def pushes_with_ids(ids: list[int]) -> list[Delivery]:
    """The pushes of these ids that are there now (ids the poller skipped while their insert was
    not yet committed)."""
    return _deliveries(Push.objects.filter(pk__in=ids), len(ids))


def pushes_for_user_after(user_id: int, after_id: int, *, limit: int = 100) -> list[Delivery]:
    """A reconnecting tab's missed pushes (its Last-Event-ID), if they are still news."""
    return _deliveries(Push.objects.filter(user_id=user_id, pk__gt=after_id,
                                           created_at__gte=timezone.now() - REPLAY), limit)


def site_origin() -> str:
    site = urlsplit(settings.SITE_URL)
    return f"{site.scheme}://{site.netloc}"


def cors_headers(origin: str) -> list[tuple[str, str]]:
    """The push process may listen on its own port (make demo): the site's own pages may read it.

    The one origin check of both stream paths (the ASGI process and the WSGI view)."""
    if origin and origin == site_origin():
        return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true"),
                ("Vary", "Origin")]
    return []


def session_user_id(session_key: str) -> int | None:
    """The signed-in, active user of a session cookie, checked as Django's auth checks it (the
    password hash in the session must still match), or None. Its connection is closed after:
    the push process asks this once per page opened, from a small shared thread pool."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import constant_time_compare

    from okno.people.models import User

    try:
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        raw_id = session.get(SESSION_KEY)
        user = User.objects.filter(pk=int(raw_id), is_active=True).first() if raw_id is not None else None
        if user is None or not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
            return None
        return user.pk
    except (ValueError, TypeError):
        return None
    finally:
        close_old_connections()


def pushes_forget_old(batch: int = 5000) -> int:
    """The worker's drain: pushes older than a day announce nothing any more."""
    ids = list(Push.objects.filter(created_at__lt=timezone.now() - KEEP).values_list("pk", flat=True)[:batch])
    if ids:
        Push.objects.filter(pk__in=ids).delete()
    return len(ids)
