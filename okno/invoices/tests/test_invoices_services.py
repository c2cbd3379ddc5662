"""Invoices: numbering per year, payments recomputing the status, overpayment refused, a store's mark paid."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.core.errors import ApiError, FieldError
from okno.invoices.models import Invoice, Payment
from okno.invoices.services import invoice_cancel, invoice_mark_paid, payment_record
from okno.invoices.tests.factories import make_invoice


@pytest.fixture
def customer(db):
    return make_contact()


@pytest.fixture
def published(monkeypatch):
    sent = []
    from okno.core import events

    real = events.publish
    monkeypatch.setattr(events, "publish", lambda name, **kw: (sent.append(name), real(name, **kw))[1])
    return sent


def test_numbers_count_up_within_a_year_and_restart_in_the_next(customer):
    # given / when
    first = make_invoice(contact=customer, issued_on=date(2026, 3, 1), due_date=date(2026, 3, 10))
    second = make_invoice(contact=customer, issued_on=date(2026, 4, 1), due_date=date(2026, 4, 10))
    next_year = make_invoice(contact=customer, issued_on=date(2027, 1, 2), due_date=date(2027, 1, 10))
    # then
    assert (first.number, second.number, next_year.number) == ("1", "2", "1")
    assert next_year.year == 2027


def test_a_typed_number_taken_in_its_year_is_refused_naming_the_field(customer):
    make_invoice(contact=customer, number="A-7")
    with pytest.raises(FieldError) as refused:
        make_invoice(contact=customer, number="A-7")
    assert "number" in refused.value.by_field
    assert Invoice.objects.count() == 1


def test_payments_move_the_status_to_partly_paid_then_paid(customer, published):
    invoice = make_invoice(contact=customer, amount="1000.00")
    # when
    payment_record(actor=None, invoice=invoice, amount="400")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTLY_PAID and invoice.paid_amount == Decimal("400.00")
    payment_record(actor=None, invoice=invoice, amount=600)
    invoice.refresh_from_db()
    # then
    assert invoice.status == Invoice.Status.PAID and invoice.outstanding == 0
    assert published.count("invoice.paid") == 1


def test_an_overpayment_is_refused_with_the_outstanding_sum_and_nothing_saved(customer):
    invoice = make_invoice(contact=customer, amount="1000.00")
    payment_record(actor=None, invoice=invoice, amount="700.00")
    # when
    with pytest.raises(FieldError) as refused:
        payment_record(actor=None, invoice=invoice, amount="300.01")
    # then
    assert refused.value.by_field["amount"] == "exceeds the outstanding 300.00 RUB"
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("700.00") and Payment.objects.count() == 1


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.001", None, True])
def test_a_sum_that_is_not_money_above_zero_is_refused(customer, amount):
    invoice = make_invoice(contact=customer)
    with pytest.raises(FieldError) as refused:
        payment_record(actor=None, invoice=invoice, amount=amount)
    assert "amount" in refused.value.by_field
    assert not Payment.objects.exists()


def test_a_cancelled_or_draft_invoice_takes_no_payment(customer):
    cancelled = invoice_cancel(actor=None, invoice=make_invoice(contact=customer))
    draft = make_invoice(contact=customer, draft=True)
    for invoice in (cancelled, draft):
        with pytest.raises(ApiError) as refused:
            payment_record(actor=None, invoice=invoice, amount="1")
        assert refused.value.status == 409
    assert draft.issued_on is None and draft.status == Invoice.Status.DRAFT


def test_a_payment_dated_in_the_future_is_refused(customer):
    invoice = make_invoice(contact=customer)
    with pytest.raises(FieldError) as refused:
        payment_record(actor=None, invoice=invoice, amount="1", paid_at=timezone.now() + timedelta(days=1))
    assert "paid_at" in refused.value.by_field


def test_a_store_marks_paid_once_however_often_it_says_so(customer, published):
    invoice = make_invoice(contact=customer, amount="1000.00")
    payment_record(actor=None, invoice=invoice, amount="250")
    # when: the store's webhook arrives twice
    invoice_mark_paid(invoice=invoice, external_id="pay-77")
    again = invoice_mark_paid(invoice=invoice, external_id="pay-77")
    # then
    assert again.status == Invoice.Status.PAID
    store = Payment.objects.get(source=Payment.Source.STORE)
    assert store.amount == Decimal("750.00") and store.external_id == "pay-77"
    assert published.count("invoice.paid") == 1


def test_an_invoice_with_payments_cannot_be_cancelled(customer):
    invoice = make_invoice(contact=customer)
    payment_record(actor=None, invoice=invoice, amount="1")
    with pytest.raises(ApiError) as refused:
        invoice_cancel(actor=None, invoice=invoice)
    assert refused.value.status == 409


def test_the_due_date_before_the_issue_date_is_refused(customer):
    with pytest.raises(FieldError) as refused:
        make_invoice(contact=customer, issued_on=date(2026, 5, 10), due_date=date(2026, 5, 1))
    assert "due_date" in refused.value.by_field
