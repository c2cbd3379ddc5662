"""The demo's work queues: what the manager screen serves the moment a manager presses Next.

For the managers of the sales and service departments: follow-ups they booked (some due now,
some later today), new leads waiting in their department's queue, dormant customers to win back
(the first Next of the day serves one, by the max-break rule), and invoices of their deals issued
and not paid by their due date, which the payment-control sweep turns into items, as the worker
does. Callbacks are the history's own (okno/demo/history_calls.py: missed calls not returned,
each with its call). Invoices go through the invoices' services (numbers, payments, timeline).
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from okno.contacts.models import Contact
from okno.deals.models import Deal, Lead
from okno.invoices.services import InvoiceData, invoice_create, payment_record
from okno.people.models import Department, User
from okno.timeline.models import Activity
from okno.work.models import DepartmentWorkSettings, WorkItem
from okno.work.payment_control import payment_control_sweep

SCREEN_DEPARTMENTS = ("Опт", "Розница", "Сервис")
FOLLOW_UPS = ("Уточнить, получил ли КП", "Договорились созвониться", "Напомнить о продлении",
              "Спросить про отзыв о заказе", "Подтвердить дату доставки")
# Per manager: enough for a dozen Nexts in a row, few enough to seed in a second.
FOLLOW_UPS_NOW, FOLLOW_UPS_LATER, DORMANT, INVOICES = 2, 2, 3, 3
NEW_LEADS_PER_DEPARTMENT = 6
NEW_LEAD_TITLES = ("Заявка с сайта: пробный урок", "Заявка с сайта: расчёт стоимости",
                   "Заявка с сайта: перезвоните мне")


@dataclass
class WorkQueueReport:
    managers: int = 0
    follow_ups: int = 0
    new_leads: int = 0
    dormant: int = 0
    invoices: int = 0
    payment_control: int = 0
    callbacks: int = 0


def work_queue_seed(*, admin: User, seed: int | None, say, now: datetime | None = None) -> WorkQueueReport:
    """Seeds the queues; called inside `demo_seed`'s transaction, after the deals and the history."""
    rng = random.Random(f"work-{seed}" if seed is not None else None)
    now = now or timezone.now()
    report = WorkQueueReport()
    departments = list(Department.objects.filter(name__in=SCREEN_DEPARTMENTS).order_by("pk"))
    for department in departments:
        # A short wrap-up so the demo's flow is quick to see; the queue comes to managers by Next
        # only (not taken on "My work"), as issue 18 wants; the rest are the defaults.
        DepartmentWorkSettings.objects.update_or_create(department=department,
                                                        defaults={"wrap_up_seconds": 20, "next_only": True})
        managers = list(User.objects.filter(department=department, role=User.Role.MANAGER, is_active=True)
                        .order_by("pk"))
        for manager in managers:
            if _seed_manager(manager, rng, now, report):
                report.managers += 1
        report.new_leads += _new_leads(department, now)
    report.payment_control = payment_control_sweep(now=now)
    report.callbacks = WorkItem.objects.filter(kind=WorkItem.Kind.CALLBACK, status=WorkItem.Status.OPEN).count()
    say(f"work queues of {report.managers} managers: {report.follow_ups} follow-ups, {report.new_leads} new leads, "
        f"{report.dormant} dormant customers, {report.invoices} invoices ({report.payment_control} unpaid past due)")
    return report


def _seed_manager(manager: User, rng: random.Random, now: datetime, report: WorkQueueReport) -> bool:
    busy = WorkItem.objects.filter(contact=OuterRef("pk"), status=WorkItem.Status.OPEN)
    cards = list(Contact.objects.filter(responsible=manager, status=Contact.Status.ACTIVE).exclude(Exists(busy))
                 .order_by("pk").values_list("pk", flat=True)[:60])
    if len(cards) < FOLLOW_UPS_NOW + FOLLOW_UPS_LATER + DORMANT:
        return False
    rng.shuffle(cards)
    follow = cards[:FOLLOW_UPS_NOW + FOLLOW_UPS_LATER]
    items = [WorkItem(kind=WorkItem.Kind.FOLLOW_UP, contact_id=pk, assignee=manager,
                      department_id=manager.department_id, title=rng.choice(FOLLOW_UPS),
                      due_at=now - timedelta(minutes=rng.randint(5, 90)) if i < FOLLOW_UPS_NOW
                      else now + timedelta(hours=rng.randint(1, 6)))
             for i, pk in enumerate(follow)]
    WorkItem.objects.bulk_create(items)
    report.follow_ups += len(items)
    report.dormant += _dormant(cards[len(follow):], rng, now)
    report.invoices += _invoices(manager, rng, now)
    return True


def _dormant(candidates: list[int], rng: random.Random, now: datetime) -> int:
    """Cards quiet for months (no timeline entry since), which the dormant stack will offer: made
    from cards with no history at all, given an old first purchase."""
    quiet = list(Contact.objects.filter(pk__in=candidates).exclude(
        Exists(Activity.objects.filter(contact=OuterRef("pk")))).values_list("pk", flat=True)[:DORMANT])
    if not quiet:
        return 0
    Contact.objects.filter(pk__in=quiet).update(created_at=now - timedelta(days=400))
    Activity.objects.bulk_create([
        Activity(contact_id=pk, kind=Activity.Kind.SYSTEM, summary="Покупка: курс «Английский B1»",
                 occurred_at=now - timedelta(days=rng.randint(120, 300))) for pk in quiet])
    return len(quiet)


def _invoices(manager: User, rng: random.Random, now: datetime) -> int:
    """Invoices on the manager's open deals: unpaid past due (payment control), partly paid past
    due, one due next week."""
    today = timezone.localdate(now)
    deals = list(Deal.objects.filter(responsible=manager, contact__isnull=False, closed_at__isnull=True,
                                     contact__status=Contact.Status.ACTIVE)
                 .select_related("contact").order_by("-created_at")[:INVOICES])
    for n, deal in enumerate(deals):
        amount = deal.amount if deal.amount and deal.amount > 0 else Decimal(rng.choice([4900, 12500, 36000]))
        due = today + timedelta(days=7) if n == 2 else today - timedelta(days=rng.randint(1, 12))
        invoice = invoice_create(actor=manager, data=InvoiceData(
            amount=amount, due_date=due, deal=deal, issued_on=min(due, today) - timedelta(days=14),
            title=deal.title[:300]))
        # Some customers paid a part in advance: still chased for the rest.
        if due < today and rng.random() < 0.4:
            part = (amount / 3).quantize(Decimal("1"))
            if part > 0:
                payment_record(actor=manager, invoice=invoice, amount=part, note="Предоплата",
                               paid_at=now - timedelta(days=3))
    return len(deals)


def _new_leads(department: Department, now: datetime) -> int:
    """The department's queue: leads from the site nobody could be routed to (as the work feed
    queues them, okno/work/feeds.py), each a new_lead item nobody has taken yet."""
    busy = WorkItem.objects.filter(contact=OuterRef("pk"), status=WorkItem.Status.OPEN)
    open_lead = Lead.objects.filter(contact=OuterRef("pk"), status__in=(Lead.Status.NEW, Lead.Status.IN_WORK))
    cards = list(Contact.objects.filter(department=department, status=Contact.Status.ACTIVE)
                 .exclude(Exists(busy)).exclude(Exists(open_lead)).order_by("-pk")[:NEW_LEADS_PER_DEPARTMENT])
    for i, card in enumerate(cards):
        at = now - timedelta(minutes=3 + 7 * i)
        lead = Lead.objects.create(contact=card, department=department, source="Сайт",
                                   title=NEW_LEAD_TITLES[i % len(NEW_LEAD_TITLES)])
        Lead.objects.filter(pk=lead.pk).update(created_at=at)
        WorkItem.objects.create(kind=WorkItem.Kind.NEW_LEAD, lead=lead, contact=card, department=department,
                                title=lead.title, due_at=at)
    return len(cards)
