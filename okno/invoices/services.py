"""Invoices: made, paid (by a manager or a store), cancelled.

Rules:
* A number is unique within its year; left out, the next free one of the year is given.
* A payment is recorded only on an issued (or partly paid) invoice, and never for more than is
  still owed: an overpayment is refused naming the outstanding sum, nothing is saved.
* The status follows the payments, under the invoice's row lock: partly_paid while something is
  owed, paid when nothing is. `invoice.paid` is published once, when it becomes paid (the work
  queue closes its payment control item on it).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from okno.contacts.models import Contact
from okno.core import events
from okno.core.errors import ApiError, FieldError
from okno.deals.deal_services import parse_money
from okno.deals.models import Deal
from okno.invoices.models import Invoice, Payment
from okno.people.models import User
from okno.timeline.models import Activity
from okno.timeline.services import activity_record

# The reasons the card's payment form can show, listed so that it shows them translated (reason_text).
REASONS = [gettext_noop("must be a sum of money above 0 with at most 2 decimals"), gettext_noop("must be above 0"),
           gettext_noop("is in the future")]

AMOUNT_MAX = Decimal("999999999999.99")
# A number collision with a parallel invoice_create of the same year: try the next number.
NUMBER_ATTEMPTS = 5


@dataclass
class InvoiceData:
    amount: Decimal
    due_date: date
    deal: Deal | None = None
    contact: Contact | None = None
    number: str = ""
    currency: str = "RUB"
    issued_on: date | None = None
    title: str = ""
    draft: bool = False


def _money(value, field: str, errors: dict[str, str]) -> Decimal | None:
    amount = parse_money(value, max_value=AMOUNT_MAX)
    if amount is None:
        errors[field] = "must be a sum of money above 0 with at most 2 decimals"
    elif amount <= 0:
        errors[field] = "must be above 0"
        return None
    return amount


def _next_number(year: int) -> str:
    """One above the largest all-digits number of the year (typed numbers like "A-7" are skipped)."""
    numbers = Invoice.objects.filter(year=year).values_list("number", flat=True)
    return str(max((int(n) for n in numbers if n.isdigit() and len(n) < 18), default=0) + 1)


def invoice_create(*, actor: User | None, data: InvoiceData) -> Invoice:
    """An invoice on a deal and/or a card (the deal's card when only the deal is given), issued
    today unless it is a draft or another issue date is given."""
    errors: dict[str, str] = {}
    if data.deal is None and data.contact is None:
        errors["contact_id"] = "give deal_id or contact_id"
    contact = data.contact or (data.deal.contact if data.deal is not None else None)
    if data.deal is not None and data.contact is not None and data.deal.contact_id not in (None, data.contact.pk):
        errors["contact_id"] = "is not the deal's contact"
    if data.amount is None or data.amount <= 0:
        errors["amount"] = "must be above 0"
    issued_on = None if data.draft else (data.issued_on or timezone.localdate())
    if issued_on is not None and data.due_date < issued_on:
        errors["due_date"] = "is before the issue date"
    number = (data.number or "").strip()
    if len(number) > 32:
        errors["number"] = "at most 32 characters"
    currency = (data.currency or "RUB").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = "a three-letter code (RUB)"
    if len(data.title or "") > 300:
        errors["title"] = "at most 300 characters"
    if errors:
        raise FieldError(errors)
    year = (issued_on or timezone.localdate()).year
    for _attempt in range(NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                invoice = Invoice.objects.create(
                    deal=data.deal, contact=contact, year=year, number=number or _next_number(year),
                    amount=data.amount, currency=currency, issued_on=issued_on, due_date=data.due_date,
                    status=Invoice.Status.DRAFT if data.draft else Invoice.Status.ISSUED, title=data.title or "",
                    created_by=actor)
                if contact is not None:
                    activity_record(contact=contact, kind=Activity.Kind.SYSTEM, author=actor, detail=invoice,
                                    summary=_("Invoice %(number)s for %(amount)s %(currency)s, due %(due)s") % {
                                        "number": invoice.number, "amount": invoice.amount,
                                        "currency": invoice.currency, "due": invoice.due_date.isoformat()})
                return invoice
        except IntegrityError:
            if number:
                raise FieldError({"number": f"invoice {number} of {year} exists already"}) from None
    raise ApiError(_("Could not give the invoice a number; try again"), status=409)


@transaction.atomic
def invoice_issue(*, actor: User | None, invoice: Invoice, issued_on: date | None = None) -> Invoice:
    """A draft goes out: issued today (or on `issued_on`)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise ApiError(_("Only a draft can be issued"), status=409)
    invoice.issued_on = issued_on or timezone.localdate()
    invoice.status = Invoice.Status.ISSUED
    invoice.save(update_fields=["issued_on", "status"])
    return invoice


@transaction.atomic
def invoice_cancel(*, actor: User | None, invoice: Invoice) -> Invoice:
    """Cancels an invoice nothing was paid on (a paid one is refunded, not cancelled)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.paid_amount > 0:
        raise ApiError(_("Payments were recorded on this invoice; it cannot be cancelled"), status=409)
    if invoice.status == Invoice.Status.CANCELLED:
        return invoice
    invoice.status = Invoice.Status.CANCELLED
    invoice.save(update_fields=["status"])
    events.publish("invoice.cancelled", subject=invoice, actor=actor, data=_event_data(invoice, actor))
    return invoice


def _event_data(invoice: Invoice, actor: User | None) -> dict:
    return {"invoice_id": invoice.pk, "number": invoice.number, "year": invoice.year, "deal_id": invoice.deal_id,
            "contact_id": invoice.contact_id, "amount": str(invoice.amount), "paid_amount": str(invoice.paid_amount),
            "status": invoice.status, "actor_id": actor.pk if actor else None}


def _status_for(invoice: Invoice) -> str:
    if invoice.paid_amount >= invoice.amount:
        return Invoice.Status.PAID
    if invoice.paid_amount > 0:
        return Invoice.Status.PARTLY_PAID
    return Invoice.Status.ISSUED


@transaction.atomic
def payment_record(*, actor: User | None, invoice: Invoice, amount, paid_at: datetime | None = None,
                   source: str = Payment.Source.MANUAL, note: str = "", external_id: str = "") -> Payment:
    """Records a payment and recomputes the invoice's status.

    Refused (400 naming the field, nothing saved): a sum that is not money above 0, more than is
    still owed (`amount`: "exceeds the outstanding 500.00"), a payment dated in the future; 409
    on a draft, cancelled or paid invoice. A store's payment with an `external_id` seen before
    on this invoice returns that payment (a webhook delivered twice)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if external_id:
        seen = Payment.objects.filter(invoice=invoice, source=source, external_id=external_id).first()
        if seen is not None:
            return seen
    errors: dict[str, str] = {}
    value = _money(amount, "amount", errors)
    if source not in Payment.Source.values:
        errors["source"] = "one of " + ", ".join(Payment.Source.values)
    now = timezone.now()
    paid_at = paid_at or now
    if timezone.is_naive(paid_at):
        paid_at = timezone.make_aware(paid_at)
    # A few minutes of clock skew between a store and us is not "the future".
    if paid_at > now + timedelta(minutes=5):
        errors["paid_at"] = "is in the future"
    if len(note or "") > 500:
        errors["note"] = "at most 500 characters"
    if len(external_id or "") > 100:
        errors["external_id"] = "at most 100 characters"
    if errors:
        raise FieldError(errors)
    if invoice.status not in Invoice.UNPAID:
        raise ApiError(_("This invoice takes no payments: it is %(status)s") % {
            "status": invoice.get_status_display()}, status=409, status_code=invoice.status)
    if value > invoice.outstanding:
        raise FieldError({"amount": f"exceeds the outstanding {invoice.outstanding} {invoice.currency}"},
                         detail=_("Overpayment: only %(sum)s %(currency)s is owed on this invoice") % {
                             "sum": invoice.outstanding, "currency": invoice.currency})
    payment = Payment.objects.create(invoice=invoice, amount=value, paid_at=paid_at, source=source,
                                     note=note or "", external_id=external_id or "", created_by=actor)
    invoice.paid_amount = Payment.objects.filter(invoice=invoice).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    invoice.status = _status_for(invoice)
    invoice.save(update_fields=["paid_amount", "status"])
    if invoice.contact_id:
        activity_record(contact=invoice.contact, kind=Activity.Kind.SYSTEM, author=actor, detail=invoice,
                        occurred_at=paid_at,
                        summary=_("Payment of %(amount)s %(currency)s on invoice %(number)s") % {
                            "amount": value, "currency": invoice.currency, "number": invoice.number})
    data = {**_event_data(invoice, actor), "payment_id": payment.pk, "payment_amount": str(value), "source": source}
    events.publish("invoice.payment_recorded", subject=invoice, actor=actor, data=data)
    if invoice.status == Invoice.Status.PAID:
        events.publish("invoice.paid", subject=invoice, actor=actor, data=data)
    return payment


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, paid_at: datetime | None = None, external_id: str = "",
                      note: str = "", actor: User | None = None) -> Invoice:
    """A store says the invoice is paid: a `store` payment of what is still owed.

    Safe to call twice (a repeated webhook): a paid invoice is returned as it is, and a payment
    with the same `external_id` is recorded once. A cancelled or draft invoice: 409."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.PAID:
        return invoice
    if invoice.status not in Invoice.UNPAID:
        raise ApiError(_("This invoice takes no payments: it is %(status)s") % {
            "status": invoice.get_status_display()}, status=409, status_code=invoice.status)
    payment_record(actor=actor, invoice=invoice, amount=invoice.outstanding, paid_at=paid_at,
                   source=Payment.Source.STORE, note=note, external_id=external_id)
    invoice.refresh_from_db()
    return invoice
