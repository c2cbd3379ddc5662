"""The kanban board of a pipeline: columns of stages, moving a deal by dragging its card.

The board reads through `selectors.board_columns` (one aggregate for every column's count and
sum, then one indexed query per column's first page) and `selectors.stage_page` for "load
more". A drop posts to `deal_move`, which calls `deal_move_to_stage`; a refusal comes back as
400 with the message naming the field, and the script puts the card back where it was.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.core.errors import FieldError
from okno.core.reasons import reason_text
from okno.core.redirects import safe_next
from okno.deals import selectors
from okno.deals.deal_filters import DealFilters
from okno.deals.models import Deal, DealLineItem, Pipeline
from okno.deals.pipeline_services import deal_move_to_stage
from okno.deals.quick_fields import quick_fields
from okno.deals.templatetags.deals_ui import money_text
from okno.people.models import User
from okno.people.visibility import users_visible_to

PER_COLUMN = selectors.PER_COLUMN
# Built-in keys a stage may require, as a person reads them (custom keys use their labels).
BUILTIN_LABELS = {
    "amount": Deal._meta.get_field("amount").verbose_name,
    "responsible_id": Deal._meta.get_field("responsible").verbose_name,
    "company_id": Deal._meta.get_field("company").verbose_name,
    "contact_id": Deal._meta.get_field("contact").verbose_name,
    "source": Deal._meta.get_field("source").verbose_name,
    "title": Deal._meta.get_field("title").verbose_name,
}


def field_label(pipeline: Pipeline, field: str) -> str:
    """"custom.delivery_date" -> "Delivery date" (the pipeline field's label); "lines" -> "line items"."""
    if field.startswith("custom."):
        key = field.removeprefix("custom.")
        label = pipeline.fields.filter(key=key).values_list("label", flat=True).first()
        return label or key
    if field == "lines":
        return _("line items")
    if field.startswith("lines["):
        # "lines[2].price" -> "price" as the line item's column reads.
        part = field.rsplit(".", 1)[-1]
        names = {f.name: f.verbose_name for f in DealLineItem._meta.fields}
        return str(names.get(part, part))
    return str(BUILTIN_LABELS.get(field) or field)


def refusal_text(pipeline: Pipeline, error: FieldError) -> str:
    """One sentence a person can act on: which fields, and why."""
    parts = []
    for item in error.errors:
        label = field_label(pipeline, item["field"])
        parts.append(_("“%(field)s”: %(reason)s") % {"field": label, "reason": reason_text(str(item["reason"]))})
    return "; ".join(parts) or reason_text(error.detail)


def deal_base() -> str:
    """"/deals/": a card's links are this + id + "/" (and + "move/"), as deals:deal and
    deals:move reverse (a test holds them equal)."""
    return reverse("deals:list")


def _people(user: User):
    return User.objects.filter(users_visible_to(user), is_active=True).order_by("first_name", "last_name", "id")


def _board_context(request: HttpRequest, pipeline: Pipeline, filters: DealFilters, pipelines: list) -> dict:
    columns = selectors.board_columns(pipeline=pipeline, user=request.user, per_column=PER_COLUMN,
                                      filters=filters.for_selectors(user=request.user))
    query = urlencode(filters.query(with_sort=False))
    return {
        "pipeline": pipeline, "columns": columns, "filters": filters, "query": query,
        "pipelines": pipelines, "people": _people(request.user),
        "currency": "RUB", "deal_base": deal_base(), "quick_fields": quick_fields(pipeline),
    }


@login_required
def board_default(request: HttpRequest) -> HttpResponse:
    """The first pipeline the user may see; a page that says so when there is none."""
    pipeline = selectors.pipelines_visible(user=request.user).first()
    if pipeline is None:
        return render(request, "deals/board.html", {"pipeline": None, "pipelines": []})
    return redirect("deals:board", pk=pipeline.pk)


@login_required
def board(request: HttpRequest, pk: int) -> HttpResponse:
    pipelines = list(selectors.pipelines_visible(user=request.user))
    # An archived pipeline is not in the switcher but its board still opens.
    pipeline = next((p for p in pipelines if p.pk == pk), None) or selectors.pipeline_get(user=request.user, pk=pk)
    filters = DealFilters.from_query(request.GET)
    return render(request, "deals/board.html", _board_context(request, pipeline, filters, pipelines))


@login_required
def column(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    """The next page of a column ("load more"): cards and, while more remain, the button again."""
    pipeline = selectors.pipeline_get(user=request.user, pk=pk)
    stage = pipeline.stages.filter(pk=stage_id).first()
    if stage is None:
        raise Http404("No such stage")
    filters = DealFilters.from_query(request.GET)
    after = request.GET.get("after", "")
    page = selectors.stage_page(stage=stage, user=request.user, after=int(after) if after.isdigit() else None,
                                per_page=PER_COLUMN, filters=filters.for_selectors(user=request.user))
    return render(request, "deals/_deal_cards.html", {
        "pipeline": pipeline, "stage": stage, "deals": page.deals, "next_after": page.next_after,
        "query": urlencode(filters.query(with_sort=False)), "deal_base": deal_base(),
        "quick_fields": quick_fields(pipeline),
    })


def _columns_json(request: HttpRequest, pipeline: Pipeline, filters: DealFilters, currency: str) -> list[dict]:
    # per_column=0: the aggregate alone (Django answers an empty slice without a query).
    columns = selectors.board_columns(pipeline=pipeline, user=request.user, per_column=0,
                                      filters=filters.for_selectors(user=request.user))
    return [{"stage": c.stage.pk, "count": c.count, "total": money_text(c.total, currency)} for c in columns]


@login_required
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """POST stage=<id> (and the board's filters): 200 {card, columns} or 400 {detail, errors}.

    Without a script (Accept not JSON) it redirects back to the deal page, with the refusal
    as a message."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    stage_id = request.POST.get("stage", "")
    stage = deal.pipeline.stages.filter(pk=int(stage_id)).first() if stage_id.isdigit() else None
    try:
        if stage is None:
            raise FieldError({"stage_id": "no such stage in this pipeline"})
        deal = deal_move_to_stage(deal=deal, stage=stage, actor=request.user, via="user")
    except FieldError as error:
        message = refusal_text(deal.pipeline, error)
        if not wants_json:
            messages.error(request, message)
            return redirect("deals:deal", pk=deal.pk)
        return JsonResponse({"detail": message, "errors": error.errors}, status=400)
    if not wants_json:
        return redirect(safe_next(request, reverse("deals:deal", args=[deal.pk])))
    deal = selectors.deal_get(user=request.user, pk=deal.pk)
    filters = DealFilters.from_query(request.POST)
    card = render_to_string("deals/_card.html", {"deal": deal, "deal_base": deal_base(),
                                                 "quick_fields": quick_fields(deal.pipeline)}, request=request)
    return JsonResponse({"card": card, "stage": deal.stage_id,
                         "columns": _columns_json(request, deal.pipeline, filters, deal.currency)})
