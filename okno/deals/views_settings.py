"""Pipeline settings for administrators: pipelines, their stages (kind, required fields,
colour, order), their custom fields, and the list of lost reasons.

Every write goes through okno.deals.pipeline_services / lead_services (admin-only, FieldError
naming the field); these views parse forms, put a refused value's reason beside its input
(translated by reason_text) and answer 400, or redirect back on success.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.models import Calendar
from okno.core.reasons import reason_text
from okno.deals.lead_services import lost_reason_create, lost_reason_update
from okno.deals.models import Deal, LostReason, Pipeline, PipelineField, Stage
from okno.deals.pipeline_services import (
    pipeline_create,
    pipeline_field_create,
    pipeline_update,
    stage_add,
    stage_delete,
    stage_reorder,
    stage_update,
)
from okno.people.models import Department

STAGE_ROWS = 6  # rows of the "New pipeline" form; more stages are added on the pipeline's page
DEFAULT_COLOR = "#c5cad3"
# Built-in fields a stage may require (keys as okno.deals.pipeline_services.BUILTIN_REQUIRED).
BUILTIN_FIELDS = [
    ("amount", _("Amount")),
    ("responsible", _("Responsible")),
    ("company", _("Company")),
    ("contact", _("Contact")),
    ("source", _("Source")),
    ("lines", _("Line items")),
]
ADMIN_ONLY = "Only an administrator sets up pipelines"


def _add_errors(form: forms.Form, errors: dict[str, str], names: dict[str, str] | None = None) -> None:
    """Puts each service reason beside its input (`calendar_id` → `calendar`), translated."""
    for name, reason in errors.items():
        name = (names or {}).get(name, name)
        form.add_error(name if name in form.fields else None, reason_text(reason))


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200,
                           help_text=_("As managers see it above the board, e.g. “Online store orders”."))
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.order_by("name"), required=False,
        empty_label=_("Whole company"),
        help_text=_("Whose deals these are; empty: a company-wide pipeline."))
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"), queryset=Calendar.objects.order_by("name"), required=False,
        empty_label=_("The company's calendar"),
        help_text=_("Working hours and holidays its deadlines and delayed robots count on."))

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "department_id": _pk(d.get("department")), "calendar_id": _pk(d.get("calendar"))}


PIPELINE_NAMES = {"department_id": "department", "calendar_id": "calendar"}


class StageRowForm(forms.Form):
    """One stage of the "New pipeline" form; a row left without a name is skipped."""

    name = forms.CharField(label=_("Stage"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Stage.Kind.choices, initial=Stage.Kind.OPEN)


def _default_stages() -> list[dict]:
    """A new pipeline's first stages, named in the user's language (context: a deal's stage)."""
    return [{"name": pgettext("deal stage", "New"), "kind": Stage.Kind.OPEN},
            {"name": pgettext("deal stage", "In progress"), "kind": Stage.Kind.OPEN},
            {"name": pgettext("deal stage", "Won"), "kind": Stage.Kind.WON},
            {"name": pgettext("deal stage", "Lost"), "kind": Stage.Kind.LOST}]


def _stage_rows(data=None) -> list[StageRowForm]:
    defaults = _default_stages()
    return [StageRowForm(data, prefix=f"stage{i}", initial=defaults[i] if i < len(defaults) and data is None else None)
            for i in range(STAGE_ROWS)]


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Stage.Kind.choices,
        help_text=_("Open and paused deals are in work; won and lost close the deal. "
                    "A stage holding deals keeps its kind."))
    required_fields = forms.MultipleChoiceField(
        label=_("Required fields"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("A deal may enter this stage only with these fields filled."))
    color = forms.CharField(label=_("Colour"), max_length=16, required=False, initial=DEFAULT_COLOR,
                            widget=forms.TextInput(attrs={"type": "color"}),
                            help_text=_("The column's colour on the board."))

    def __init__(self, *args, pipeline: Pipeline, **kwargs):
        super().__init__(*args, **kwargs)
        custom = [(f.key, f.label) for f in pipeline.fields.all()]
        self.fields["required_fields"].choices = [*BUILTIN_FIELDS, *custom]

    def service_data(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "kind": d["kind"], "required_fields": list(d["required_fields"]),
                "color": d.get("color") or ""}


class FieldForm(forms.Form):
    key = forms.CharField(label=_("Key"), max_length=64,
                          help_text=_("Lower-case Latin letters, digits, - and _; used in the API, "
                                      "e.g. delivery_date."))
    label = forms.CharField(label=_("Label"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=PipelineField.Type.choices, initial=PipelineField.Type.TEXT)
    choices = forms.CharField(label=_("Choices, one per line"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Only for the type “choice”."))


class LostReasonForm(forms.Form):
    name = forms.CharField(label=_("Reason"), max_length=200,
                           help_text=_("Offered when a lead or deal is closed as lost, e.g. “Too expensive”."))


# --- the list of pipelines and a new one -----------------------------------------------------------


def _pipelines() -> list[Pipeline]:
    pipelines = list(Pipeline.objects.select_related("department", "calendar").annotate(stage_count=Count("stages")))
    deals = dict(Deal.objects.order_by().values_list("pipeline_id").annotate(n=Count("pk")))
    for pipeline in pipelines:
        pipeline.deal_count = deals.get(pipeline.pk, 0)
    return pipelines


@login_required
def pipelines_settings(request: HttpRequest) -> HttpResponse:
    """Every pipeline with links to its settings, board and robots; POST makes a new one."""
    require_admin(request.user, ADMIN_ONLY)
    posted = request.method == "POST"
    form = PipelineForm(request.POST if posted else None)
    rows = _stage_rows(request.POST if posted else None)
    if posted and form.is_valid() and all(r.is_valid() for r in rows):
        filled = [(i, r) for i, r in enumerate(rows) if r.cleaned_data.get("name", "").strip()]
        stages = [{"name": r.cleaned_data["name"], "kind": r.cleaned_data["kind"]} for _i, r in filled]
        try:
            pipeline = pipeline_create(actor=request.user, stages=stages, **form.service_kwargs())
        except FieldError as exc:
            for name, reason in exc.by_field.items():
                row, _dot, field = name.partition("].")
                if name.startswith("stages[") and field:
                    _add_errors(rows[filled[int(row.removeprefix("stages["))][0]], {field: reason})
                else:
                    _add_errors(form, {name: reason}, PIPELINE_NAMES)
        else:
            messages.success(request, gettext("Pipeline “%(name)s” created.") % {"name": pipeline.name})
            return redirect("deals:pipeline_settings", pipeline.pk)
    failed = form.errors or any(r.errors for r in rows)
    return render(request, "deals/settings_pipelines.html",
                  {"pipelines": _pipelines(), "form": form, "rows": rows}, status=400 if failed else 200)


@login_required
@require_POST
@transaction.atomic
def pipeline_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Moves a pipeline one place up or down (`direction`): the order of boards and choices."""
    pipeline = _pipeline_for(request, pk)
    pipelines = list(Pipeline.objects.select_for_update())
    i = next(n for n, p in enumerate(pipelines) if p.pk == pipeline.pk)
    j = i - 1 if request.POST.get("direction") == "up" else i + 1
    if 0 <= j < len(pipelines):
        pipelines[i], pipelines[j] = pipelines[j], pipelines[i]
        for position, row in enumerate(pipelines):
            if row.position != position:
                pipeline_update(actor=request.user, pipeline=row, data={"position": position})
    return redirect("deals:pipelines_settings")


# --- one pipeline: its name, stages and fields ---------------------------------------------------------


def _pipeline_for(request: HttpRequest, pk: int) -> Pipeline:
    require_admin(request.user, ADMIN_ONLY)
    return get_object_or_404(Pipeline.objects.select_related("department", "calendar"), pk=pk)


def _stage_form(pipeline: Pipeline, stage: Stage, data=None) -> StageForm:
    initial = {"name": stage.name, "kind": stage.kind, "required_fields": stage.required_fields,
               "color": stage.color or DEFAULT_COLOR}
    return StageForm(data, pipeline=pipeline, initial=initial, prefix=f"s{stage.pk}")


def _render_pipeline(request: HttpRequest, pipeline: Pipeline, *, form: PipelineForm | None = None,
                     stage_forms: dict[int, StageForm] | None = None, new_stage: StageForm | None = None,
                     field_form: FieldForm | None = None, stage_error: tuple[int, str] | None = None) -> HttpResponse:
    if form is None:
        form = PipelineForm(initial={"name": pipeline.name, "department": pipeline.department_id,
                                     "calendar": pipeline.calendar_id})
    stages = list(pipeline.stages.all())
    stage_forms = stage_forms or {}
    # Deals per stage (one grouped COUNT on the stage index): why a stage keeps its kind, or stays.
    counts = dict(Deal.objects.filter(stage__in=stages).order_by().values_list("stage_id").annotate(n=Count("pk")))
    for stage in stages:
        stage.deal_count = counts.get(stage.pk, 0)
    rows = [(stage, stage_forms.get(stage.pk) or _stage_form(pipeline, stage),
             stage_error[1] if stage_error and stage_error[0] == stage.pk else "") for stage in stages]
    new_stage = new_stage or StageForm(pipeline=pipeline, prefix="new", initial={"kind": Stage.Kind.OPEN,
                                                                                  "color": DEFAULT_COLOR})
    field_form = field_form or FieldForm(prefix="field")
    failed = (form.errors or any(f.errors for f in stage_forms.values()) or new_stage.errors or field_form.errors
              or stage_error)
    return render(request, "deals/settings_pipeline.html", {
        "pipeline": pipeline, "form": form, "rows": rows, "new_stage": new_stage, "field_form": field_form,
        "fields": list(pipeline.fields.all()), "builtin_labels": dict(BUILTIN_FIELDS),
    }, status=400 if failed else 200)


@login_required
def pipeline_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """The pipeline's settings page; POST saves its name, department and calendar."""
    pipeline = _pipeline_for(request, pk)
    if request.method != "POST":
        return _render_pipeline(request, pipeline)
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            pipeline_update(actor=request.user, pipeline=pipeline, data=form.service_kwargs())
        except FieldError as exc:
            _add_errors(form, exc.by_field, PIPELINE_NAMES)
            pipeline.refresh_from_db()
        else:
            messages.success(request, gettext("Changes saved."))
            return redirect("deals:pipeline_settings", pipeline.pk)
    return _render_pipeline(request, pipeline, form=form)


@login_required
@require_POST
def pipeline_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archives a pipeline (no new deals; its deals stay) or brings it back."""
    pipeline = _pipeline_for(request, pk)
    pipeline_update(actor=request.user, pipeline=pipeline, data={"is_active": not pipeline.is_active})
    messages.success(request, gettext("Pipeline archived.") if not pipeline.is_active else
                     gettext("Pipeline is active again."))
    return redirect("deals:pipeline_settings", pipeline.pk)


@login_required
@require_POST
def stage_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = _pipeline_for(request, pk)
    form = StageForm(request.POST, pipeline=pipeline, prefix="new")
    if form.is_valid():
        try:
            stage_add(actor=request.user, pipeline=pipeline, **form.service_data())
        except FieldError as exc:
            _add_errors(form, exc.by_field)
        else:
            messages.success(request, gettext("Stage added."))
            return redirect("deals:pipeline_settings", pipeline.pk)
    return _render_pipeline(request, pipeline, new_stage=form)


def _stage_for(pipeline: Pipeline, stage_id: int) -> Stage:
    return get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id, pipeline=pipeline)


@login_required
@require_POST
def stage_edit_view(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    pipeline = _pipeline_for(request, pk)
    stage = _stage_for(pipeline, stage_id)
    form = _stage_form(pipeline, stage, request.POST)
    if form.is_valid():
        try:
            stage_update(actor=request.user, stage=stage, data=form.service_data())
        except FieldError as exc:
            _add_errors(form, exc.by_field)
        else:
            messages.success(request, gettext("Stage “%(name)s” saved.") % {"name": stage.name})
            return redirect("deals:pipeline_settings", pipeline.pk)
    return _render_pipeline(request, pipeline, stage_forms={stage.pk: form})


@login_required
@require_POST
def stage_move_view(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    """Moves a stage one place up or down (`direction`)."""
    pipeline = _pipeline_for(request, pk)
    stage = _stage_for(pipeline, stage_id)
    ids = list(pipeline.stages.values_list("pk", flat=True))
    i = ids.index(stage.pk)
    j = i - 1 if request.POST.get("direction") == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        stage_reorder(actor=request.user, pipeline=pipeline, stage_ids=ids)
    return redirect("deals:pipeline_settings", pipeline.pk)


@login_required
@require_POST
def stage_delete_view(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    """Deletes an empty stage; a refusal (it holds deals, it is the last open one) is shown on its row."""
    pipeline = _pipeline_for(request, pk)
    stage = _stage_for(pipeline, stage_id)
    try:
        stage_delete(actor=request.user, stage=stage)
    except FieldError as exc:
        reason = "; ".join(reason_text(r) for r in exc.by_field.values())
        return _render_pipeline(request, pipeline, stage_error=(stage.pk, reason))
    messages.success(request, gettext("Stage “%(name)s” deleted.") % {"name": stage.name})
    return redirect("deals:pipeline_settings", pipeline.pk)


@login_required
@require_POST
def field_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = _pipeline_for(request, pk)
    form = FieldForm(request.POST, prefix="field")
    if form.is_valid():
        d = form.cleaned_data
        try:
            pipeline_field_create(actor=request.user, pipeline=pipeline, key=d["key"].strip(), label=d["label"],
                                  type=d["type"], choices=d["choices"].splitlines())
        except FieldError as exc:
            _add_errors(form, exc.by_field)
        else:
            messages.success(request, gettext("Field “%(label)s” added.") % {"label": d["label"]})
            return redirect("deals:pipeline_settings", pipeline.pk)
    return _render_pipeline(request, pipeline, field_form=form)


# --- lost reasons ---------------------------------------------------------------------------------------


def _render_reasons(request: HttpRequest, *, form: LostReasonForm | None = None,
                    edit: tuple[int, LostReasonForm] | None = None) -> HttpResponse:
    reasons = list(LostReason.objects.all())
    rows = [(r, edit[1] if edit and edit[0] == r.pk else LostReasonForm(initial={"name": r.name}, prefix=f"r{r.pk}"))
            for r in reasons]
    form = form or LostReasonForm()
    failed = form.errors or (edit and edit[1].errors)
    return render(request, "deals/settings_lost_reasons.html", {"rows": rows, "form": form},
                  status=400 if failed else 200)


@login_required
def lost_reasons_settings(request: HttpRequest) -> HttpResponse:
    """The reasons offered when a lead or deal is lost; POST adds one."""
    require_admin(request.user, "Only an administrator edits the lost reasons")
    if request.method != "POST":
        return _render_reasons(request)
    form = LostReasonForm(request.POST)
    if form.is_valid():
        try:
            reason = lost_reason_create(actor=request.user, name=form.cleaned_data["name"])
        except FieldError as exc:
            _add_errors(form, exc.by_field)
        else:
            messages.success(request, gettext("Reason “%(name)s” added.") % {"name": reason.name})
            return redirect("deals:lost_reasons_settings")
    return _render_reasons(request, form=form)


@login_required
@require_POST
def lost_reason_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Renames a reason (`name`), retires / brings it back (`active` = "0" / "1"), or moves it one
    place up or down in the list managers choose from (`move` = "up" / "down")."""
    require_admin(request.user, "Only an administrator edits the lost reasons")
    reason = get_object_or_404(LostReason, pk=pk)
    if request.POST.get("move") in ("up", "down"):
        _reason_move(request, reason, request.POST["move"])
        return redirect("deals:lost_reasons_settings")
    if "active" in request.POST:
        lost_reason_update(actor=request.user, reason=reason, data={"is_active": request.POST["active"] == "1"})
        messages.success(request, gettext("Reason “%(name)s” is no longer offered.") % {"name": reason.name}
                         if not reason.is_active else
                         gettext("Reason “%(name)s” is offered again.") % {"name": reason.name})
        return redirect("deals:lost_reasons_settings")
    form = LostReasonForm(request.POST, prefix=f"r{reason.pk}")
    if form.is_valid():
        try:
            lost_reason_update(actor=request.user, reason=reason, data={"name": form.cleaned_data["name"]})
        except FieldError as exc:
            _add_errors(form, exc.by_field)
        else:
            messages.success(request, gettext("Changes saved."))
            return redirect("deals:lost_reasons_settings")
    return _render_reasons(request, edit=(reason.pk, form))


@transaction.atomic
def _reason_move(request: HttpRequest, reason: LostReason, direction: str) -> None:
    """Swaps the reason with its neighbour and numbers the list 0, 1, 2... (positions may repeat
    before: reasons made through the API name their own)."""
    reasons = list(LostReason.objects.select_for_update())
    i = next(n for n, r in enumerate(reasons) if r.pk == reason.pk)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(reasons):
        return
    reasons[i], reasons[j] = reasons[j], reasons[i]
    for position, row in enumerate(reasons):
        if row.position != position:
            lost_reason_update(actor=request.user, reason=row, data={"position": position})
