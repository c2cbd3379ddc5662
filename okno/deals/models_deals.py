"""Pipelines, their stages, deals and line items: the process a lead turns into.

A deal moves only through `deal_move_to_stage` (okno.deals.pipeline_services): one service,
one transaction, so robots and deadlines are never skipped by one path and doubled by another.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Pipeline(models.Model):
    """An ordered set of stages: per department, or company-wide when `department` is empty."""

    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey("people.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="pipelines", verbose_name=_("department"))
    # The business calendar its deadlines count on; empty: the company's default calendar.
    calendar = models.ForeignKey("core.Calendar", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("calendar"))
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("open")
        PAUSED = "paused", _("paused")
        WON = "won", _("won")
        LOST = "lost", _("lost")

    CLOSED = (Kind.WON, Kind.LOST)

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.OPEN)
    position = models.PositiveIntegerField(default=0)
    # Field keys a deal must have filled before it may enter: built-in ("amount", "responsible",
    # "company") or the pipeline's custom field keys ("delivery_date").
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    color = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]

    def __str__(self) -> str:
        return self.name


class PipelineField(models.Model):
    """A custom field of a pipeline's deals; values live in Deal.custom[key]."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        NUMBER = "number", _("number")
        DATE = "date", _("date")
        CHOICE = "choice", _("choice")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(_("key"), max_length=64)
    label = models.CharField(_("label"), max_length=200)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "key"], name="pipeline_field_key_unique")]


class LostReason(models.Model):
    """A reason a lead or deal is closed as lost, from a list the administrator keeps."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Deal(models.Model):
    """A sale or an order on a pipeline. Amount is money (Decimal), never a float."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals",
                                 verbose_name=_("pipeline"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage"))
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="deals", verbose_name=_("contact"))
    company = models.ForeignKey("contacts.Company", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="deals", verbose_name=_("company"))
    lead = models.ForeignKey("deals.Lead", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="deals")
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="deals")
    title = models.CharField(_("title"), max_length=300)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="deals", verbose_name=_("responsible"))
    # The owning department: the card's visibility rule applies to deals through it.
    department = models.ForeignKey("people.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("department"))
    source = models.CharField(_("source"), max_length=100, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    # An outside system's id (a store's order number): unique per pipeline when given.
    external_id = models.CharField(max_length=100, blank=True)
    lost_reason = models.ForeignKey(LostReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A deadline of its stage was missed and not yet met: the board marks it.
    is_overdue = models.BooleanField(default=False)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The board: a stage's column, newest first.
            models.Index(fields=["stage", "-created_at"]),
            models.Index(fields=["contact", "-created_at"]),
            models.Index(fields=["responsible", "stage"]),
            # The process report's rollup reads live the deals not closed before a day was built
            # (okno.analytics.process_rollup): open ones and those closed since, a sliver of the year.
            models.Index(fields=["closed_at"], name="deal_closed_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "external_id"], name="deal_external_id_unique",
                                    condition=~models.Q(external_id="")),
        ]

    def __str__(self) -> str:
        return self.title


class DealLineItem(models.Model):
    """A line of a deal as it was sold: a snapshot, never a link to a catalogue."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    name = models.CharField(_("name"), max_length=500)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"))
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2, default=Decimal("0"))
    position = models.PositiveIntegerField(default=0)
    supplier = models.ForeignKey("deals.Supplier", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="lines", verbose_name=_("supplier"))

    class Meta:
        ordering = ["deal", "position", "id"]

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.price).quantize(Decimal("0.01"))


class DealStageChange(models.Model):
    """Every move of a deal: who or what moved it, from where to where, when (the analytics'
    source for time in stage and time in pause)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # "user", "robot", "api", "store", "event": the path that asked for the move.
    via = models.CharField(max_length=16, default="user")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["deal", "at"])]
