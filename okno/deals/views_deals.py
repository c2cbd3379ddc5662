"""The deal list (filters, sort, pages, export), the deal page with its fields edited in place,
and the deals panel of a contact's card.

Every read goes through okno.deals.selectors (another department's deal is 404 on each
page); every write is one call to a service in okno.deals.pipeline_services, whose FieldError
is shown beside the field it names.
"""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from okno.contacts import views_export
from okno.contacts.export_jobs import export_job_create
from okno.contacts.models import ExportJob
from okno.contacts.views_export import bad_format, export_format
from okno.core.errors import FieldError
from okno.deals import selectors
from okno.deals.deal_extras import deal_extras
from okno.deals.deal_filters import DealFilters
from okno.deals.exports import deals_listed, export_response
from okno.deals.models import Deal
from okno.deals.pipeline_services import deal_data_clean, deal_lines_set, deal_move_to_stage, deal_update
from okno.deals.quick_fields import QUICK_KEYS, quick_fields
from okno.deals.views_board import _people, refusal_text
from okno.timeline.selectors import timeline_for_card

PAGE_SIZE = 50
# Fields of the deal page edited in place; the stage moves through deal_move_to_stage.
INLINE_FIELDS = ("title", "amount", "responsible", "stage")
# The contact card's panel: the newest deals; the list page has the rest.
CARD_PANEL_LIMIT = 20


def _listed(request: HttpRequest, filters: DealFilters):
    return deals_listed(user=request.user, filters=filters)  # the same queryset as the export's


@login_required
def deal_list_page(request: HttpRequest) -> HttpResponse:
    filters = DealFilters.from_query(request.GET)
    page = Paginator(_listed(request, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    pipelines = list(selectors.pipelines_visible(user=request.user))
    stages = []
    if filters.pipeline:
        stages = next((list(p.stages.all()) for p in pipelines if p.pk == filters.pipeline), [])
    query = filters.query()
    return render(request, "deals/deal_list.html", {
        "page": page, "filters": filters, "pipelines": pipelines, "stages": stages,
        "people": _people(request.user), "show_pipeline": True,
        "query": urlencode(query), "query_without_sort": urlencode(filters.query(with_sort=False)),
        "export_csv": urlencode({**query, "format": "csv"}), "export_xlsx": urlencode({**query, "format": "xlsx"}),
    })


@login_required
def deal_export(request: HttpRequest) -> HttpResponse:
    """The list's rows with its filters and sort, every page of them: XLSX or CSV; a list longer
    than STREAM_MAX_ROWS is written by an export job (okno/contacts/export_jobs.py)."""
    fmt = export_format(request)
    if fmt is None:
        return bad_format()
    filters = DealFilters.from_query(request.GET)
    deals = _listed(request, filters)
    total = deals.count()
    if total > views_export.STREAM_MAX_ROWS:
        job = export_job_create(actor=request.user, kind=ExportJob.Kind.DEALS, fmt=fmt, params=filters.query(),
                                total=total)
        return redirect("contacts:export_job", pk=job.pk)
    return export_response(fmt=fmt, deals=deals)


def _with_times(item: dict) -> dict:
    """The API's ISO 8601 times of a deadline or robot run, also as the reader's local time
    (`due_at_display`, ...)."""
    out = dict(item)
    for key, value in item.items():
        if isinstance(value, str) and key.endswith("_at") or key == "at":
            try:
                moment = datetime.fromisoformat(value) if isinstance(value, str) else value
            except ValueError:
                continue
            if isinstance(moment, datetime):
                if timezone.is_aware(moment):
                    moment = timezone.localtime(moment)
                out[f"{key}_display"] = date_format(moment, "SHORT_DATETIME_FORMAT")
    return out


def _custom_fields(pipeline) -> list:
    """The pipeline's fields for the deal page's form: all but the quick ones, which are edited
    in place beside the deal's other fields (okno/deals/views_quick.py)."""
    return [f for f in pipeline.fields.all() if f.key not in QUICK_KEYS]


def _page_context(request: HttpRequest, deal: Deal) -> dict:
    pipeline = deal.pipeline
    fields = _custom_fields(pipeline)
    extras = deal_extras(deal)
    return {
        "deal": deal, "pipeline": pipeline, "stages": list(pipeline.stages.all()),
        "quick_fields": quick_fields(pipeline),
        "lines": list(deal.lines.all()),
        "fields": [(f, (deal.custom or {}).get(f.key)) for f in fields],
        "deadlines": [_with_times(d) for d in extras.get("deadlines") or []],
        "robot_runs": None if extras.get("robot_runs") is None else [_with_times(r) for r in extras["robot_runs"]],
        "activities": timeline_for_card(contact=deal.contact) if deal.contact_id else [],
        "people": _people(request.user),
    }


@login_required
def deal_page(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.deal_get(user=request.user, pk=pk)
    return render(request, "deals/deal.html", _page_context(request, deal))


def _field_context(request: HttpRequest, deal: Deal, field: str, **extra) -> dict:
    context = {"deal": deal, "field": field, "editing": False, "error": "", "value": None}
    if field == "stage":
        context["stages"] = list(deal.pipeline.stages.all())
    if field == "responsible":
        context["people"] = _people(request.user)
    context.update(extra)
    return context


def _save_field(request: HttpRequest, deal: Deal, field: str, value: str) -> Deal:
    if field == "stage":
        stage = deal.pipeline.stages.filter(pk=int(value)).first() if value.isdigit() else None
        if stage is None:
            raise FieldError({"stage_id": "no such stage in this pipeline"})
        return deal_move_to_stage(deal=deal, stage=stage, actor=request.user, via="user")
    if field == "responsible":
        raw = {"responsible_id": int(value) if value.isdigit() else None}
    else:
        raw = {field: value}
    data = deal_data_clean(raw, pipeline=deal.pipeline, partial=True, actor=request.user)
    return deal_update(actor=request.user, deal=deal, data=data, via="user")


@login_required
def deal_field(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """One field of the deal page: GET shows it (?edit=1: its form), POST value=... saves it."""
    if field not in INLINE_FIELDS:
        raise Http404("No such field")
    deal = selectors.deal_get(user=request.user, pk=pk)
    if request.method == "POST":
        value = request.POST.get("value", "").strip()
        try:
            _save_field(request, deal, field, value)
        except FieldError as error:
            context = _field_context(request, deal, field, editing=True, value=value,
                                     error=refusal_text(deal.pipeline, error))
            return render(request, "deals/_deal_field.html", context)
        deal = selectors.deal_get(user=request.user, pk=pk)
        response = render(request, "deals/_deal_field.html", _field_context(request, deal, field))
        # The board and the line items show what changed: other fragments listen for it.
        response["HX-Trigger"] = "deal-changed"
        return response
    editing = request.GET.get("edit") == "1"
    return render(request, "deals/_deal_field.html", _field_context(request, deal, field, editing=editing))


@login_required
@require_POST
def deal_custom(request: HttpRequest, pk: int) -> HttpResponse:
    """Saves the pipeline's custom fields from the deal page's form (an empty value clears one).

    Only the fields the form sent are saved: the quick fields are not on it and stay as they are."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    fields = _custom_fields(deal.pipeline)
    raw = {f.key: request.POST.get(f"custom_{f.key}", "").strip() for f in fields if f"custom_{f.key}" in request.POST}
    errors, saved = {}, False
    try:
        data = deal_data_clean({"custom": raw}, pipeline=deal.pipeline, partial=True, actor=request.user)
        deal = deal_update(actor=request.user, deal=deal, data=data, via="user")
        saved = True
    except FieldError as error:
        errors = {item["field"].removeprefix("custom."): refusal_text(deal.pipeline, FieldError([item]))
                  for item in error.errors}
    values = raw if errors else (deal.custom or {})
    return render(request, "deals/_deal_custom.html", {
        "deal": deal, "fields": [(f, values.get(f.key)) for f in fields], "errors": errors, "saved": saved})


def _line_dict(line) -> dict:
    return {"name": line.name, "sku": line.sku, "quantity": str(line.quantity), "price": str(line.price)}


@login_required
@require_POST
def deal_lines(request: HttpRequest, pk: int) -> HttpResponse:
    """Adds a line (action=add: name, sku, quantity, price) or removes one (action=remove, line=<id>);
    the deal's amount becomes the lines' sum (deal_lines_set)."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    current = list(deal.lines.all())
    lines = [_line_dict(line) for line in current]
    new = {}
    if request.POST.get("action") == "remove":
        gone = request.POST.get("line", "")
        lines = [_line_dict(line) for line in current if str(line.pk) != gone]
    else:
        new = {"name": request.POST.get("name", ""), "sku": request.POST.get("sku", ""),
               "quantity": request.POST.get("quantity", "") or "1", "price": request.POST.get("price", "") or "0"}
        lines.append(new)
    error = ""
    try:
        deal = deal_lines_set(actor=request.user, deal=deal, lines=lines, via="user")
        new = {}
    except FieldError as refused:
        error = refusal_text(deal.pipeline, refused)
    deal = selectors.deal_get(user=request.user, pk=pk)
    return render(request, "deals/_deal_lines.html", {
        "deal": deal, "lines": list(deal.lines.all()), "line_error": error, "new": new, "oob_amount": True})


@login_required
def deals_for_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The contact card's "Deals" panel: that customer's deals the user may see."""
    deals = selectors.deal_list(user=request.user, filters=selectors.DealFilters(contact_id=contact_id))
    return render(request, "deals/_deal_for_contact.html", {
        "deals": list(deals[:CARD_PANEL_LIMIT]), "contact_id": contact_id, "limit": CARD_PANEL_LIMIT})


@login_required
def deals_for_company(request: HttpRequest, company_id: int) -> HttpResponse:
    """The company page's "Deals" panel: deals of the company, or of its cards, that the user may see."""
    deals = (selectors.deal_list(user=request.user, filters=selectors.NO_FILTERS)
             .filter(Q(company_id=company_id) | Q(contact__company_id=company_id)))
    return render(request, "deals/_deal_for_contact.html", {
        "deals": list(deals[:CARD_PANEL_LIMIT]), "limit": CARD_PANEL_LIMIT})
