"""Suppliers and manufacturers: who an order's lines are bought from.

A deal's line may name its supplier (`DealLineItem.supplier`); when an order is confirmed,
okno.documents makes one supplier order per supplier of its lines. The directory's pages and
API live in okno/documents (documents/suppliers.py); the row lives here so that deals' lines
can point at it without deals importing a higher app.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=300)
    # Lower-cased with ё folded to е, as Company.search_name: SQLite's LIKE folds ASCII only.
    search_name = models.CharField(max_length=300, db_index=True, editable=False, default="")
    # Normalised addresses (okno.core.emails); the first one receives supplier orders.
    emails = models.JSONField(_("e-mails"), default=list, blank=True)
    # [{"e164": "+74951234567", "extension": ""}], normalised by okno.core.phones.
    phones = models.JSONField(_("phones"), default=list, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    # Free fields the administrator names: {"manager": "Ирина", "delivery_days": "3"}.
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
