"""Invoices' test data: through the service, as a manager or a store makes them."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from okno.invoices.models import Invoice
from okno.invoices.services import InvoiceData, invoice_create


def make_invoice(*, contact=None, deal=None, amount: str = "1000.00", due_in_days: int = 7,
                 due_date: date | None = None, actor=None, **fields) -> Invoice:
    due = due_date or timezone.localdate() + timedelta(days=due_in_days)
    issued_on = fields.pop("issued_on", None) or min(due, timezone.localdate())
    return invoice_create(actor=actor, data=InvoiceData(amount=Decimal(amount), due_date=due, contact=contact,
                                                        deal=deal, issued_on=issued_on, **fields))
