"""Delivery status of sent SMS, asked of the provider until it is final (delivered or not).

The `sms_status` drain looks at SMS sent in the last day whose status is not final, each at most
every CHECK_EVERY, and keeps the provider's answer in `delivery_status` (our words: accepted,
sent, delivered, undelivered, unknown). A failed check is only logged: the next one comes anyway.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from okno.outbox import sms
from okno.outbox.models import OutboxMessage

log = logging.getLogger(__name__)
BATCH = 50
# Operators report delivery within seconds to minutes; a day later nothing changes any more.
CHECK_EVERY = timedelta(minutes=2)
CHECK_FOR = timedelta(days=1)


def _check(message: OutboxMessage) -> str | None:
    try:
        return sms.adapter(message.provider.kind).status(message.provider, message_id=message.provider_message_id,
                                                         to=message.payload.get("to", ""))
    except sms.SmsError as exc:
        log.warning("SMS %s status check failed: %s", message.key, exc)
        return None


def sms_status_drain(batch: int = BATCH, *, now=None) -> int:
    now = now or timezone.now()
    due = (OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SMS, status=OutboxMessage.Status.SENT,
                                        sent_at__gte=now - CHECK_FOR, provider__isnull=False)
           .exclude(provider_message_id="").exclude(delivery_status__in=sms.FINAL)
           .filter(Q(delivery_checked_at__isnull=True) | Q(delivery_checked_at__lte=now - CHECK_EVERY))
           .order_by("sent_at").values_list("pk", flat=True)[:batch])
    # Claimed by stamping the check time (one row changed = ours), so two workers never ask twice.
    mine = [pk for pk in list(due) if OutboxMessage.objects.filter(pk=pk).filter(
        Q(delivery_checked_at__isnull=True) | Q(delivery_checked_at__lte=now - CHECK_EVERY)).update(
        delivery_checked_at=now) == 1]
    messages = list(OutboxMessage.objects.filter(pk__in=mine).select_related("provider"))
    if not messages:
        return 0
    with ThreadPoolExecutor(max_workers=min(8, len(messages))) as pool:
        answers = list(pool.map(_check, messages))
    for message, status in zip(messages, answers, strict=True):
        if status:
            OutboxMessage.objects.filter(pk=message.pk).update(delivery_status=status)
    return len(messages)
