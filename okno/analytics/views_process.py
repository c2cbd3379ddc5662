"""Reports > Process: orders, pauses, leads, unanswered requests and callbacks, beside the
previous period; charts and exports like the other reports."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.analytics.process_drill import NO_KEY, drill_parse, drill_rows, process_drill
from okno.analytics.process_report import GROUPS, process_query_parse, process_report
from okno.analytics.report_tables import columns_table, export_response
from okno.analytics.table import UNITS
from okno.analytics.table_html import filter_context, table_context
from okno.analytics.views import COMPARE_LABELS, quick_periods
from okno.analytics.views_chats import CHART_GROUPS, _error_text, _params, drill_page
from okno.core.errors import ApiError

GROUP_LABELS = {"source": gettext_lazy("Source"), "department": gettext_lazy("Department"),
                "employee": gettext_lazy("Employee"), "pipeline": gettext_lazy("Pipeline")}
assert set(GROUP_LABELS) == set(GROUPS)
# (figure, title, lower is better, divide by the unit): processing and pause times in the unit.
COLUMNS = [
    ("deals", gettext_lazy("Orders"), False, False),
    ("processed", gettext_lazy("Processed"), False, False),
    ("processing_seconds_avg", gettext_lazy("Average processing"), True, True),
    ("paused", gettext_lazy("Paused"), True, False),
    ("pause_seconds_avg", gettext_lazy("Average pause"), True, True),
    ("lost_in_pause", gettext_lazy("Lost in pause"), True, False),
    ("leads", gettext_lazy("Leads"), False, False),
    ("leads_converted", gettext_lazy("Converted to deals"), False, False),
    ("conversion_share", gettext_lazy("Conversion, %"), False, False),
    ("leads_late", gettext_lazy("Leads not taken in time"), True, False),
    ("requests", gettext_lazy("Requests"), False, False),
    ("unanswered", gettext_lazy("Unanswered"), True, False),
    ("unanswered_share", gettext_lazy("Unanswered, %"), True, False),
    ("left_quickly", gettext_lazy("Left at once"), True, False),
    ("offline", gettext_lazy("Offline messages"), True, False),
    ("spam", gettext_lazy("Spam"), True, False),
    ("callbacks", gettext_lazy("Callback requests"), False, False),
    ("callbacks_late", gettext_lazy("Called back late"), True, False),
    ("callback_seconds_avg", gettext_lazy("Average time to call back"), True, True),
]


def _chart_data(report: dict) -> dict:
    bars = sorted(report["rows"], key=lambda r: -(r["deals"] + r["leads"]))[:CHART_GROUPS]
    names = {"deals": _("Orders"), "leads": _("Leads"), "leads_converted": _("Converted to deals"),
             "unanswered": _("Unanswered")}
    return {"bars": {"labels": [str(r["label"]) for r in bars],
                     "series": [{"name": names[f], "data": [r[f] for r in bars]} for f in names]}}


def _link_cells(rows, totals, params: dict) -> None:
    """Every figure (the current period's, and the totals) links to the rows behind it."""
    # The query's shared part encoded once (per cell it was most of a big table's links).
    shared = urlencode({k: v for k, v in params.items() if k not in ("compare", "figure", "key")})
    url = f"{reverse('analytics:process_list')}?{shared}&" if shared else f"{reverse('analytics:process_list')}?"
    for row in [*rows, totals]:
        key = "" if row is totals else f"&{urlencode({'key': NO_KEY if row.key is None else row.key})}"
        for (figure, *_rest), cell in zip(COLUMNS, row.cells, strict=True):
            if cell.value:
                cell.link = f"{url}{urlencode({'figure': figure})}{key}"


@login_required
def process(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    params = _params(request, today)
    unit = request.GET.get("unit") if request.GET.get("unit") in UNITS else "min"
    report = query = None
    status = 200
    context = {"params": params, "unit": unit, "error": None, "groups": GROUP_LABELS, "compares": COMPARE_LABELS,
               "units": {"min": _("minutes"), "h": _("hours")},
               **filter_context(request.user, params),
               "quick": [(label, urlencode({**params, "from": p.start.isoformat(), "to": p.end.isoformat()}),
                          params.get("from") == p.start.isoformat() and params.get("to") == p.end.isoformat())
                         for label, p in quick_periods(today)],
               "export_query": urlencode({**params, "unit": unit})}
    try:
        query = process_query_parse(params)
        report = process_report(user=request.user, query=query)
    except ApiError as exc:
        context["error"], status = _error_text(exc), exc.status
    fmt = request.GET.get("format")
    if report is not None and fmt in ("csv", "xlsx"):
        return export_response(report, COLUMNS, unit=unit, fmt=fmt, sheet_title=_("Process"),
                               name=f"process-{report['from']}-{report['to']}-{report['group_by']}")
    if report is None:
        return render(request, "analytics/process.html", context, status=status)
    rows, totals = columns_table(report, COLUMNS, unit=unit)
    _link_cells(rows, totals, params)
    suffix = _("h") if unit == "h" else _("min")
    context.update({
        **table_context(report, rows, totals),
        "headers": [f"{c[1]}, {suffix}" if c[3] else str(c[1]) for c in COLUMNS],
        "group_label": GROUP_LABELS[query.group_by], "chart": _chart_data(report),
    })
    return render(request, "analytics/process.html", context)


@login_required
def process_list(request: HttpRequest) -> HttpResponse:
    """The deals, leads, requests or callbacks behind one figure of one row (process_drill)."""
    return drill_page(request, template="analytics/process_list.html", parse=process_query_parse,
                      parse_key=drill_parse, drill=process_drill, columns=COLUMNS, rows=drill_rows)
