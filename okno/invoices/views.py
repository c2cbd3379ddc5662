"""Invoice fragments: a card's invoices with their payments (the manager screen shows them), and
a payment typed in by a manager."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from okno.core.errors import ApiError, FieldError
from okno.core.reasons import reason_text
from okno.invoices.selectors import invoice_get, invoices_for_contact
from okno.invoices.services import payment_record


def _panel(request: HttpRequest, contact_id: int | None, **extra) -> HttpResponse:
    invoices = invoices_for_contact(user=request.user, contact_id=contact_id) if contact_id else []
    return render(request, "invoices/_for_contact.html", {"invoices": invoices, "contact_id": contact_id,
                                                          "today": timezone.localdate(), **extra})


@login_required
@require_GET
def for_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _panel(request, contact_id)


@login_required
@require_POST
def payment(request: HttpRequest, pk: int) -> HttpResponse:
    """Records a payment and answers the card's invoices again; a refusal (overpayment, not money)
    is shown beside the invoice, and nothing is saved."""
    invoice = invoice_get(user=request.user, pk=pk)
    amount = request.POST.get("amount", "").strip()
    try:
        payment_record(actor=request.user, invoice=invoice, amount=amount or invoice.outstanding)
    except FieldError as exc:
        return _panel(request, invoice.contact_id, pay_error_id=invoice.pk, pay_typed=amount,
                      pay_error=exc.detail if "amount" in exc.by_field and exc.detail != "Invalid input"
                      else "; ".join(reason_text(r) for r in exc.by_field.values()))
    except ApiError as exc:
        return _panel(request, invoice.contact_id, pay_error_id=invoice.pk, pay_typed=amount, pay_error=exc.detail)
    return _panel(request, invoice.contact_id)
