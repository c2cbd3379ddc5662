"""Team boards' pages: the boards one may see, a board (live), and a head's form to set one up."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from okno.analytics.boards import (
    METRICS,
    board_delete,
    board_figures,
    board_for_viewer,
    board_may_edit,
    board_save,
    boards_for_user,
    departments_for_boards,
)
from okno.analytics.models_boards import ReportKind, TeamBoard
from okno.core.errors import ApiError, FieldError
from okno.core.reasons import reason_text


class BoardForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=120,
        help_text=gettext_lazy("What the team sees as the board's title, e.g. “Missed calls today”."))
    department = forms.TypedChoiceField(
        label=gettext_lazy("Department"), coerce=int,
        help_text=gettext_lazy("Its members and the departments below it see the board."))
    metric = forms.ChoiceField(label=gettext_lazy("Figure"),
                               help_text=gettext_lazy("Counted for each employee of the department."))
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=TeamBoard.Period.choices)
    published = forms.BooleanField(label=gettext_lazy("Published to the department"), required=False, initial=True,
                                   help_text=gettext_lazy("Unpublished, only heads and administrators see it."))

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.pk, d.name) for d in departments]
        self.fields["metric"].choices = [
            (f"{kind}:{key}", f"{ReportKind(kind).label}: {label}")
            for kind, figures in METRICS.items() for key, label in figures.items()]


@login_required
def boards(request: HttpRequest) -> HttpResponse:
    shown = list(boards_for_user(user=request.user))
    return render(request, "analytics/boards.html", {
        "boards": shown, "may_create": departments_for_boards(user=request.user).exists(),
        "editable": {b.pk for b in shown if board_may_edit(user=request.user, department_id=b.department_id)}})


@login_required
def board(request: HttpRequest, board_id: int) -> HttpResponse:
    shown = board_for_viewer(user=request.user, board_id=board_id)
    figures = board_figures(board=shown, viewer=request.user, today=timezone.localdate())
    return render(request, "analytics/board.html", {
        "board": shown, "figures": figures, "live_topic": f"board:{shown.pk}",
        "may_edit": board_may_edit(user=request.user, department_id=shown.department_id)})


@login_required
def board_form(request: HttpRequest, board_id: int | None = None) -> HttpResponse:
    existing = board_for_viewer(user=request.user, board_id=board_id) if board_id else None
    departments = list(departments_for_boards(user=request.user))
    if not departments or (existing and not board_may_edit(user=request.user, department_id=existing.department_id)):
        raise PermissionDenied(_("Only a head of the department or an administrator sets up its boards."))
    initial = {"published": True}
    if existing:
        initial = {"name": existing.name, "department": existing.department_id, "period": existing.period,
                   "metric": f"{existing.kind}:{existing.metric}", "published": existing.published}
    form = BoardForm(request.POST or None, initial=initial, departments=departments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind, _sep, metric = data["metric"].partition(":")
        try:
            saved = board_save(actor=request.user, board=existing, department_id=data["department"],
                               name=data["name"], kind=kind, metric=metric, period=data["period"],
                               published=data["published"])
        except FieldError as exc:
            for name, reason in exc.by_field.items():
                form.add_error(name if name in form.fields else ("metric" if name == "kind" else None),
                               reason_text(reason))
        except ApiError as exc:
            raise PermissionDenied(exc.detail) from exc
        else:
            messages.success(request, _("Changes saved."))
            return redirect("analytics:board", board_id=saved.pk)
    return render(request, "analytics/board_form.html", {"form": form, "board": existing},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def board_remove(request: HttpRequest, board_id: int) -> HttpResponse:
    existing = board_for_viewer(user=request.user, board_id=board_id)
    try:
        board_delete(actor=request.user, board=existing)
    except ApiError as exc:
        raise PermissionDenied(exc.detail) from exc
    messages.success(request, _("The board is removed."))
    return redirect("analytics:boards")
