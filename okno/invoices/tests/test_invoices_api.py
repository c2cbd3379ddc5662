"""/api/v1/invoices over HTTP: made, listed as their cards are seen, paid; bad input named."""

from datetime import timedelta

import pytest
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.deals.tests.factories import DealFactory
from okno.invoices.models import Invoice, Payment
from okno.people.tests.factories import DepartmentFactory, UserFactory

DUE = (timezone.localdate() + timedelta(days=10)).isoformat()


@pytest.fixture
def manager(db):
    return UserFactory(department=DepartmentFactory())


@pytest.fixture
def customer(manager):
    return make_contact(actor=manager)


def test_an_invoice_on_a_deal_takes_the_deals_card_and_the_years_next_number(manager, customer, api_as):
    # given
    deal = DealFactory(contact=customer, responsible=manager)
    # when
    answer = api_as(manager).post("/api/v1/invoices", {"deal_id": deal.pk, "amount": "1500.50", "due_date": DUE})
    # then
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["contact_id"] == customer.pk and body["number"] == "1" and body["status"] == "issued"
    assert body["amount"] == "1500.50" and body["outstanding"] == "1500.50"
    assert Invoice.objects.get().deal_id == deal.pk


def test_a_payment_over_http_returns_the_invoice_with_its_new_status(manager, customer, api_as):
    api = api_as(manager)
    invoice = api.post("/api/v1/invoices", {"contact_id": customer.pk, "amount": 1000, "due_date": DUE}).json()
    # when
    part = api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "400", "note": "наличными"})
    rest = api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "600.00"})
    # then
    assert part.status_code == 201 and part.json()["status"] == "partly_paid"
    assert rest.json()["status"] == "paid" and len(rest.json()["payments"]) == 2
    assert Payment.objects.filter(created_by=manager).count() == 2


def test_an_overpayment_answers_400_naming_amount_and_the_sum_owed(manager, customer, api_as):
    api = api_as(manager)
    invoice = api.post("/api/v1/invoices", {"contact_id": customer.pk, "amount": "100", "due_date": DUE}).json()
    answer = api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "100.01"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "amount", "reason": "exceeds the outstanding 100.00 RUB"}]
    assert not Payment.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"amount": "100", "due_date": DUE}, "contact_id"),
    ({"contact_id": 999999, "amount": "100", "due_date": DUE}, "contact_id"),
    ({"deal_id": 999999, "amount": "100", "due_date": DUE}, "deal_id"),
    ({"contact_id": None, "amount": "-1", "due_date": DUE}, "amount"),
    ({"contact_id": None, "amount": "100", "due_date": "2020-01-01"}, "due_date"),
    ({"contact_id": None, "amount": "100", "due_date": DUE, "currency": "рубли"}, "currency"),
])
def test_bad_input_names_the_field_and_saves_nothing(manager, customer, api_as, body, field):
    if "contact_id" in body and body["contact_id"] is None:
        body = {**body, "contact_id": customer.pk}
    answer = api_as(manager).post("/api/v1/invoices", body)
    assert answer.status_code == 400, answer.content
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert not Invoice.objects.exists()


def test_another_departments_invoice_is_neither_listed_nor_payable(manager, customer, api_as):
    # given: an invoice on a card of another department's manager
    other = UserFactory(department=DepartmentFactory())
    theirs = make_contact(actor=other)
    invoice = api_as(other).post("/api/v1/invoices", {"contact_id": theirs.pk, "amount": "5", "due_date": DUE}).json()
    api = api_as(manager)
    # when / then
    assert api.get("/api/v1/invoices").json() == []
    assert api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "5"}).status_code == 404
    assert api.post("/api/v1/invoices", {"contact_id": theirs.pk, "amount": "5", "due_date": DUE}).status_code == 400


def test_the_list_filters_by_card_and_status(manager, customer, api_as):
    api = api_as(manager)
    paid = api.post("/api/v1/invoices", {"contact_id": customer.pk, "amount": "5", "due_date": DUE}).json()
    api.post(f"/api/v1/invoices/{paid['id']}/payments", {"amount": "5"})
    api.post("/api/v1/invoices", {"contact_id": customer.pk, "amount": "7", "due_date": DUE})
    unpaid = api.get("/api/v1/invoices", contact=customer.pk, status="issued,partly_paid").json()
    assert [i["amount"] for i in unpaid] == ["7.00"]
    assert api.get("/api/v1/invoices", status="bogus").status_code == 400

