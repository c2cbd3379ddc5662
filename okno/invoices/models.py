"""Invoices and the payments recorded against them.

An invoice asks a customer for money on a deal; payments (typed in by a manager, or reported
by a store) pay it off. Its status follows its payments (okno/invoices/services.py
`payment_record`): nothing else sets partly_paid or paid. Money is Decimal, never a float.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ISSUED = "issued", _("issued")
        PARTLY_PAID = "partly_paid", _("partly paid")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    # Issued and not yet paid off: what a customer owes, and what payment control watches.
    UNPAID = (Status.ISSUED, Status.PARTLY_PAID)

    deal = models.ForeignKey("deals.Deal", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="invoices", verbose_name=_("deal"))
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="invoices", verbose_name=_("contact"))
    # Numbers restart every year ("12" of 2026 and "12" of 2027 are two invoices), as Russian
    # accounting numbers them; `year` is the issue year the number belongs to.
    year = models.PositiveSmallIntegerField()
    number = models.CharField(_("number"), max_length=32)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    # Kept equal to the sum of the payments by payment_record (under the invoice's row lock), so
    # lists and the screen show what is owed without summing payments per row.
    paid_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ISSUED)
    title = models.CharField(_("title"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-year", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="invoice_number_unique_per_year"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="invoice_amount_positive"),
        ]
        indexes = [
            # Payment control: unpaid invoices past their due date.
            models.Index(fields=["due_date"], name="invoice_unpaid_due",
                         condition=models.Q(status__in=["issued", "partly_paid"])),
            models.Index(fields=["contact", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.number}/{self.year}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.paid_amount, Decimal("0"))


class Payment(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("manual")
        STORE = "store", _("store")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    # The store's own id of the payment: a webhook delivered twice records it once.
    external_id = models.CharField(max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["paid_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(fields=["invoice", "source", "external_id"], name="payment_external_id_unique",
                                    condition=~models.Q(external_id="")),
        ]
