"""The worker's store drains: stored orders in, statuses out, and the periodic reconciliation.

Each claims its rows with a lease (okno.core.leases), so a worker killed mid-batch leaves them
to another, and records every failure with its reason and a retry time: nothing is lost.
"""

import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from okno.core.leases import claim_batch
from okno.core.reasons import reason_text
from okno.stores import adapters
from okno.stores.adapters.base import Ignored, Malformed, StoreUnreachable
from okno.stores.models import StoreConnection, StoreEvent, StoreLog, StoreOrder, StoreWrite
from okno.stores.sync import Held, store_order_take

log = logging.getLogger(__name__)

BATCH = 100
WRITE_BATCH = 20
LEASE_SECONDS = 120
MAX_ATTEMPTS = 8
# A store's API is polled this often for orders its webhooks may have missed.
POLL_SECONDS = int(getattr(settings, "OKNO_STORE_POLL_SECONDS", 300))
# Polled from a little before the last sync: a store's clock and its listing lag a little.
POLL_OVERLAP = timedelta(minutes=2)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(10 * 3 ** max(attempts - 1, 0), 6 * 3600))


def store_event_process(event: StoreEvent) -> StoreEvent:
    """Takes one stored order in its own transaction; a failure is recorded, never raised."""
    connection = event.connection
    adapter = adapters.get(connection.kind)
    now = timezone.now()
    done = {"processed_at": now, "locked_until": None}
    try:
        with transaction.atomic():
            body = adapter.expand(settings=connection.settings, body=event.body)
            orders = adapter.parse(body=body, headers=event.headers)
            taken = [store_order_take(connection=connection, order=order) for order in orders]
            update = {**done, "status": StoreEvent.Status.DONE, "reason": "", "error": "",
                      "external_id": orders[0].external_id if orders else ""}
        # A new order made at the first stage because its own refused it: its deal is kept
        # (committed above), its status held as a refused move is.
        held = next((t.held for t in taken if t.held is not None), None)
        if held is not None:
            raise held
    except Held as exc:
        update = {**done, "status": StoreEvent.Status.PROBLEM, "reason": exc.reason, "error": str(exc)}
        StoreLog.objects.create(connection=connection, kind=StoreLog.Kind.PROBLEM,
                                message=_("event %(event)s (%(reason)s): %(message)s") % {
                                    "event": event.pk, "reason": exc.reason, "message": exc})
    except Malformed as exc:
        update = {**done, "status": StoreEvent.Status.REJECTED, "reason": "malformed", "error": str(exc)}
    except Ignored as exc:
        update = {**done, "status": StoreEvent.Status.IGNORED, "reason": "ignored", "error": str(exc)}
    except Exception as exc:  # the store down (pretix's fetch), a bug: keep, retry with back-off
        error = str(exc) if isinstance(exc, StoreUnreachable) else traceback.format_exc(limit=6)
        log.warning("store event %s failed: %s", event.pk, error)
        update = {"locked_until": None, "error": error, "reason": "error",
                  "run_after": now + backoff(event.attempts)}
        if event.attempts >= MAX_ATTEMPTS:
            update["status"] = StoreEvent.Status.FAILED
    StoreEvent.objects.filter(pk=event.pk).update(**update)
    for key, value in update.items():
        setattr(event, key, value)
    return event


def store_events_drain(batch: int = BATCH) -> int:
    ids = claim_batch(StoreEvent, ready=Q(status=StoreEvent.Status.RECEIVED), limit=batch,
                      lease_seconds=LEASE_SECONDS)
    for event in StoreEvent.objects.filter(pk__in=ids).select_related("connection").order_by("pk"):
        store_event_process(event)
    return len(ids)


def store_write_send(write: StoreWrite) -> None:
    """Sends one status to the store (no transaction held over the call), then records the answer."""
    connection, stored = write.connection, write.order
    adapter = adapters.get(connection.kind)
    now = timezone.now()
    try:
        written = adapter.write_status(settings=connection.settings, external_id=stored.external_id,
                                       status=write.status)
    except StoreUnreachable as exc:
        gave_up = exc.permanent or write.attempts >= MAX_ATTEMPTS
        StoreWrite.objects.filter(pk=write.pk, state=StoreWrite.State.PENDING).update(
            last_error=str(exc)[:2000], locked_until=None, run_after=now + backoff(write.attempts),
            state=StoreWrite.State.GAVE_UP if gave_up else StoreWrite.State.PENDING)
        StoreLog.objects.create(connection=connection, order=stored, kind=StoreLog.Kind.WRITE_FAILED,
                                message=(_("%(order)s → %(status)s: %(error)s (given up)") if gave_up
                                         else _("%(order)s → %(status)s: %(error)s (will retry)")) % {
                                    "order": stored.external_id, "status": write.status,
                                    "error": reason_text(str(exc))})
        return
    with transaction.atomic():
        sent = StoreWrite.objects.filter(pk=write.pk, state=StoreWrite.State.PENDING).update(
            state=StoreWrite.State.SENT, sent_at=now, locked_until=None, last_error="",
            # The store said its new time: its echo will be stale by that alone.
            echo_seen=written.updated_at is not None or written.version is not None)
        fields = {"last_written_status": write.status, "last_written_at": now}
        if sent and (written.updated_at is not None or written.version is not None):
            fields["store_status"] = write.status
            if written.updated_at is not None:
                fields["store_updated_at"] = written.updated_at
            if written.version is not None:
                fields["store_version"] = written.version
        StoreOrder.objects.filter(pk=stored.pk).update(**fields)
        StoreLog.objects.create(connection=connection, order=stored, kind=StoreLog.Kind.WRITTEN,
                                message=f"{stored.external_id} → {write.status}")


def store_writes_drain(batch: int = WRITE_BATCH) -> int:
    ids = claim_batch(StoreWrite, ready=Q(state=StoreWrite.State.PENDING), limit=batch,
                      lease_seconds=LEASE_SECONDS)
    for write in StoreWrite.objects.filter(pk__in=ids).select_related("connection", "order").order_by("pk"):
        store_write_send(write)
    return len(ids)


def store_connection_poll(connection: StoreConnection) -> int:
    """Stores each order the store's API lists as changed since the last sync and newer than
    what Okno has; the drain of events takes them like webhooks. Returns how many were stored."""
    adapter = adapters.get(connection.kind)
    now = timezone.now()
    since = connection.last_sync_at - POLL_OVERLAP if connection.last_sync_at else None
    try:
        bodies = adapter.list_changed(settings=connection.settings, since=since)
    except StoreUnreachable as exc:
        StoreConnection.objects.filter(pk=connection.pk).update(
            last_error=str(exc)[:2000], locked_until=None, run_after=now + timedelta(seconds=POLL_SECONDS))
        StoreLog.objects.create(connection=connection, kind=StoreLog.Kind.POLL_FAILED,
                                message=reason_text(str(exc))[:2000])
        return 0
    known = {o.external_id: o for o in connection.orders.all()} if bodies else {}
    stored, newest = 0, connection.last_sync_at
    for body in bodies:
        try:
            order = adapter.parse(body=body, headers={})[0]
        except (Malformed, Ignored, IndexError):
            continue
        if order.updated_at and (newest is None or order.updated_at > newest):
            newest = order.updated_at
        have = known.get(order.external_id)
        if have is not None and not _newer(have, order):
            continue
        StoreEvent.objects.create(connection=connection, source=StoreEvent.Source.POLL, topic="poll", body=body,
                                  external_id=order.external_id)
        stored += 1
    StoreConnection.objects.filter(pk=connection.pk).update(
        last_sync_at=newest or now, last_error="", locked_until=None, run_after=now + timedelta(seconds=POLL_SECONDS))
    if stored:
        StoreLog.objects.create(connection=connection, kind=StoreLog.Kind.POLLED,
                                message=ngettext("%(n)s changed order caught up by polling",
                                                 "%(n)s changed orders caught up by polling", stored) % {"n": stored})
    return stored


def _newer(have: StoreOrder, order) -> bool:
    if order.version is not None and have.store_version is not None:
        return order.version > have.store_version
    if order.updated_at is not None and have.store_updated_at is not None:
        return order.updated_at > have.store_updated_at or order.status != have.store_status
    return order.status != have.store_status


def store_polls_drain(batch: int = 5) -> int:
    ids = claim_batch(StoreConnection, ready=Q(is_active=True), limit=batch, lease_seconds=LEASE_SECONDS)
    for connection in StoreConnection.objects.filter(pk__in=ids):
        adapter = adapters.get(connection.kind)
        if adapter is None or not adapter.can_poll:
            StoreConnection.objects.filter(pk=connection.pk).update(
                locked_until=None, run_after=timezone.now() + timedelta(days=1))
            continue
        store_connection_poll(connection)
    return len(ids)
