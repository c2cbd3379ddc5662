"""Reports pages: Calls (table, charts, exports) and the administrator's report settings."""

import csv
import io
import tempfile
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.analytics.calls_heatmap import calls_heatmap
from okno.analytics.calls_links import link_table
from okno.analytics.calls_report import CallsQuery, Period, calls_query_parse, calls_report, with_day_grouping
from okno.analytics.services import (
    MAX_CALLBACK_WINDOW_MINUTES,
    MAX_THRESHOLD_SECONDS,
    MAX_UNANSWERED_MIN_STAY_SECONDS,
    analytics_settings_get,
    analytics_settings_update,
    department_thresholds,
)
from okno.analytics.table import UNITS, flat, headers, report_table
from okno.analytics.table_html import filter_context, table_context
from okno.contacts.models import Tag
from okno.core.access import require_admin
from okno.core.errors import ApiError, FieldError
from okno.core.reasons import reason_text
from okno.core.spreadsheet_safe import csv_cell, xlsx_cells
from okno.people.models import Department
from okno.telephony.models import Call

GROUP_LABELS = {"employee": gettext_lazy("Employee"), "department": gettext_lazy("Department"),
                "line": gettext_lazy("Line"), "client": gettext_lazy("Client"), "day": gettext_lazy("Day")}
COMPARE_LABELS = {"": gettext_lazy("No comparison"), "previous": gettext_lazy("Previous period"),
                  "year": gettext_lazy("Same period a year ago")}
UNIT_LABELS = {"min": gettext_lazy("minutes"), "h": gettext_lazy("hours")}
OUTCOME_LABELS = {"answered": gettext_lazy("answered"), "successful": gettext_lazy("successful"),
                  "missed": gettext_lazy("missed"), "called_back": gettext_lazy("missed, called back"),
                  "missed_not_called_back": gettext_lazy("missed, not called back"),
                  "machine": gettext_lazy("answering machine"), "voicemail": gettext_lazy("voicemail")}
# The filters asked most, as buttons beside the selects.
QUICK_OUTCOMES = ("successful", "missed", "missed_not_called_back")
# A select of tags past this many is a list nobody scrolls: the API takes any tag's id.
TAGS_SHOWN = 200
# Bars for the largest groups only: past this a bar chart is a comb nobody reads.
CHART_GROUPS = 20
PAGE_ONLY = ("format", "unit")
# A line not called in a month is typed into the API, not offered in the page's select.
LINES_DAYS = 31


def quick_periods(today: date) -> list[tuple[str, Period]]:
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return [
        (_("Today"), Period(today, today)),
        (_("Yesterday"), Period(today - timedelta(days=1), today - timedelta(days=1))),
        (_("This week"), Period(week, today)),
        (_("Last week"), Period(week - timedelta(days=7), week - timedelta(days=1))),
        (_("This month"), Period(month, today)),
        (_("Last month"), Period(last_month_end.replace(day=1), last_month_end)),
        (_("Quarter"), Period(quarter, today)),
        (_("Year"), Period(today.replace(month=1, day=1), today)),
    ]


def _params(request: HttpRequest, today: date) -> dict:
    """The query string's report parameters, with this month compared to the previous one by default."""
    params = {k: v for k, v in request.GET.items() if k not in PAGE_ONLY}
    if not params.get("from") and not params.get("to"):
        params.update({"from": today.replace(day=1).isoformat(), "to": today.isoformat()})
        params.setdefault("compare", "previous")
    return {k: v for k, v in params.items() if v != "" or k in ("from", "to")}


def _export(report: dict, *, unit: str, fmt: str) -> HttpResponse:
    rows, totals = report_table(report, unit=unit)
    compared = "previous" in report
    lines = [headers(unit=unit, compared=compared), *(flat(r, compared=compared) for r in rows),
             flat(totals, compared=compared)]
    name = f"calls-{report['from']}-{report['to']}-{report['group_by']}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("Calls"))
        for line in lines:
            sheet.append(xlsx_cells(sheet, line))  # text is text: a label "=..." is not a formula
        fh = tempfile.TemporaryFile()
        book.save(fh)
        fh.seek(0)
        return FileResponse(fh, as_attachment=True, filename=f"{name}.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    decimal_sep = formats.get_format("DECIMAL_SEPARATOR")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for line in lines:
        writer.writerow([str(v).replace(".", decimal_sep) if isinstance(v, float) else csv_cell(v) for v in line])
    # UTF-8 with a BOM and ";": what Russian Excel opens by double click (as the deals' export).
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _chart_data(request, report: dict, query: CallsQuery) -> dict:
    by_day = report if query.group_by == "day" else calls_report(user=request.user, query=with_day_grouping(query),
                                                                 with_callbacks=False)
    bars = sorted(report["rows"], key=lambda r: -r["calls"])[:CHART_GROUPS] if query.group_by != "day" else []
    heat = calls_heatmap(user=request.user, query=query)
    weekdays = [formats.date_format(date(2024, 1, d), "D") for d in range(1, 8)]  # 1 January 2024: a Monday
    return {
        "names": {"calls": _("Calls"), "successful": _("Successful"), "missed": _("Missed"),
                  "successful_share": _("Successful, %"), "inbound": _("Inbound"),
                  "heat_inbound": _("Inbound calls by hour"), "heat_missed": _("Missed calls by hour")},
        "heat": {"weekdays": weekdays, "hours": [f"{h:02d}" for h in range(24)],
                 "inbound": [[c["hour"], c["weekday"] - 1, c["inbound"]] for c in heat["cells"]],
                 "missed": [[c["hour"], c["weekday"] - 1, c["missed"]] for c in heat["cells"]]},
        "bars": {"labels": [str(r["label"]) for r in bars], "calls": [r["calls"] for r in bars],
                 "successful": [r["successful"] for r in bars], "missed": [r["missed"] for r in bars]},
        "days": {"labels": [formats.date_format(date.fromisoformat(r["key"]), "SHORT_DATE_FORMAT")
                            for r in by_day["rows"]],
                 "calls": [r["calls"] for r in by_day["rows"]], "missed": [r["missed"] for r in by_day["rows"]],
                 "successful": [r["successful"] for r in by_day["rows"]],
                 "successful_share": [round(r["successful"] * 100 / r["calls"], 1) if r["calls"] else None
                                      for r in by_day["rows"]]},
    }


def _recent_lines(chosen: str) -> list[str]:
    """The lines of the last LINES_DAYS days' calls (the `started_at` index bounds the scan: a
    DISTINCT over every call ever was the page's slowest query), and the chosen one."""
    since = timezone.now() - timedelta(days=LINES_DAYS)
    lines = set(Call.objects.filter(started_at__gte=since).exclude(line="").values_list("line", flat=True)
                .distinct()[:200])
    return sorted(lines | ({chosen} if chosen else set()))


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    params = _params(request, today)
    unit = request.GET.get("unit") if request.GET.get("unit") in UNITS else "min"
    error = report = query = None
    try:
        query = calls_query_parse(params)
        report = calls_report(user=request.user, query=query)
    except ApiError as exc:
        error = "; ".join(f"{e['field']}: {reason_text(e['reason'])}" for e in exc.errors) or exc.detail
        status = exc.status
    fmt = request.GET.get("format")
    if report is not None and fmt in ("csv", "xlsx"):
        return _export(report, unit=unit, fmt=fmt)
    context = {
        "params": params, "unit": unit, "error": error,
        "groups": GROUP_LABELS, "compares": COMPARE_LABELS, "units": UNIT_LABELS,
        "directions": Call.Direction.choices,
        **filter_context(request.user, params),
        "lines": _recent_lines(params.get("line", "")) if request.user.is_admin else [],
        "quick": [(label, urlencode({**params, "from": p.start.isoformat(), "to": p.end.isoformat()}),
                   params.get("from") == p.start.isoformat() and params.get("to") == p.end.isoformat())
                  for label, p in quick_periods(today)],
        "export_query": urlencode({**params, "unit": unit}), "heat_query": urlencode(params),
        "outcomes": OUTCOME_LABELS, "tags": Tag.objects.order_by("name")[:TAGS_SHOWN],
        "quick_outcomes": [(OUTCOME_LABELS[o], urlencode({**params, "outcome": o}), params.get("outcome") == o)
                           for o in QUICK_OUTCOMES],
        "all_outcomes": urlencode({k: v for k, v in params.items() if k != "outcome"}),
    }
    if report is None:
        return render(request, "analytics/calls.html", context, status=status)
    rows, totals = report_table(report, unit=unit)
    link_table(report, rows, totals)
    context.update({
        **table_context(report, rows, totals),
        "headers": headers(unit=unit, compared=False)[1:], "group_label": GROUP_LABELS[query.group_by],
        "chart": _chart_data(request, report, query),
    })
    return render(request, "analytics/calls.html", context)


# --- settings ----------------------------------------------------------------------------------

class SettingsForm(forms.Form):
    success_threshold_seconds = forms.IntegerField(
        label=gettext_lazy("A call is successful from (seconds of talk)"), min_value=0,
        max_value=MAX_THRESHOLD_SECONDS,
        help_text=gettext_lazy("Talk time counts from the moment an employee answered: the greeting, the voice "
                               "menu, the queue and ringing are not in it. Reports re-count history at once."))
    callback_window_minutes = forms.IntegerField(
        label=gettext_lazy("A missed call is called back in time within (minutes)"), min_value=0,
        max_value=MAX_CALLBACK_WINDOW_MINUTES,
        help_text=gettext_lazy("An outbound call to the same number that connected within this time after "
                               "the missed call ended."))
    unanswered_min_stay_seconds = forms.IntegerField(
        label=gettext_lazy("A visitor who left within (seconds) is not an unanswered request"), min_value=0,
        max_value=MAX_UNANSWERED_MIN_STAY_SECONDS, required=False,
        help_text=gettext_lazy("A chat with no reply whose visitor left sooner is counted apart, as left at once "
                               "(the process report)."))
    unanswered_counts_offline = forms.BooleanField(
        label=gettext_lazy("Offline messages count as unanswered requests"), required=False,
        help_text=gettext_lazy("A message left in the chat while nobody was online, with no reply."))

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = list(departments)
        for dep in self.departments:
            self.fields[f"department_{dep.pk}"] = forms.IntegerField(
                label=_("Successful from, seconds: %(department)s") % {"department": dep.name}, required=False,
                min_value=0, max_value=MAX_THRESHOLD_SECONDS,
                help_text=_("Empty: the company's threshold.") if dep == self.departments[0] else "")


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    conf = analytics_settings_get()
    departments = list(Department.objects.order_by("name"))
    own = department_thresholds()
    initial = {"success_threshold_seconds": conf.success_threshold_seconds,
               "callback_window_minutes": conf.callback_window_minutes,
               "unanswered_min_stay_seconds": conf.unanswered_min_stay_seconds,
               "unanswered_counts_offline": conf.unanswered_counts_offline,
               **{f"department_{d.pk}": own.get(d.pk) for d in departments}}
    form = SettingsForm(request.POST or None, initial=initial, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            analytics_settings_update(
                actor=request.user, success_threshold_seconds=data["success_threshold_seconds"],
                callback_window_minutes=data["callback_window_minutes"],
                departments={d.pk: data.get(f"department_{d.pk}") for d in departments},
                unanswered_min_stay_seconds=data["unanswered_min_stay_seconds"],
                unanswered_counts_offline=data["unanswered_counts_offline"])
        except FieldError as exc:
            for name, reason in exc.by_field.items():
                field = name.replace("departments.", "department_")
                form.add_error(field if field in form.fields else None, reason_text(reason))
        else:
            messages.success(request, _("Changes saved."))
            return redirect("analytics:settings")
    return render(request, "analytics/settings.html", {"form": form}, status=400 if form.errors else 200)

