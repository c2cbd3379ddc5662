"""Writes of the outbox: queue an e-mail, an SMS or the webhooks of a domain event; retry; endpoints.

Every `outbox_*` call writes its row in the caller's transaction (a savepoint, never a commit
of its own), so a send exists exactly when the change that caused it commits. The worker's
`outbox` drain (okno/outbox/drain.py) sends it afterwards.
"""

import json
import re
import time
import uuid
from datetime import UTC

from django.core.exceptions import PermissionDenied
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.events import Event
from okno.core.phones import InvalidPhone, normalize_phone
from okno.outbox import webhooks
from okno.outbox.models import MessageTemplate, OutboxMessage, SmsProvider, WebhookEndpoint
from okno.outbox.templating import SAMPLE_CONTEXT, template_render

# What an endpoint may subscribe to: the domain events of okno/core/events.py ("*": all of them).
WEBHOOK_EVENTS = ("deal.created", "deal.stage_changed", "lead.created", "contact.created", "call.finished",
                  "message.received", "workitem.done")
KEY_MAX = 200
# An SMS of more than 10 parts is a mistake, not a message (SMSC takes 1000 characters at most).
SMS_MAX_CHARS = 1000
EMAIL_SUBJECT_MAX = 500


def _queue(*, kind: str, key: str, payload: dict, contact_id: int | None, deal_id: int | None,
           **fields) -> OutboxMessage:
    """The row for `key`: a new one, or the one already written (the same send asked twice)."""
    if not key or len(key) > KEY_MAX or "." in key or any(ch.isspace() for ch in key):
        # Standard Webhooks: a webhook-id holds no "."; none of our keys need one either.
        raise FieldError({"key": f"an idempotency key of 1-{KEY_MAX} characters without spaces or dots"})
    # INSERT ... ON CONFLICT DO NOTHING (SQLite: INSERT OR IGNORE), then read the row by its key:
    # two round trips where look-up, savepoint, insert and release took four (bench_robots
    # profiled 8 queries a robot run), and a concurrent twin never breaks the caller's transaction.
    OutboxMessage.objects.bulk_create([OutboxMessage(kind=kind, key=key, payload=payload, contact_id=contact_id,
                                                     deal_id=deal_id, **fields)], ignore_conflicts=True)
    return OutboxMessage.objects.get(key=key)


def outbox_email(*, to: str, subject: str, body: str, key: str, contact_id: int | None = None,
                 deal_id: int | None = None, attachments: list[dict] | None = None) -> OutboxMessage:
    """Queues an e-mail through the site's EMAIL_BACKEND; once per key.

    Its Message-ID is made from the key, so a repeat after a crash mid-send is recognisable.
    When sent, it lands on the contact's timeline (when `contact_id` is given)."""
    to = (to or "").strip()
    try:
        validate_email(to)
    except Exception as exc:
        raise FieldError({"to": "not a valid e-mail address"}) from exc
    if not subject.strip():
        raise FieldError({"subject": "an e-mail needs a subject"})
    return _queue(kind=OutboxMessage.Kind.EMAIL, key=key, contact_id=contact_id, deal_id=deal_id,
                  payload={"to": to, "subject": subject.replace("\n", " ")[:EMAIL_SUBJECT_MAX], "body": body,
                           # [{"path": storage name, "filename", "mimetype"}]: files already stored
                           # (a generated document), read from storage when sent.
                           **({"attachments": attachments} if attachments else {})})


def outbox_sms(*, to: str, text: str, key: str, contact_id: int | None = None,
               deal_id: int | None = None) -> OutboxMessage:
    """Queues an SMS through the default SMS provider (chosen when it is sent); once per key."""
    try:
        # "8 916 123-45-67" is +7 916...: the same reading as every phone the card stores.
        phone = normalize_phone(to)
    except InvalidPhone as exc:
        raise FieldError({"to": "a phone number in international format, e.g. +79161234567"}) from exc
    if not text.strip():
        raise FieldError({"text": "an SMS needs a text"})
    if len(text) > SMS_MAX_CHARS:
        raise FieldError({"text": f"at most {SMS_MAX_CHARS} characters"})
    return _queue(kind=OutboxMessage.Kind.SMS, key=key, contact_id=contact_id, deal_id=deal_id,
                  payload={"to": phone.e164, "text": text})


def webhook_body(event: Event) -> str:
    """The JSON a receiver gets (Standard Webhooks' recommended shape), fixed once for every retry."""
    at = event.at.astimezone(UTC) if event.at.tzinfo else event.at
    return json.dumps({"type": event.name, "timestamp": at.isoformat().replace("+00:00", "Z"),
                       "data": event.data}, ensure_ascii=False, separators=(",", ":"), default=str)


# Active endpoints (id, events) as this process last read them. Every domain event asks, on the
# inbox's hot path too (a flood of new customers is a lead.created and a contact.created each):
# a query per event had a 100-event inbox batch make 100 more queries. Saves and deletes in this
# process forget it at once; another process's change is seen within ENDPOINTS_TTL seconds.
ENDPOINTS_TTL = 2.0
_endpoints: tuple[float, list[tuple[int, list[str]]]] | None = None


def endpoints_forget(**_kwargs) -> None:
    global _endpoints
    _endpoints = None


def _active_endpoints() -> list[tuple[int, list[str]]]:
    global _endpoints
    now = time.monotonic()
    if _endpoints is None or _endpoints[0] < now:
        rows = list(WebhookEndpoint.objects.filter(is_active=True).values_list("id", "events"))
        _endpoints = (now + ENDPOINTS_TTL, rows)
    return _endpoints[1]


def outbox_webhook(*, endpoint: WebhookEndpoint, event: str, data: dict, key: str, contact_id: int | None = None,
                   deal_id: int | None = None) -> OutboxMessage:
    """Queues one signed delivery of `event` with `data` to one endpoint (a robot's webhook action); once per key.

    `key` is the webhook-id the receiver sees on every try."""
    body = webhook_body(Event(name=event, subject=None, data=data, at=timezone.now()))
    return _queue(kind=OutboxMessage.Kind.WEBHOOK, key=key, payload={"event": event, "body": body},
                  contact_id=contact_id, deal_id=deal_id, endpoint=endpoint)


def outbox_webhooks_for_event(event: Event) -> list[OutboxMessage]:
    """Subscriber of every domain event: one delivery per active endpoint that wants it.

    Runs inside the publisher's transaction, so the deliveries commit with the change."""
    if event.internal:
        return []
    wanted = [pk for pk, names in _active_endpoints() if "*" in names or event.name in names]
    if not wanted:
        return []
    body = webhook_body(event)
    deal_id = event.data.get("deal_id") if isinstance(event.data.get("deal_id"), int) else None
    rows = [OutboxMessage(kind=OutboxMessage.Kind.WEBHOOK, key=f"msg_{uuid.uuid4().hex}", endpoint_id=pk,
                          payload={"event": event.name, "body": body}, deal_id=deal_id)
            for pk in wanted]
    return OutboxMessage.objects.bulk_create(rows)


def outbox_retry(*, actor, message: OutboxMessage) -> OutboxMessage:
    """"Send again" from the problems page: a failed or given-up message is due now, its key unchanged.

    A webhook whose endpoint was disabled stays failed until the endpoint is enabled again."""
    require_admin(actor)
    if message.status not in (OutboxMessage.Status.FAILED, OutboxMessage.Status.GAVE_UP):
        return message
    OutboxMessage.objects.filter(pk=message.pk, status=message.status).update(
        status=OutboxMessage.Status.PENDING, attempts=0, run_after=timezone.now(), locked_until=None)
    message.refresh_from_db()
    return message


def _clean_events(events: list) -> list[str]:
    if not isinstance(events, list) or not events:
        raise FieldError({"events": 'a list of event names, e.g. ["deal.created"], or ["*"] for all'})
    clean = []
    for i, name in enumerate(events):
        if not isinstance(name, str) or (name != "*" and name not in WEBHOOK_EVENTS):
            raise FieldError({f"events[{i}]": "unknown event; known: " + ", ".join(("*",) + WEBHOOK_EVENTS)})
        if name not in clean:
            clean.append(name)
    return clean


def webhook_endpoint_create(*, actor, url: str, events: list, allow_private_network: bool = False,
                            description: str = "") -> WebhookEndpoint:
    """An administrator adds an endpoint; its secret is made here and shown once.

    The URL must be http(s) and, unless the administrator allows a private network, must not
    point at a private, loopback, link-local or reserved address (no server-side request forgery)."""
    if allow_private_network and not getattr(actor, "is_admin", False):
        raise PermissionDenied("allow_private_network: only an administrator may allow a private network address")
    require_admin(actor, "Only an administrator may manage webhook endpoints")
    url = (url or "").strip()
    if len(url) > 2000:
        raise FieldError({"url": "at most 2000 characters"})
    try:
        webhooks.check_url(url, allow_private_network=allow_private_network, must_resolve=False)
    except webhooks.UrlRefused as exc:
        raise FieldError({"url": exc.args[0]}) from exc
    if re.search(r"\s", url):
        raise FieldError({"url": "must not contain spaces"})
    return WebhookEndpoint.objects.create(url=url, events=_clean_events(events), created_by=actor,
                                          allow_private_network=allow_private_network,
                                          description=(description or "")[:300])


def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    """Deletes the endpoint with its pending deliveries and their log."""
    require_admin(actor, "Only an administrator may manage webhook endpoints")
    endpoint.delete()


def webhook_endpoint_enable(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Turns an endpoint (disabled by a 410, say) back on; its failed deliveries stay on the problems page."""
    require_admin(actor, "Only an administrator may manage webhook endpoints")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True, disabled_reason="")
    endpoint.refresh_from_db()
    return endpoint


def webhook_endpoint_disable(*, endpoint_id: int, reason: str) -> None:
    """The receiver said 410 Gone (or a person switched it off): no more deliveries to it."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(is_active=False, disabled_reason=reason[:500])
    endpoints_forget()  # an UPDATE sends no post_save


@transaction.atomic
def sms_provider_save(*, actor, provider: SmsProvider) -> SmsProvider:
    """Saves an SMS provider's settings; the default one is the one `outbox_sms` uses."""
    require_admin(actor)
    if provider.kind == SmsProvider.Kind.SMSRU and not provider.api_key:
        raise FieldError({"api_key": "SMS.ru needs its api_id"})
    if provider.kind == SmsProvider.Kind.SMSC and not (provider.api_key or (provider.login and provider.password)):
        raise FieldError({"login": "SMSC.ru needs a login and password, or an API key"})
    provider.save()
    if provider.is_default or not SmsProvider.objects.exclude(pk=provider.pk).filter(is_default=True).exists():
        SmsProvider.objects.exclude(pk=provider.pk).update(is_default=False)
        SmsProvider.objects.filter(pk=provider.pk).update(is_default=True)
        provider.is_default = True
    return provider


def _template_check(template: MessageTemplate) -> None:
    if not (template.name or "").strip():
        raise FieldError({"name": "a template needs a name"})
    if template.channel not in MessageTemplate.Channel.values:
        raise FieldError({"channel": "email or sms"})
    if not (template.body or "").strip():
        raise FieldError({"body": "a template needs a text"})
    if template.channel == MessageTemplate.Channel.EMAIL and not (template.subject or "").strip():
        raise FieldError({"subject": "an e-mail template needs a subject"})
    # Parses and renders over sample values, so a broken template is refused when it is saved.
    template_render(template=template, context=SAMPLE_CONTEXT)


def message_template_save(*, actor, template: MessageTemplate) -> MessageTemplate:
    """Creates or updates a template after checking that it renders (an administrator's setting)."""
    require_admin(actor, "Only an administrator may edit message templates")
    _template_check(template)
    if template.pk is None:
        template.created_by = actor
    template.save()
    return template


def message_template_delete(*, actor, template: MessageTemplate) -> None:
    require_admin(actor, "Only an administrator may edit message templates")
    template.delete()


def outbox_from_template(*, template: MessageTemplate, context: dict, to: str, key: str,
                         contact_id: int | None = None, deal_id: int | None = None) -> OutboxMessage:
    """Renders a template over `context` (templating.template_context) and queues it on its channel.

    What a robot's "send e-mail/SMS" action calls, in the robot run's transaction. Raises
    FieldError when the template does not render or the recipient is not valid."""
    subject, body = template_render(template=template, context=context)
    if template.channel == MessageTemplate.Channel.SMS:
        return outbox_sms(to=to, text=body, key=key, contact_id=contact_id, deal_id=deal_id)
    return outbox_email(to=to, subject=subject, body=body, key=key, contact_id=contact_id, deal_id=deal_id)


def webhook_endpoint_test(*, actor, endpoint: WebhookEndpoint) -> OutboxMessage:
    """Queues a `webhook.test` delivery to the endpoint, so an administrator can check the receiver."""
    require_admin(actor, "Only an administrator may manage webhook endpoints")
    return outbox_webhook(endpoint=endpoint, event="webhook.test", key=f"msg_test_{uuid.uuid4().hex}",
                          data={"endpoint_id": endpoint.pk, "message": "A test event from Okno"})
