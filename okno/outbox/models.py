"""The outbox: every e-mail, SMS and webhook Okno sends, as a row written with the change that caused it.

A row is durable work (status, attempts, run_after, locked_until): the worker's `outbox` drain
claims due rows with a lease and sends them. A worker killed mid-send leaves its rows leased;
once the lease runs out another worker sends them again with the same idempotency `key`
(the webhook-id, the e-mail's Message-ID), so the receiver can drop the repeat.
"""

import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def webhook_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (Standard Webhooks: 24-64 bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """A URL that receives signed domain events (Standard Webhooks)."""

    url = models.URLField(_("URL"), max_length=2000)
    # Event names this endpoint receives; ["*"] is every event.
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100, default=webhook_secret)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # Only an administrator may let an endpoint reach private, loopback or link-local addresses.
    allow_private_network = models.BooleanField(_("allow a private network address"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return "*" in self.events or event in self.events


class OutboxMessage(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")
        WEBHOOK = "webhook", _("webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("to send")
        SENT = "sent", _("sent")
        # Not worth retrying by itself: the endpoint answered 410, is disabled, or its URL is refused.
        FAILED = "failed", _("failed")
        # Every retry failed; waits on the "Outbox problems" page for a person.
        GAVE_UP = "gave_up", _("gave up")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The idempotency key: the webhook-id of a webhook, the Message-ID of an e-mail. A caller
    # that writes the same key twice gets the first row back, so a repeated change sends once.
    key = models.CharField(max_length=200, unique=True)
    # email: {to, subject, body}; sms: {to, text}; webhook: {event, body} (body: the exact JSON sent).
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # claims by the drain (claim_batch counts them)
    run_after = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="messages")
    provider = models.ForeignKey("outbox.SmsProvider", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    # SMS: the provider's id of the message and its last delivery status ("delivered", "sent", ...).
    provider_message_id = models.CharField(max_length=100, blank=True)
    delivery_status = models.CharField(max_length=100, blank=True)
    delivery_checked_at = models.DateTimeField(null=True, blank=True)
    # For the log and the card's timeline; a deal is an id only, so deals stays below the outbox.
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    deal_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # The drain's claim: due pending rows; every other status is history.
            models.Index(fields=["run_after"], name="outbox_due", condition=models.Q(status="pending")),
            models.Index(fields=["status", "-id"], name="outbox_status"),
            models.Index(fields=["endpoint", "-id"], name="outbox_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    @property
    def recipient(self) -> str:
        if self.kind == self.Kind.WEBHOOK:
            return self.endpoint.url if self.endpoint_id else ""
        return self.payload.get("to", "")


class DeliveryAttempt(models.Model):
    """One try at sending a message: what the other side answered and how long it took."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="attempts")
    attempt = models.PositiveIntegerField()
    ok = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "-id"], name="outbox_attempt_endpoint")]


class SmsProvider(models.Model):
    class Kind(models.TextChoices):
        SMSRU = "smsru", "SMS.ru"
        SMSC = "smsc", "SMSC.ru"

    kind = models.CharField(_("provider"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    # SMS.ru: api_id; SMSC.ru: an API key in place of login and password.
    api_key = models.CharField(_("API key"), max_length=200, blank=True)
    login = models.CharField(_("login"), max_length=200, blank=True)
    password = models.CharField(_("password"), max_length=200, blank=True)
    sender = models.CharField(_("sender name"), max_length=11, blank=True)
    # Empty: the provider's public address. Tests and proxies point it elsewhere.
    base_url = models.URLField(_("API address"), max_length=500, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "pk"]

    def __str__(self) -> str:
        return self.name


class MessageTemplate(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")

    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
