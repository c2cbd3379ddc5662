"""The worker's `outbox` drain: claims due messages with a lease, sends them, records each answer.

At-least-once with idempotency keys. A message is marked sent only after the other side said
yes; a worker killed between that answer and our commit leaves the row leased, and once the
lease runs out another worker sends it again with the same key: the same `webhook-id` (a
Standard Webhooks receiver drops the repeat) and the same e-mail Message-ID. Nothing is lost;
results are committed in groups of GROUP (a commit per message was the drain's whole cost on a
busy PostgreSQL), so a kill repeats at most one batch's sends whose results were not written.

Webhooks and SMS are HTTP calls to other servers: they run in a small thread pool (no ORM in
the threads: they get plain values), so one slow receiver does not hold the batch up for its
whole timeout per message. E-mails go one after another over one SMTP connection.
"""

import hashlib
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from okno.core.leases import claim_batch
from okno.outbox import sms, webhooks
from okno.outbox.models import DeliveryAttempt, OutboxMessage, SmsProvider
from okno.outbox.services import webhook_endpoint_disable

log = logging.getLogger(__name__)

BATCH = 50
THREADS = 8
# 50 messages over 8 threads at a 15 s timeout each is ~95 s at worst; a killed worker's rows
# are sent again by another once this runs out (settings.OKNO_OUTBOX_LEASE_SECONDS overrides it:
# the kill -9 test and benchmark shorten it so a killed worker's rows come back within seconds).
LEASE_SECONDS = 180
# After the n-th failed try, wait WEBHOOK_DELAYS[n-1]: Standard Webhooks' example schedule
# (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: ten tries over ~75 hours), then give up.
WEBHOOK_DELAYS = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                  timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20),
                  timedelta(hours=24))
# An SMS or e-mail about an order is useless days later: six tries over ~2.5 hours.
MESSAGE_DELAYS = (timedelta(seconds=5), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                  timedelta(hours=2))
# A row whose send keeps crashing the worker (killed, or a bug) is given up after this many extra claims.
EXTRA_CLAIMS = 3
# Results written per transaction. A kill repeats at most a batch's unwritten sends (under their keys).
GROUP = 25
SMTP_TIMEOUT_SECONDS = 30


@dataclass
class Result:
    ok: bool
    error: str = ""
    status_code: int | None = None
    duration_ms: int = 0
    retry_after_seconds: int | None = None
    gone: bool = False
    permanent: bool = False
    provider_message_id: str = ""
    provider_id: int | None = None


def delays_for(kind: str) -> tuple[timedelta, ...]:
    return WEBHOOK_DELAYS if kind == OutboxMessage.Kind.WEBHOOK else MESSAGE_DELAYS


def retry_delay(kind: str, attempts: int, retry_after_seconds: int | None = None) -> timedelta | None:
    """How long to wait after the `attempts`-th failed try; None: that was the last one."""
    delays = delays_for(kind)
    if attempts > len(delays):
        return None
    delay = delays[attempts - 1]
    if delay >= timedelta(minutes=5):
        delay += delay * random.uniform(0, 0.1)  # jitter: a receiver back up is not hit by all at once
    if retry_after_seconds:
        delay = max(delay, timedelta(seconds=min(retry_after_seconds, 24 * 3600)))
    return delay


def message_id_header(key: str) -> str:
    """The e-mail's Message-ID, the same on every try of this key: a sink can drop the repeat."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@okno.outbox>"


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _send_webhook(job: dict) -> Result:
    a = webhooks.deliver(url=job["url"], secret=job["secret"], msg_id=job["key"], body=job["body"],
                         allow_private_network=job["allow_private_network"])
    return Result(ok=a.ok, error=a.error, status_code=a.status_code, duration_ms=a.duration_ms,
                  retry_after_seconds=a.retry_after_seconds, gone=a.gone, permanent=a.permanent)


def _send_sms(job: dict) -> Result:
    provider = job["provider"]
    started = time.monotonic()
    try:
        sent = sms.adapter(provider.kind).send(provider, to=job["to"], text=job["text"], key=job["key"])
    except sms.SmsError as exc:
        return Result(ok=False, error=f"{provider.name}: {exc}", duration_ms=_ms(started))
    return Result(ok=True, provider_message_id=sent.message_id, provider_id=provider.pk, duration_ms=_ms(started))


def _job(message: OutboxMessage, provider: SmsProvider | None) -> tuple[object, dict] | Result:
    """The plain values a thread needs, or the Result at once when there is nothing to send."""
    if message.kind == OutboxMessage.Kind.WEBHOOK:
        endpoint = message.endpoint
        if endpoint is None or not endpoint.is_active:
            reason = endpoint.disabled_reason if endpoint else "deleted"
            return Result(ok=False, permanent=True, error=f"endpoint disabled: {reason}")
        return _send_webhook, {"url": endpoint.url, "secret": endpoint.secret, "key": message.key,
                               "body": message.payload.get("body", ""),
                               "allow_private_network": endpoint.allow_private_network}
    if provider is None:
        return Result(ok=False, error="no active SMS provider: add one on the SMS provider page")
    return _send_sms, {"provider": provider, "to": message.payload.get("to", ""),
                       "text": message.payload.get("text", ""), "key": message.key}


def _send_email(message: OutboxMessage, connection) -> Result:
    started = time.monotonic()
    p = message.payload
    email = EmailMessage(p.get("subject", ""), p.get("body", ""), None, [p.get("to", "")], connection=connection,
                         headers={"Message-ID": message_id_header(message.key), "X-Okno-Key": message.key})
    try:
        for a in p.get("attachments") or []:
            with default_storage.open(a["path"], "rb") as f:
                email.attach(a.get("filename") or a["path"].rsplit("/", 1)[-1], f.read(), a.get("mimetype"))
        email.send()
    except Exception as exc:  # SMTP refusals, a dropped connection, a bad address: retried
        return Result(ok=False, error=f"{type(exc).__name__}: {exc}", duration_ms=_ms(started))
    return Result(ok=True, duration_ms=_ms(started))


def _timeline(message: OutboxMessage) -> None:
    from okno.contacts.models import Contact
    from okno.timeline.models import Activity
    from okno.timeline.services import activity_record

    contact = Contact.objects.filter(pk=message.contact_id).first()
    if contact is None:
        return
    p = message.payload
    with override(settings.LANGUAGE_CODE):
        if message.kind == OutboxMessage.Kind.EMAIL:
            summary = _("E-mail to %(to)s: %(subject)s") % {"to": p.get("to", ""), "subject": p.get("subject", "")}
        else:
            summary = _("SMS to %(to)s: %(text)s") % {"to": p.get("to", ""), "text": p.get("text", "")}
    activity_record(contact=contact, kind=Activity.Kind.OUTBOX, summary=summary, detail=message,
                    occurred_at=message.sent_at)


def _fields(message: OutboxMessage, result: Result, now) -> dict:
    """The message's new state after one try."""
    fields = {"locked_until": None}
    if result.ok:
        fields.update(status=OutboxMessage.Status.SENT, sent_at=now, last_error="")
        if message.kind == OutboxMessage.Kind.SMS:
            fields.update(provider_message_id=result.provider_message_id, provider_id=result.provider_id,
                          delivery_status=sms.ACCEPTED)
        return fields
    if result.gone:
        webhook_endpoint_disable(endpoint_id=message.endpoint_id, reason=f"{now:%Y-%m-%d %H:%M} 410 Gone")
    final = result.gone or result.permanent
    delay = None if final else retry_delay(message.kind, message.attempts, result.retry_after_seconds)
    if delay is None:
        fields.update(status=OutboxMessage.Status.FAILED if final else OutboxMessage.Status.GAVE_UP,
                      last_error=result.error)
    else:
        fields.update(status=OutboxMessage.Status.PENDING, last_error=result.error, run_after=now + delay)
    return fields


def record_many(done: list[tuple[OutboxMessage, Result]]) -> None:
    """Writes tries' outcomes in one transaction: their log lines and the messages' new states.

    One commit for a group, not one per message: a commit is the cost of a send here (PostgreSQL
    under load: ~100 messages/s one by one). A kill loses the group's results, not its sends:
    those rows are sent again under their keys once the lease runs out."""
    if not done:
        return
    now = timezone.now()
    with transaction.atomic():
        # An endpoint deleted while its message was in flight took the message along: nothing to write.
        alive = set(OutboxMessage.objects.filter(pk__in=[m.pk for m, _r in done]).values_list("pk", flat=True))
        done = [(m, r) for m, r in done if m.pk in alive]
        DeliveryAttempt.objects.bulk_create([DeliveryAttempt(
            message_id=m.pk, endpoint_id=m.endpoint_id, attempt=m.attempts, ok=r.ok, status_code=r.status_code,
            error=r.error[:2000], duration_ms=r.duration_ms, at=now) for m, r in done])
        plain_sent = [m.pk for m, r in done if r.ok and m.kind != OutboxMessage.Kind.SMS]
        if plain_sent:
            OutboxMessage.objects.filter(pk__in=plain_sent).update(
                status=OutboxMessage.Status.SENT, sent_at=now, last_error="", locked_until=None)
        for m, r in done:
            if not (r.ok and m.kind != OutboxMessage.Kind.SMS):
                OutboxMessage.objects.filter(pk=m.pk).update(**_fields(m, r, now))
            # A conversation's reply (okno/outbox/reply_routes.py) is on the timeline in its conversation.
            if r.ok and m.contact_id and m.kind != OutboxMessage.Kind.WEBHOOK and "conversation_id" not in m.payload:
                m.sent_at = now
                _timeline(m)
    for m, r in done:
        if not r.ok:
            log.warning("outbox %s %s try %s failed: %s", m.kind, m.key, m.attempts, r.error)


def record(message: OutboxMessage, result: Result) -> None:
    record_many([(message, result)])


class _Results:
    """Results waiting to be written: flushed every GROUP results and at the end of the batch."""

    def __init__(self):
        self.done: list[tuple[OutboxMessage, Result]] = []

    def add(self, message: OutboxMessage, result: Result) -> None:
        self.done.append((message, result))
        if len(self.done) >= GROUP:
            self.flush()

    def flush(self) -> None:
        done, self.done = self.done, []
        record_many(done)


def default_sms_provider() -> SmsProvider | None:
    return SmsProvider.objects.filter(is_active=True).order_by("-is_default", "pk").first()


def outbox_drain(batch: int = BATCH) -> int:
    """The worker's loop: claims due messages with a lease (two workers never send one row at once)."""
    ids = claim_batch(OutboxMessage, ready=Q(status=OutboxMessage.Status.PENDING), limit=batch,
                      lease_seconds=getattr(settings, "OKNO_OUTBOX_LEASE_SECONDS", LEASE_SECONDS), order_by="run_after")
    if not ids:
        return 0
    messages = list(OutboxMessage.objects.filter(pk__in=ids).select_related("endpoint").order_by("pk"))
    provider = default_sms_provider() if any(m.kind == OutboxMessage.Kind.SMS for m in messages) else None
    jobs, results = [], _Results()
    for m in messages:
        if m.attempts > len(delays_for(m.kind)) + 1 + EXTRA_CLAIMS:
            results.add(m, Result(ok=False, error="given up: the send kept crashing the worker"))
            continue
        if m.kind == OutboxMessage.Kind.EMAIL:
            continue
        job = _job(m, provider)
        if isinstance(job, Result):
            results.add(m, job)
        else:
            jobs.append((m, job))
    emails = [m for m in messages if m.kind == OutboxMessage.Kind.EMAIL
              and m.attempts <= len(MESSAGE_DELAYS) + 1 + EXTRA_CLAIMS]
    pool = ThreadPoolExecutor(max_workers=min(THREADS, len(jobs))) if jobs else None
    try:
        futures = {pool.submit(fn, values): m for m, (fn, values) in jobs} if pool else {}
        if emails:
            _send_emails(emails, results)
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # a bug in an adapter: retried like a failed send
                log.exception("outbox send %s crashed", futures[future].key)
                result = Result(ok=False, error=f"{type(exc).__name__}: {exc}")
            results.add(futures[future], result)
        results.flush()
    finally:
        if pool:
            pool.shutdown(wait=True)
    return len(ids)


def _send_emails(emails: list[OutboxMessage], results: _Results) -> None:
    connection = get_connection()
    if hasattr(connection, "timeout") and connection.timeout is None:
        connection.timeout = SMTP_TIMEOUT_SECONDS  # Django's default waits for ever on a hung server
    try:
        connection.open()
    except Exception as exc:
        for m in emails:
            results.add(m, Result(ok=False, error=f"{type(exc).__name__}: {exc}"))
        return
    try:
        for m in emails:
            results.add(m, _send_email(m, connection))
    finally:
        try:
            connection.close()
        except Exception:  # the server went away; nothing left to tidy
            log.debug("SMTP close failed", exc_info=True)
