"""Reads of invoices, scoped as their cards are (an invoice with no card: as its deal is)."""

from django.db.models import Q, QuerySet
from django.http import Http404

from okno.invoices.models import Invoice
from okno.people.models import User
from okno.people.visibility import contact_visibility_q, deal_visibility_q


def invoices_visible(*, user: User) -> QuerySet[Invoice]:
    with_card = Q(contact__isnull=False) & contact_visibility_q(user, prefix="contact__")
    deal_only = Q(contact__isnull=True, deal__isnull=False) & deal_visibility_q(user, prefix="deal__")
    return Invoice.objects.filter(with_card | deal_only)


def invoice_get(*, user: User, pk: int) -> Invoice:
    invoice = invoices_visible(user=user).filter(pk=pk).first()
    if invoice is None:
        raise Http404("No such invoice")
    return invoice


def invoices_for_contact(*, user: User, contact_id: int) -> list[Invoice]:
    """A card's invoices with their payments (two queries), newest first: the manager screen's panel."""
    return list(invoices_visible(user=user).filter(contact_id=contact_id)
                .select_related("deal").prefetch_related("payments").order_by("-issued_on", "-id"))
