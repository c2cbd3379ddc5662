"""The invoices REST API (mounted at /api/v1 by okno/api.py).

Sums travel as strings ("1500.00"), as deals' do, and are accepted as strings or numbers.
An invoice is visible as its card is; another department's answers 404.
"""

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from okno.contacts.models import Contact
from okno.core.errors import ErrorOut, FieldError
from okno.core.paging import RowId, limit_query
from okno.deals.selectors import deals_visible
from okno.invoices import services
from okno.invoices.models import Invoice, Payment
from okno.invoices.selectors import invoice_get, invoices_visible
from okno.people.visibility import contact_visibility_q

router = Router(tags=["invoices"])

Money = str | int | float


class InvoiceIn(Schema):
    deal_id: int | None = None
    contact_id: int | None = None
    amount: Money
    currency: str = "RUB"
    due_date: date
    issued_on: date | None = None
    number: str = ""
    title: str = ""
    draft: bool = False


class PaymentIn(Schema):
    amount: Money
    paid_at: datetime | None = None
    note: str = ""


class PaymentOut(Schema):
    id: int
    amount: str
    paid_at: datetime
    source: str
    note: str
    created_by_id: int | None


class InvoiceOut(Schema):
    id: int
    number: str
    year: int
    deal_id: int | None
    contact_id: int | None
    amount: str
    paid_amount: str
    outstanding: str
    currency: str
    issued_on: date | None
    due_date: date
    status: str
    title: str
    created_at: datetime
    payments: list[PaymentOut]


def payment_out(payment: Payment) -> dict:
    return {"id": payment.pk, "amount": str(payment.amount), "paid_at": payment.paid_at, "source": payment.source,
            "note": payment.note, "created_by_id": payment.created_by_id}


def invoice_out(invoice: Invoice) -> dict:
    return {"id": invoice.pk, "number": invoice.number, "year": invoice.year, "deal_id": invoice.deal_id,
            "contact_id": invoice.contact_id, "amount": str(invoice.amount), "paid_amount": str(invoice.paid_amount),
            "outstanding": str(invoice.outstanding), "currency": invoice.currency, "issued_on": invoice.issued_on,
            "due_date": invoice.due_date, "status": invoice.status, "title": invoice.title,
            "created_at": invoice.created_at, "payments": [payment_out(p) for p in invoice.payments.all()]}


@router.get("/invoices", response=list[InvoiceOut])
def list_invoices(request: HttpRequest, contact: RowId | None = None, deal: RowId | None = None, status: str = "",
                  limit: int = limit_query(100, le=1000)):
    """Invoices the caller may see, newest first; `status=issued,partly_paid` filters by several."""
    qs = invoices_visible(user=request.auth).prefetch_related("payments")
    if contact is not None:
        qs = qs.filter(contact_id=contact)
    if deal is not None:
        qs = qs.filter(deal_id=deal)
    if status:
        wanted = [s for s in status.split(",") if s]
        unknown = [s for s in wanted if s not in Invoice.Status.values]
        if unknown:
            raise FieldError({"status": "one of " + ", ".join(Invoice.Status.values)})
        qs = qs.filter(status__in=wanted)
    return [invoice_out(i) for i in qs.order_by("-id")[:limit]]


@router.get("/invoices/{int:invoice_id}", response=InvoiceOut)
def get_invoice(request: HttpRequest, invoice_id: int):
    return invoice_out(invoice_get(user=request.auth, pk=invoice_id))


@router.post("/invoices", response={201: InvoiceOut, 409: ErrorOut})
def create_invoice(request: HttpRequest, payload: InvoiceIn):
    """`{deal_id | contact_id, amount, due_date, currency?, issued_on?, number?, title?, draft?}`;
    the number is the year's next when left out."""
    errors: dict[str, str] = {}
    deal = contact = None
    if payload.deal_id is not None:
        deal = deals_visible(user=request.auth).select_related("contact").filter(pk=payload.deal_id).first()
        if deal is None:
            errors["deal_id"] = "no such deal"
    if payload.contact_id is not None:
        contact = Contact.objects.filter(contact_visibility_q(request.auth), pk=payload.contact_id,
                                         status=Contact.Status.ACTIVE).first()
        if contact is None:
            errors["contact_id"] = "no such contact"
    amount = services.parse_money(payload.amount, max_value=services.AMOUNT_MAX)
    if amount is None or amount <= 0:
        errors["amount"] = "must be a sum of money above 0 with at most 2 decimals"
    if errors:
        raise FieldError(errors)
    invoice = services.invoice_create(actor=request.auth, data=services.InvoiceData(
        amount=amount, due_date=payload.due_date, deal=deal, contact=contact, number=payload.number,
        currency=payload.currency, issued_on=payload.issued_on, title=payload.title, draft=payload.draft))
    return Status(201, invoice_out(invoice))


@router.post("/invoices/{int:invoice_id}/payments", response={201: InvoiceOut, 409: ErrorOut})
def record_payment(request: HttpRequest, invoice_id: int, payload: PaymentIn):
    """A payment typed in by a person; the invoice comes back with its new status. More than is
    owed: 400 naming `amount` and the outstanding sum."""
    invoice = invoice_get(user=request.auth, pk=invoice_id)
    services.payment_record(actor=request.auth, invoice=invoice, amount=payload.amount, paid_at=payload.paid_at,
                            note=payload.note)
    return Status(201, invoice_out(invoice_get(user=request.auth, pk=invoice_id)))
