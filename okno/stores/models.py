"""Online stores connected to a pipeline: their orders are deals, their statuses move both ways.

Durable work is rows, as everywhere in Okno (okno/core/leases.py): a webhook or a polled order
is a StoreEvent stored before it is acknowledged; a status Okno must write back to the store is
a StoreWrite. Both are drained by the worker with a lease and retried with back-off, so a shop
that is down, or a map that misses a status, loses nothing.
"""

import secrets

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def webhook_token() -> str:
    return secrets.token_urlsafe(24)


class StoreConnection(models.Model):
    class Kind(models.TextChoices):
        WOOCOMMERCE = "woocommerce", "WooCommerce"
        INSALES = "insales", "InSales"
        TILDA = "tilda", "Tilda"
        OKNO = "okno", _("Okno's store API")
        PRETIX = "pretix", "pretix"

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    # Per kind (adapters' SETTINGS): addresses, keys and secrets of the store.
    settings = models.JSONField(default=dict, blank=True)
    pipeline = models.ForeignKey("deals.Pipeline", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("pipeline"))
    # [[store status, stage id], ...] in the administrator's order: PostgreSQL's jsonb does not
    # keep an object's key order, and the first status of a stage is the one written back.
    status_map = models.JSONField(default=list, blank=True)
    webhook_token = models.CharField(max_length=64, default=webhook_token, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Reconciliation: the store's time of the newest order seen by polling (polled again from it).
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The poll is durable work as well: due when run_after has come (claim_batch's fields).
    run_after = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def stage_for(self, status: str) -> int | None:
        return next((stage for s, stage in self.status_map if s == status), None)

    def status_for(self, stage_id: int) -> str | None:
        """The store status written back for a stage: the first one mapped to it."""
        return next((s for s, stage in self.status_map if stage == stage_id), None)


class StoreOrder(models.Model):
    """One store order and its deal; what the store last said and what Okno last wrote."""

    connection = models.ForeignKey(StoreConnection, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=100)
    number = models.CharField(max_length=100, blank=True)
    deal = models.OneToOneField("deals.Deal", on_delete=models.CASCADE, related_name="store_order")
    store_status = models.CharField(max_length=100, blank=True)
    # The store's own modification time (or version number) of the newest state taken: an older
    # or equal one arriving later (a repeat, a reordered webhook, our own write's echo) is stale.
    store_updated_at = models.DateTimeField(null=True, blank=True)
    store_version = models.BigIntegerField(null=True, blank=True)
    last_written_status = models.CharField(max_length=100, blank=True)
    last_written_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "external_id"], name="store_order_unique")]


class StoreEvent(models.Model):
    """An order as the store sent it (a webhook, a poll, an API upsert), kept raw until processed."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        DONE = "done", _("processed")
        # Cannot be taken as it is (no contact data, a status missing from the map): waits for
        # a person; retried when the connection's map changes.
        PROBLEM = "problem", _("problem")
        REJECTED = "rejected", _("rejected")
        IGNORED = "ignored", _("ignored")
        FAILED = "failed", _("failed")

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("webhook")
        POLL = "poll", _("reconciliation")
        API = "api", "API"

    connection = models.ForeignKey(StoreConnection, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEBHOOK)
    topic = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    # A code programs read ("no_contact", "status_unmapped", "malformed") and the text people do.
    reason = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["run_after"], name="store_event_due", condition=models.Q(status="received")),
            models.Index(fields=["connection", "status", "-id"], name="store_event_status"),
        ]


class StoreWrite(models.Model):
    """A status Okno must write to the store (a deal moved in Okno): sent by the drain, retried."""

    class State(models.TextChoices):
        PENDING = "pending", _("to send")
        SENT = "sent", _("sent")
        # A later change (the store's own, or another move in Okno) made it pointless.
        SUPERSEDED = "superseded", _("superseded")
        GAVE_UP = "gave_up", _("gave up")

    connection = models.ForeignKey(StoreConnection, on_delete=models.CASCADE, related_name="writes")
    order = models.ForeignKey(StoreOrder, on_delete=models.CASCADE, related_name="writes")
    status = models.CharField(max_length=100)
    stage_id = models.PositiveBigIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Its webhook came back (or polling saw it): that one echo is swallowed, once.
    echo_seen = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["run_after"], name="store_write_due", condition=models.Q(state="pending")),
            models.Index(fields=["order", "state"], name="store_write_order"),
        ]


class StoreLog(models.Model):
    """The sync's log: what came in, what went out, what was refused or could not be taken, and why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("order created a deal")
        UPDATED = "updated", _("order updated the deal")
        MOVED = "moved", _("store moved the deal")
        STALE = "stale", _("repeated or older order ignored")
        ECHO = "echo", _("our own change came back")
        CONFLICT = "conflict", _("conflict")
        WRITTEN = "written", _("status written to the store")
        WRITE_FAILED = "write_failed", _("writing to the store failed")
        REFUSED = "refused", _("webhook refused")
        PROBLEM = "problem", _("order kept with a problem")
        POLLED = "polled", _("store polled")
        POLL_FAILED = "poll_failed", _("polling the store failed")

    connection = models.ForeignKey(StoreConnection, on_delete=models.CASCADE, related_name="log")
    order = models.ForeignKey(StoreOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["connection", "-id"], name="store_log_recent")]
