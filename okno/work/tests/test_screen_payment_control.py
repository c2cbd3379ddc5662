"""Payment control: an unpaid invoice past its due date becomes one work item; paying it closes the item."""

from datetime import timedelta

import pytest
from django.utils import timezone

from okno.contacts.tests.factories import make_contact
from okno.invoices.services import invoice_cancel, invoice_mark_paid, payment_record
from okno.invoices.tests.factories import make_invoice
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.work.models import WorkItem
from okno.work.payment_control import REPEAT_AFTER_DAYS, payment_control_sweep
from okno.work.queue import workitem_next
from okno.work.tests.factories import just_closed


@pytest.fixture
def manager(db):
    return UserFactory(department=DepartmentFactory())


@pytest.fixture
def customer(manager):
    return make_contact(actor=manager)


def _overdue_invoice(customer, amount="1000.00", days=2):
    today = timezone.localdate()
    return make_invoice(contact=customer, amount=amount, issued_on=today - timedelta(days=days + 5),
                        due_date=today - timedelta(days=days))


def test_an_invoice_unpaid_after_its_due_date_becomes_one_item_for_the_cards_manager(manager, customer):
    # given: one overdue invoice, one due today, one overdue but paid
    overdue = _overdue_invoice(customer)
    make_invoice(contact=customer, due_date=timezone.localdate())
    paid = _overdue_invoice(customer)
    payment_record(actor=None, invoice=paid, amount=paid.amount)
    # when: the sweep runs twice
    made = payment_control_sweep() + payment_control_sweep()
    # then
    item = WorkItem.objects.get(kind=WorkItem.Kind.PAYMENT_CONTROL)
    assert made == 1
    assert (item.invoice_id, item.contact_id, item.assignee_id, item.department_id) == (
        overdue.pk, customer.pk, manager.pk, manager.department_id)
    assert item.status == WorkItem.Status.OPEN and overdue.number in item.title


def test_next_serves_the_payment_control_item(manager, customer):
    _overdue_invoice(customer)
    payment_control_sweep()
    just_closed(manager)
    assert workitem_next(actor=manager).kind == WorkItem.Kind.PAYMENT_CONTROL


@pytest.mark.parametrize("settle", ["payment", "store", "cancel"])
def test_paying_or_cancelling_the_invoice_closes_its_item(manager, customer, settle):
    invoice = _overdue_invoice(customer, amount="500.00")
    payment_control_sweep()
    # when
    if settle == "payment":
        payment_record(actor=manager, invoice=invoice, amount="200")
        assert WorkItem.objects.get().status == WorkItem.Status.OPEN  # partly paid: still chased
        payment_record(actor=manager, invoice=invoice, amount="300")
    elif settle == "store":
        invoice_mark_paid(invoice=invoice, external_id="p-1")
    else:
        invoice_cancel(actor=manager, invoice=invoice)
    # then
    item = WorkItem.objects.get()
    assert item.status == WorkItem.Status.DONE and item.closed_reason in ("paid", "invoice cancelled")


def test_an_item_closed_while_unpaid_comes_back_after_some_days(manager, customer):
    _overdue_invoice(customer)
    payment_control_sweep()
    WorkItem.objects.update(status=WorkItem.Status.DONE, closed_at=timezone.now())
    # when: the next sweeps, the same day and days later
    soon = payment_control_sweep()
    later = payment_control_sweep(now=timezone.now() + timedelta(days=REPEAT_AFTER_DAYS, hours=1))
    # then
    assert (soon, later) == (0, 1)
    assert WorkItem.objects.filter(status=WorkItem.Status.OPEN).count() == 1


def test_an_invoice_whose_card_has_no_manager_goes_to_the_departments_queue(db):
    sales = DepartmentFactory()
    admin = UserFactory(role="admin", department=None)
    card = make_contact(actor=admin)
    card.department = sales
    card.save(update_fields=["department"])
    _overdue_invoice(card)
    payment_control_sweep()
    item = WorkItem.objects.get()
    assert item.assignee_id is None and item.department_id == sales.pk


def test_the_worker_runs_the_sweep(manager, customer):
    from okno.core import worker

    _overdue_invoice(customer)
    drain = next(d for d in worker.drains() if d.name == "payment_control")
    assert drain.fn() == 1 and drain.fn() == 0
