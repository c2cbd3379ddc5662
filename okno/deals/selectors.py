"""Reading deals, pipelines and leads for a person: always through the card's visibility rule.

`deals_visible` is the one scoped queryset; the board, the list, the deal page, the API and
the export all start from it, so another department's deal is missing (404) everywhere.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from okno.deals.models import Deal, Lead, Pipeline, Stage
from okno.people.models import Department, User
from okno.people.visibility import contact_visibility_q, deal_visibility_q

# A board column's first page; the rest load in pages of the same size.
PER_COLUMN = 20
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class DealFilters:
    """What the board and the list narrow deals by; empty values narrow nothing."""

    responsible_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    q: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue: bool | None = None

    def apply(self, qs: QuerySet[Deal]) -> QuerySet[Deal]:
        if self.responsible_id:
            qs = qs.filter(responsible_id=self.responsible_id)
        if self.contact_id:
            qs = qs.filter(contact_id=self.contact_id)
        if self.company_id:
            qs = qs.filter(company_id=self.company_id)
        if self.q.strip():
            text = self.q.strip()
            cond = Q(title__icontains=text) | Q(external_id=text)
            if text.isdigit():
                cond |= Q(pk=int(text))
            qs = qs.filter(cond)
        if self.created_from:
            qs = qs.filter(created_at__gte=self.created_from)
        if self.created_to:
            qs = qs.filter(created_at__lt=self.created_to)
        if self.overdue is not None:
            qs = qs.filter(is_overdue=self.overdue)
        return qs


NO_FILTERS = DealFilters()


def deals_visible(*, user: User) -> QuerySet[Deal]:
    """Every deal the user may see (okno.people.visibility.deal_visibility_q)."""
    return Deal.objects.filter(deal_visibility_q(user))


def deal_get(*, user: User, pk: int) -> Deal:
    """One deal the user may see, with what its page shows, or 404 (also for other departments')."""
    deal = (deals_visible(user=user)
            .select_related("pipeline", "stage", "contact", "company", "responsible", "department", "lost_reason")
            .filter(pk=pk).first())
    if deal is None:
        raise Http404("No such deal")
    return deal


def deal_list(*, user: User, pipeline_id: int | None = None, stage_id: int | None = None,
              filters: DealFilters = NO_FILTERS) -> QuerySet[Deal]:
    """The list view and the API's list: newest first."""
    qs = deals_visible(user=user)
    if pipeline_id:
        qs = qs.filter(pipeline_id=pipeline_id)
    if stage_id:
        qs = qs.filter(stage_id=stage_id)
    return (filters.apply(qs).select_related("pipeline", "stage", "contact", "company", "responsible")
            .order_by("-created_at", "-id"))


def _ancestor_ids(department_id: int) -> list[int]:
    """The department and those above it (trees are small: dozens of nodes)."""
    parents = dict(Department.objects.values_list("pk", "parent_id"))
    ids, current = [], department_id
    while current is not None and current not in ids:
        ids.append(current)
        current = parents.get(current)
    return ids


def pipelines_visible(*, user: User, include_inactive: bool = False) -> QuerySet[Pipeline]:
    """Company-wide pipelines and those of the user's department or a department above it (a
    team works its division's pipeline); a head also those of their subtree. An administrator
    sees every pipeline."""
    qs = Pipeline.objects.all() if include_inactive else Pipeline.objects.filter(is_active=True)
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_admin:
        return qs
    if not user.department_id:
        return qs.filter(department__isnull=True)
    departments = _ancestor_ids(user.department_id)
    if user.role == User.Role.HEAD:
        departments += Department.objects.get(pk=user.department_id).subtree_ids()
    return qs.filter(Q(department__isnull=True) | Q(department_id__in=departments))


def pipeline_get(*, user: User, pk: int, include_inactive: bool = True) -> Pipeline:
    pipeline = pipelines_visible(user=user, include_inactive=include_inactive).filter(pk=pk).first()
    if pipeline is None:
        raise Http404("No such pipeline")
    return pipeline


def leads_visible(*, user: User) -> QuerySet[Lead]:
    """The leads API's rule: a lead is seen with its customer's card. Also, so that an
    unassigned lead never disappears: its assignee sees it, heads see their subtree's queue and
    members of a department that shares contacts see their department's queue."""
    if not user.is_authenticated or not user.is_active:
        return Lead.objects.none()
    if user.is_admin:
        return Lead.objects.all()
    cond = contact_visibility_q(user, prefix="contact__") | Q(assignee_id=user.pk)
    if user.department_id:
        if user.role == User.Role.HEAD:
            cond |= Q(department_id__in=Department.objects.get(pk=user.department_id).subtree_ids())
        elif user.department.share_contacts:
            cond |= Q(department_id=user.department_id)
    return Lead.objects.filter(cond)


def lead_get(*, user: User, pk: int) -> Lead:
    lead = leads_visible(user=user).select_related("contact", "contact__company").filter(pk=pk).first()
    if lead is None:
        raise Http404("No such lead")
    return lead


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal("0.00")
    deals: list[Deal] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return len(self.deals) < self.count


def _column_qs(*, user: User, stage: Stage, filters: DealFilters) -> QuerySet[Deal]:
    # Filtered by stage (not pipeline): the (stage, -created_at) index serves the column.
    return (filters.apply(deals_visible(user=user).filter(stage_id=stage.pk))
            .select_related("contact", "responsible", "company").order_by("-created_at", "-id"))


def board_columns(*, pipeline: Pipeline, user: User, per_column: int = PER_COLUMN,
                  filters: DealFilters = NO_FILTERS) -> list[BoardColumn]:
    """The kanban board: each stage's count, sum of amounts and first page of deals (newest first).

    One aggregate query grouped by stage, then one query per column's page: the cost does not
    grow with the number of deals in the pipeline beyond the aggregate's scan of its index.
    The sum is Decimal (SQLite sums in binary floating point: exact to the cent below ~10^13)."""
    stages = list(pipeline.stages.all())
    totals = {
        row["stage_id"]: row
        for row in filters.apply(deals_visible(user=user).filter(pipeline_id=pipeline.pk))
        .order_by().values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
    }
    columns = []
    for stage in stages:
        row = totals.get(stage.pk) or {}
        column = BoardColumn(stage=stage, count=row.get("n", 0),
                             total=Decimal(row.get("total") or 0).quantize(Decimal("0.01")))
        if column.count:
            column.deals = list(_column_qs(user=user, stage=stage, filters=filters)[:per_column])
        columns.append(column)
    return columns


@dataclass
class StagePage:
    deals: list[Deal]
    has_more: bool

    @property
    def next_after(self) -> int | None:
        """The cursor of the next page: the last deal's id."""
        return self.deals[-1].pk if self.has_more and self.deals else None


def stage_page(*, stage: Stage, user: User, after: int | None = None, offset: int = 0,
               per_page: int = PER_COLUMN, filters: DealFilters = NO_FILTERS) -> StagePage:
    """More of a board column: the deals after the one with id `after` (a cursor that holds
    while deals are added on top), or from `offset`. Newest first, as the board shows them."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    qs = _column_qs(user=user, stage=stage, filters=filters)
    if after is not None:
        anchor = Deal.objects.filter(pk=after).values_list("created_at", flat=True).first()
        if anchor is not None:
            qs = qs.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=after))
    elif offset:
        qs = qs[max(0, offset):]
    rows = list(qs[:per_page + 1])
    return StagePage(deals=rows[:per_page], has_more=len(rows) > per_page)
