"""Payment control: an issued invoice not paid by its due date becomes a `payment_control` item.

A worker drain sweeps the unpaid invoices whose due date has passed (the day after it, in the
company's time zone) and makes one item per invoice, for the card's responsible (else the
deal's), due at once, so Next serves it by the department's rank for the kind. When the invoice
is paid (or cancelled) its open item closes by itself (`invoice.paid`, `invoice.cancelled`).
A manager who closes the item while the invoice is still unpaid (the customer promised) gets
it back after REPEAT_AFTER_DAYS if nothing was paid meanwhile.
"""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.events import Event
from okno.invoices.models import Invoice
from okno.work.models import WorkItem
from okno.work.queue_live import workitem_announce
from okno.work.services import workitem_done

# A chased invoice closed as done while unpaid is chased again after this long: a promise to
# pay is worth a few days, not for ever.
REPEAT_AFTER_DAYS = 3
BATCH = 200


def _overdue(today: date, now):
    chased = WorkItem.objects.filter(invoice=OuterRef("pk"), kind=WorkItem.Kind.PAYMENT_CONTROL).filter(
        Q(status=WorkItem.Status.OPEN) | Q(closed_at__gte=now - timedelta(days=REPEAT_AFTER_DAYS)))
    return (Invoice.objects.filter(status__in=Invoice.UNPAID, due_date__lt=today).exclude(Exists(chased))
            .select_related("contact__responsible", "deal__responsible").order_by("due_date", "id"))


def payment_control_item_for(*, invoice: Invoice, now=None) -> WorkItem | None:
    """The item chasing `invoice`, or None when another worker made it a moment ago."""
    now = now or timezone.now()
    person = None
    for owner in (invoice.contact, invoice.deal):
        responsible = owner.responsible if owner is not None and owner.responsible_id else None
        if responsible is not None and responsible.is_active:
            person = responsible
            break
    department_id = (person.department_id if person else None) or (
        invoice.contact.department_id if invoice.contact_id else None) or (
        invoice.deal.department_id if invoice.deal_id else None)
    title = _("Invoice %(number)s is not paid: %(sum)s %(currency)s were due on %(due)s") % {
        "number": invoice.number, "sum": invoice.outstanding, "currency": invoice.currency,
        "due": invoice.due_date.strftime("%d.%m.%Y")}
    try:
        with transaction.atomic():
            item = WorkItem.objects.create(kind=WorkItem.Kind.PAYMENT_CONTROL, invoice=invoice,
                                           contact_id=invoice.contact_id, deal_id=invoice.deal_id, assignee=person,
                                           department_id=department_id, title=title[:300], due_at=now)
        workitem_announce(item)
        return item
    except IntegrityError:  # the partial unique index: one open item per invoice
        return None


def payment_control_sweep(*, today: date | None = None, now=None, batch: int = BATCH) -> int:
    """The worker's drain: one item per unpaid invoice past its due date; how many were made."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    made = 0
    for invoice in list(_overdue(today, now)[:batch]):
        if payment_control_item_for(invoice=invoice, now=now) is not None:
            made += 1
    return made


def payment_control_close(event: Event) -> None:
    """`invoice.paid` / `invoice.cancelled`: the invoice's open item closes (nothing left to chase)."""
    reason = "paid" if event.name == "invoice.paid" else "invoice cancelled"
    for item in WorkItem.objects.filter(invoice_id=event.subject.pk, kind=WorkItem.Kind.PAYMENT_CONTROL,
                                        status=WorkItem.Status.OPEN):
        workitem_done(actor=None, item=item, reason=reason)


def register() -> None:
    from okno.core import events, worker

    # Due dates are days: a sweep every few minutes is prompt enough and costs one indexed query.
    worker.register_drain("payment_control", lambda: payment_control_sweep(), idle_sleep=300.0)
    events.subscribe("invoice.paid", payment_control_close, key="work.payment_control.paid")
    events.subscribe("invoice.cancelled", payment_control_close, key="work.payment_control.cancelled")
