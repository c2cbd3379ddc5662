from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Activity(models.Model):
    """One thing that happened to a customer, in the card's timeline.

    Every domain writes its own detail row (a Note, a Chat, a Call, an e-mail, a Deal) and
    one Activity pointing at it, so the timeline is one indexed query on
    (contact, occurred_at) however many kinds of things later issues add.
    """

    class Kind(models.TextChoices):
        NOTE = "note", _("note")
        CHAT = "chat", _("chat")
        CALL = "call", _("call")
        EMAIL = "email", _("e-mail")
        FORM = "form", _("form")
        MESSAGE = "message", _("message")
        DEAL = "deal", _("deal")
        MERGE = "merge", _("merge")
        SYSTEM = "system", _("system")
        # An e-mail or SMS Okno sent (okno.outbox), drawn by the outbox's fragment.
        OUTBOX = "outbox", _("sent message")
        # A document Okno generated for a deal (okno.documents), drawn by its fragment.
        DOCUMENT = "document", _("document")

    # Indexed by (contact, -occurred_at) only: a single-column index beside it served no query
    # and was one more entry per timeline row written (bench_cdr).
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="activities",
                                db_index=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    summary = models.CharField(max_length=500, blank=True)
    detail_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    detail_id = models.PositiveBigIntegerField(null=True, blank=True)
    detail = GenericForeignKey("detail_type", "detail_id")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["contact", "-occurred_at"])]


class Note(models.Model):
    body = models.TextField(_("note"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
