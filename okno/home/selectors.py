"""The user's day: what the home page and the sidebar's "overdue" counter read.

Each panel is one query on an index, limited to what a screen shows (the page stays well under
300 ms whatever the size of the company): missed and due-today deadlines of the deals the user
is responsible for, their new leads, and their open work items due today or overdue.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone

from okno.core.bulk import chunks
from okno.deals.models import Deal, Lead
from okno.people.models import User
from okno.work.models import WorkItem

PANEL_LIMIT = 30


def day_end(now: datetime | None = None) -> datetime:
    """The end of today in the current time zone (the first instant of tomorrow)."""
    local = timezone.localtime(now or timezone.now())
    return timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), time.min), local.tzinfo)


def _deadline_model():
    """robots.Deadline, once the robots app has it (it is being built alongside this page)."""
    try:
        return apps.get_model("robots", "Deadline")
    except LookupError:
        return None


def deadlines_due(*, user: User, now: datetime | None = None) -> list:
    """The user's deadlines that need them today, most urgent first: missed ones still standing
    and open ones falling due before the end of today, on open deals they are responsible for
    and open leads assigned to them. Empty while robots.Deadline does not exist.

    "Still standing": the deal is marked overdue (robots set `Deal.is_overdue` on a miss, a move
    clears it) and the deadline is of the stage the deal is in; for a lead, the lead is open.
    The stage is compared here, not in SQL: without statistics SQLite answered
    `deadline.stage_id = deal.stage_id` through the deadline's stage index (a minute at 200,000
    deadlines); the rows compared are the user's own few."""
    Deadline = _deadline_model()
    if Deadline is None:
        return []
    end = day_end(now)
    # The user's open deals first (their (responsible, stage) index), then their deadlines by the
    # (deal, status) index: one OR across the join made PostgreSQL scan every deadline (84 ms at 200,000).
    mine = list(Deal.objects.filter(responsible_id=user.pk, closed_at__isnull=True)
                .values_list("pk", "stage_id", "is_overdue"))
    overdue = {pk: stage_id for pk, stage_id, is_overdue in mine if is_overdue}
    on_deals = []
    for part in chunks([pk for pk, _, _ in mine], 1000):
        on_deals += list(Deadline.objects.filter(deal_id__in=part, status="open", due_at__lt=end)
                         .select_related("deal", "deal__stage").order_by("due_at", "pk")[:PANEL_LIMIT])
    for part in chunks(list(overdue), 1000):
        on_deals += [d for d in Deadline.objects.filter(deal_id__in=part, status="missed")
                     .select_related("deal", "deal__stage").order_by("due_at", "pk")[:PANEL_LIMIT * 2]
                     if d.stage_id == overdue[d.deal_id]]
    on_leads = (Deadline.objects.filter(lead__assignee_id=user.pk, lead__status__in=Lead.OPEN)
                .filter(Q(status="missed") | Q(status="open", due_at__lt=end))
                .select_related("lead", "lead__contact").order_by("due_at", "pk")[:PANEL_LIMIT])
    return sorted([*on_deals, *on_leads], key=lambda d: (d.due_at, d.pk))[:PANEL_LIMIT]


def overdue_deals_count(*, user: User) -> int:
    """The user's open deals marked overdue (a deadline of their stage missed): the board's mark,
    counted on the (responsible, stage) index."""
    return Deal.objects.filter(responsible_id=user.pk, is_overdue=True, closed_at__isnull=True).count()


def lead_deadlines_missed_count(*, user: User) -> int:
    """Missed deadlines of the user's open leads ("taken within N minutes")."""
    Deadline = _deadline_model()
    if Deadline is None:
        return 0
    return Deadline.objects.filter(status="missed", lead__assignee_id=user.pk, lead__status__in=Lead.OPEN).count()


def new_leads(*, user: User) -> QuerySet[Lead]:
    """The user's leads nobody has started on yet, newest first."""
    return (Lead.objects.filter(assignee_id=user.pk, status=Lead.Status.NEW)
            .select_related("contact", "channel").order_by("-created_at", "-id")[:PANEL_LIMIT])


def work_items_today(*, user: User, now: datetime | None = None) -> QuerySet[WorkItem]:
    """Open work items assigned to the user, due before the end of today (overdue first).
    Served by the (assignee, status, due_at) index."""
    return (WorkItem.objects.filter(assignee_id=user.pk, status=WorkItem.Status.OPEN, due_at__lt=day_end(now))
            .select_related("contact", "deal").order_by("due_at", "id")[:PANEL_LIMIT])


def work_items_overdue_count(*, user: User) -> int:
    return WorkItem.objects.filter(assignee_id=user.pk, status=WorkItem.Status.OPEN, due_at__lt=timezone.now()).count()


@dataclass
class Day:
    deadlines: list
    leads: list[Lead]
    work_items: list[WorkItem]
    now: datetime

    @property
    def is_empty(self) -> bool:
        return not (self.deadlines or self.leads or self.work_items)


def day_for(*, user: User) -> Day:
    now = timezone.now()
    return Day(deadlines=list(deadlines_due(user=user, now=now)), leads=list(new_leads(user=user)),
               work_items=list(work_items_today(user=user, now=now)), now=now)
