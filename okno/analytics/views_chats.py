"""Reports > Chats: the table with the previous period beside each figure, charts, exports, and
the list of the chats behind a figure (the drill-down)."""

from datetime import date
from urllib.parse import quote_plus, urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.analytics.chats_report import (
    GROUPS,
    LISTABLE,
    chats_drill,
    chats_query_parse,
    chats_report,
    drill_parse,
    with_day_grouping,
)
from okno.analytics.report_tables import columns_table, export_response
from okno.analytics.table import UNITS
from okno.analytics.table_html import filter_context, table_context
from okno.analytics.views import COMPARE_LABELS, quick_periods
from okno.core.errors import ApiError
from okno.core.reasons import reason_text
from okno.inbox.models import Channel

GROUP_LABELS = {"employee": gettext_lazy("Operator"), "department": gettext_lazy("Department"),
                "channel": gettext_lazy("Channel"), "day": gettext_lazy("Day")}
# (figure, title, lower is better, divide by the unit): response times stay in seconds.
COLUMNS = [
    ("chats", gettext_lazy("Chats"), False, False),
    ("accepted", gettext_lazy("Accepted"), False, False),
    ("missed", gettext_lazy("Missed"), True, False),
    ("missed_offline", gettext_lazy("Offline messages"), True, False),
    ("missed_left", gettext_lazy("Left unanswered"), True, False),
    ("first_response_seconds_avg", gettext_lazy("First response, s"), True, False),
    ("response_seconds_avg", gettext_lazy("Average response, s"), True, False),
    ("rated", gettext_lazy("Rated"), False, False),
    ("rating_positive", gettext_lazy("Positive ratings"), False, False),
    ("rating_negative", gettext_lazy("Negative ratings"), True, False),
    ("rating_positive_share", gettext_lazy("Positive, %"), False, False),
    ("spam", gettext_lazy("Spam"), True, False),
]
CHART_GROUPS = 20
PAGE_ONLY = ("format", "unit")
LIST_PAGE_SIZE = 50
assert set(GROUP_LABELS) == set(GROUPS)


def _params(request: HttpRequest, today: date, drop=PAGE_ONLY) -> dict:
    """The report's parameters; this month against the previous one when no period is given."""
    params = {k: v for k, v in request.GET.items() if k not in drop}
    if not params.get("from") and not params.get("to"):
        params.update({"from": today.replace(day=1).isoformat(), "to": today.isoformat()})
        params.setdefault("compare", "previous")
    return {k: v for k, v in params.items() if v != "" or k in ("from", "to")}


def _error_text(exc: ApiError) -> str:
    return "; ".join(f"{e['field']}: {reason_text(e['reason'])}" for e in exc.errors) or exc.detail


def _chart_data(request: HttpRequest, report: dict, query) -> dict:
    by_day = report if query.group_by == "day" else chats_report(user=request.user, query=with_day_grouping(query))
    bars = sorted(report["rows"], key=lambda r: -r["chats"])[:CHART_GROUPS] if query.group_by != "day" else []
    names = {"chats": _("Chats"), "accepted": _("Accepted"), "missed": _("Missed")}

    def series(rows):
        return [{"name": names[f], "data": [r[f] for r in rows]} for f in names]

    return {
        "bars": {"labels": [str(r["label"]) for r in bars], "series": series(bars)},
        "days": {"labels": [formats.date_format(date.fromisoformat(r["key"]), "SHORT_DATE_FORMAT")
                            for r in by_day["rows"]], "series": series(by_day["rows"])},
    }


def _drill_links(report: dict, params: dict) -> dict:
    """figure -> {row key -> the drill-down's query}, for the cells that count chats."""
    # The query's shared part encoded once: encoding it again per cell was 12,000 urlencode calls
    # and 40 % of the page for a year by 500 employees.
    shared = urlencode({k: v for k, v in params.items() if k not in ("compare", "figure", "key")})
    out = {}
    for figure in LISTABLE:
        head = f"{shared}&{urlencode({'figure': figure})}" if shared else urlencode({"figure": figure})
        out[figure] = {"": head}
        for r in report["rows"]:
            key = "none" if r["key"] is None else r["key"]
            # An id needs no encoding (4,000 urlencode calls a year by employee); a day or "none" is safe too.
            out[figure][r["key"]] = f"{head}&key={key if isinstance(key, int) else quote_plus(str(key))}"
    return out


@login_required
def chats(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    params = _params(request, today)
    unit = request.GET.get("unit") if request.GET.get("unit") in UNITS else "min"
    report = query = None
    status = 200
    context = {"params": params, "error": None, "groups": GROUP_LABELS, "compares": COMPARE_LABELS,
               **filter_context(request.user, params),
               "channels": Channel.objects.filter(kind="jivo").order_by("name"),
               "quick": [(label, urlencode({**params, "from": p.start.isoformat(), "to": p.end.isoformat()}),
                          params.get("from") == p.start.isoformat() and params.get("to") == p.end.isoformat())
                         for label, p in quick_periods(today)],
               "export_query": urlencode({**params, "unit": unit})}
    try:
        query = chats_query_parse(params)
        report = chats_report(user=request.user, query=query)
    except ApiError as exc:
        context["error"], status = _error_text(exc), exc.status
    fmt = request.GET.get("format")
    if report is not None and fmt in ("csv", "xlsx"):
        return export_response(report, COLUMNS, unit=unit, fmt=fmt, sheet_title=_("Chats"),
                               name=f"chats-{report['from']}-{report['to']}-{report['group_by']}")
    if report is None:
        return render(request, "analytics/chats.html", context, status=status)
    rows, totals = columns_table(report, COLUMNS, unit=unit)
    links = _drill_links(report, params)
    list_path = reverse("analytics:chats_list")
    for row in [*rows, totals]:
        key = "" if row is totals else row.key
        for (figure, *_rest), cell in zip(COLUMNS, row.cells, strict=True):
            query_string = links[figure].get(key) if figure in links and cell.value else None
            cell.link = f"{list_path}?{query_string}" if query_string else None
    context.update({
        **table_context(report, rows, totals),
        "headers": [str(c[1]) for c in COLUMNS], "group_label": GROUP_LABELS[query.group_by],
        "chart": _chart_data(request, report, query),
    })
    return render(request, "analytics/chats.html", context)


def drill_page(request: HttpRequest, *, template: str, parse, parse_key, drill, columns, rows=None) -> HttpResponse:
    """The items behind one figure of one row, 50 a page: the report's own query (`parse`), the
    figure and row key (`parse_key`), then `drill(user, query, figure, key)`; a bad one is the
    page with its reason. `rows` makes the page's rows from its items (the process list's mixed kinds)."""
    today = timezone.localdate()
    params = _params(request, today, drop=(*PAGE_ONLY, "figure", "key", "page"))
    try:
        query = parse(params)
        figure, key = parse_key(request.GET, query)
        items = drill(user=request.user, query=query, figure=figure, key=key)
    except ApiError as exc:
        return render(request, template, {"error": _error_text(exc), "params": params}, status=exc.status)
    page = Paginator(items, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    titles = {f: t for f, t, _l, _d in columns}
    return render(request, template, {
        "params": params, "page": page, "rows": rows(list(page)) if rows else None, "figure_title": titles[figure],
        "back": urlencode(params), "page_query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
        "shown": {"from": query.period.start, "to": query.period.end},
    })


@login_required
def chats_list(request: HttpRequest) -> HttpResponse:
    """The chats behind one figure of one row: the same filters as the report (chats_drill)."""
    return drill_page(request, template="analytics/chats_list.html", parse=chats_query_parse,
                      parse_key=drill_parse, drill=chats_drill, columns=COLUMNS)
