"""Saved reports' page: save the report on screen under a name, reopen it, the weekly digest."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from okno.analytics.models_boards import ReportKind
from okno.analytics.saved import (
    may_get_digest,
    report_url,
    saved_report_delete,
    saved_report_get,
    saved_report_save,
    saved_reports_for_user,
)
from okno.core.errors import FieldError
from okno.core.reasons import reason_text


class SavedReportForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    kind = forms.ChoiceField(label=gettext_lazy("Report"), choices=ReportKind.choices)
    query = forms.CharField(label=gettext_lazy("Parameters"), required=False, max_length=2000,
                            help_text=gettext_lazy("The report's period and filters, as its address has them."))
    weekly_digest = forms.BooleanField(
        label=gettext_lazy("E-mail it to me every Monday"), required=False,
        help_text=gettext_lazy("The week that ended beside the week before, with the same filters."))

    def __init__(self, *args, digest: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not digest:
            del self.fields["weekly_digest"]


def _apply_errors(form: forms.Form, exc: FieldError) -> None:
    for name, reason in exc.by_field.items():
        form.add_error(name if name in form.fields else None, reason_text(reason))


@login_required
def saved(request: HttpRequest) -> HttpResponse:
    digest = may_get_digest(request.user)
    initial = {"kind": request.GET.get("kind") or ReportKind.CALLS, "query": request.GET.get("query", "")}
    form = SavedReportForm(request.POST or None, initial=initial, digest=digest)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = saved_report_save(user=request.user, name=data["name"], kind=data["kind"], query=data["query"],
                                       weekly_digest=data.get("weekly_digest", False))
        except FieldError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The report is saved."))
            return redirect(report_url(report.kind, report.query) or "analytics:saved")
    reports = [(r, report_url(r.kind, r.query)) for r in saved_reports_for_user(user=request.user)]
    return render(request, "analytics/saved.html", {"form": form, "reports": reports, "digest": digest},
                  status=400 if form.errors else 200)


@login_required
def saved_open(request: HttpRequest, report_id: int) -> HttpResponse:
    report = saved_report_get(user=request.user, report_id=report_id)
    url = report_url(report.kind, report.query)
    if url is None:
        raise Http404("this report is not available")
    return redirect(url)


@login_required
@require_POST
def saved_digest(request: HttpRequest, report_id: int) -> HttpResponse:
    report = saved_report_get(user=request.user, report_id=report_id)
    try:
        saved_report_save(user=request.user, report=report, name=report.name, kind=report.kind, query=report.query,
                          weekly_digest=request.POST.get("weekly_digest") == "on")
    except FieldError as exc:
        messages.error(request, "; ".join(reason_text(r) for r in exc.by_field.values()))
    else:
        messages.success(request, _("Changes saved."))
    return redirect("analytics:saved")


@login_required
@require_POST
def saved_remove(request: HttpRequest, report_id: int) -> HttpResponse:
    saved_report_delete(user=request.user, report_id=report_id)
    messages.success(request, _("The saved report is removed."))
    return redirect("analytics:saved")
