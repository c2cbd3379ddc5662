"""The worker's drain of stored inbound events: batches, leases, one savepoint per event."""

import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from okno.core.leases import claim_batch
from okno.inbox import adapters
from okno.inbox.adapters.base import Ignored, Malformed, UnknownEvent
from okno.inbox.batch import inbound_events_record_new_customers
from okno.inbox.items import InboundItem
from okno.inbox.models import InboundEvent
from okno.inbox.services import inbound_item_record

log = logging.getLogger(__name__)

BATCH = 200
MAX_ATTEMPTS = 5


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(10 * 4 ** (attempts - 1), 3600))


def process_event(event: InboundEvent) -> None:
    """Processes one event in its own transaction; its failure is recorded, never raised."""
    adapter = adapters.get(event.channel.kind)
    now = timezone.now()
    done = {"status": InboundEvent.Status.DONE, "processed_at": now, "locked_until": None, "error": ""}
    try:
        with transaction.atomic():
            if adapter is None:
                raise UnknownEvent(f"no adapter for channel kind {event.channel.kind!r}")
            for item in adapter.parse_event(event):
                if isinstance(item, InboundItem):
                    inbound_item_record(channel=event.channel, item=item)
                else:  # a PBX's call fact, say: the adapter's domain records it
                    adapter.record(channel=event.channel, item=item)
            InboundEvent.objects.filter(pk=event.pk).update(**done)
    except Malformed as exc:
        InboundEvent.objects.filter(pk=event.pk).update(**{**done, "status": InboundEvent.Status.REJECTED,
                                                           "error": str(exc)})
    except UnknownEvent as exc:
        InboundEvent.objects.filter(pk=event.pk).update(**{**done, "status": InboundEvent.Status.UNKNOWN,
                                                           "error": str(exc)})
    except Ignored as exc:
        InboundEvent.objects.filter(pk=event.pk).update(**{**done, "status": InboundEvent.Status.IGNORED,
                                                           "error": str(exc)})
    except Exception:  # anything else: keep the event, count the attempt, retry with back-off
        error = traceback.format_exc(limit=8)
        log.warning("inbound event %s failed: %s", event.pk, error)
        if event.attempts >= MAX_ATTEMPTS:
            InboundEvent.objects.filter(pk=event.pk).update(status=InboundEvent.Status.FAILED, error=error,
                                                            locked_until=None)
        else:
            InboundEvent.objects.filter(pk=event.pk).update(error=error, locked_until=None,
                                                            run_after=now + _backoff(event.attempts))


def inbound_drain(batch: int = BATCH, *, batch_path: bool = True) -> int:
    """Claims a batch of received events and processes each; returns how many were claimed.

    New customers' independent events are written in bulk first (okno.inbox.batch); the rest,
    and all of them with `batch_path=False`, one transaction per event, in order.
    """
    ids = claim_batch(InboundEvent, ready=Q(status=InboundEvent.Status.RECEIVED), limit=batch,
                      lease_seconds=settings.OKNO_INBOX_LEASE_SECONDS)
    events = list(InboundEvent.objects.filter(pk__in=ids).select_related("channel").order_by("pk"))
    if batch_path:
        events = inbound_events_record_new_customers(events)
    for event in events:
        process_event(event)
    return len(ids)
