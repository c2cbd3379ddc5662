import secrets

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _token() -> str:
    return secrets.token_urlsafe(24)


class Channel(models.Model):
    """Where customers reach us: a Jivo widget, a web form, a mailbox, a Telegram bot..."""

    kind = models.CharField(_("kind"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    # The unguessable part of the webhook URL; rotating it cuts off an old, leaked URL.
    token = models.CharField(max_length=64, unique=True, default=_token)
    # A shared secret for providers that send one (Telegram's secret_token header, ...).
    secret = models.CharField(max_length=128, default=_token)
    settings = models.JSONField(default=dict, blank=True)
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="channels",
        verbose_name=_("department"),
    )
    # Where a lead goes when nobody of the department is at work.
    fallback_user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("fallback queue"),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def webhook_path(self) -> str:
        return f"/hooks/{self.kind}/{self.token}/"


class InboundEvent(models.Model):
    """One inbound request, stored raw before it is acknowledged; the worker processes it."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        REJECTED = "rejected", _("rejected")
        UNKNOWN = "unknown", _("unknown event")
        IGNORED = "ignored", _("ignored")

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="events")
    received_at = models.DateTimeField(default=timezone.now)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    content_type = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    # The provider's id of this message; a retry or a replay finds it and stores nothing twice.
    dedup_key = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "dedup_key"], name="inbound_event_dedup"),
        ]
        indexes = [
            models.Index(fields=["status", "run_after"], name="inbound_event_ready"),
        ]


class Conversation(models.Model):
    """A chat, a form submission, an e-mail thread or a messenger thread with one customer."""

    class Kind(models.TextChoices):
        CHAT = "chat", _("chat")
        FORM = "form", _("form")
        EMAIL = "email", _("e-mail")
        MESSAGE = "message", _("messenger")

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="conversations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    external_id = models.CharField(max_length=255)
    subject = models.CharField(max_length=500, blank=True)
    operator = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    operator_name = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    # Chat KPI facts, as the provider reports them.
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rating = models.CharField(max_length=32, blank=True)
    missed = models.BooleanField(default=False)
    # The provider marked the visitor as spam (Jivo's chat.blacklisted): reports count it apart.
    spam = models.BooleanField(default=False)
    utm = models.JSONField(default=dict, blank=True)
    page_url = models.URLField(max_length=1000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="conversation_external_id"),
        ]
        indexes = [models.Index(fields=["contact", "-last_message_at"]),
                   # The chats and process reports read a period's conversations by their start.
                   models.Index(fields=["started_at"], name="conversation_started")]


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("from the customer")
        OUT = "out", _("to the customer")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    external_id = models.CharField(max_length=255)
    author_name = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField(blank=True)
    # Sanitised with nh3 before it is stored; never the provider's raw HTML.
    html = models.TextField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "external_id"], name="message_external_id"),
        ]
        # An e-mail reply whose thread root we never saw is joined by the Message-ID it answers.
        indexes = [models.Index(fields=["external_id"], name="message_external_id_lookup")]


class Delivery(models.Model):
    """An outbound message waiting to be sent through its channel (a reply from the card).

    A row, not a sleeping task: the worker's drain sends it, retries with back-off, and a
    worker killed mid-send leaves it to be claimed again when its lease runs out.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="delivery")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "run_after"], name="delivery_ready")]


class FileFetch(models.Model):
    """A message whose media the first fetch could not download: retried by the worker with back-off.

    The row exists only while a file is still to be tried (stored or given up: deleted), so the
    drain's idle look is one indexed query on a nearly empty table rather than a scan of
    messages' JSON. What happened to each file (attempts, error, given up) stays in the
    message's `meta.files`, which the card shows.
    """

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="file_fetch")
    # Claims by the drain (claim_batch counts them); the per-file tries are in meta.files.
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    # The last crash of a fetch (a bug, not a failed download, which is recorded on its file):
    # shown on the card's files when the drain gives the message up after MAX_CLAIMS.
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["run_after"], name="file_fetch_due")]
