"""Robot pages (administrators): a pipeline's stages with their robots, the robot form, the dry
run, lead robots, "Robot problems" and a register's export."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.paging import ids_of
from okno.core.reasons import reason_text
from okno.deals.models import Pipeline, Stage
from okno.robots import services
from okno.robots.forms import RobotForm, duration_text
from okno.robots.models import Robot, RobotRun
from okno.robots.schedule import describe, dry_run
from okno.robots.selectors import register_entries, robot_problems, robots_of_pipeline

PAGE_SIZE = 50


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    pipelines = Pipeline.objects.order_by("position", "id")
    return render(request, "robots/index.html", {"pipelines": pipelines,
                                                 "problems": RobotRun.objects.filter(
                                                     status__in=RobotRun.PROBLEMS).count()})


def _dry_run_box(request: HttpRequest, pipeline: Pipeline, stages: list[Stage]) -> dict:
    """The settings page's "a deal arriving at [when] in [stage]" box and its answer."""
    raw_at, raw_stage = request.GET.get("at", ""), request.GET.get("stage", "")
    stage = next((s for s in stages if str(s.pk) == raw_stage), None)
    box = {"at": raw_at, "stage": stage, "result": None, "error": ""}
    if not raw_at and not raw_stage:
        return box
    try:
        at = timezone.make_aware(datetime.fromisoformat(raw_at)) if raw_at else None
    except ValueError:
        at = None
    if at is None or stage is None:
        box["error"] = _("Choose a stage and a date and time.")
        return box
    result = dry_run(pipeline=pipeline, stage=stage, at=at)
    names = {r.pk: r for r in Robot.objects.filter(stage=stage)}
    for row in result["deadlines"] + result["actions"]:
        row["robot"] = names.get(row["robot_id"])
    box["result"] = result
    return box


def _labels(robot: Robot) -> None:
    robot.description = describe(robot)
    robot.within_text = duration_text(robot.within) if robot.within else ""
    robot.after_text = duration_text((robot.trigger_params or {}).get("after", ""))


@login_required
def pipeline_robots(request: HttpRequest, pk: int) -> HttpResponse:
    """Stages as columns, each with its deadlines and robots beneath; the dry-run box."""
    require_admin(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    stages = list(pipeline.stages.order_by("position", "id"))
    robots: dict[int, list[Robot]] = {s.pk: [] for s in stages}
    for robot in robots_of_pipeline(pipeline_id=pipeline.pk):
        _labels(robot)
        robots.setdefault(robot.stage_id, []).append(robot)
    columns = [(s, robots.get(s.pk, [])) for s in stages]
    return render(request, "robots/pipeline.html", {"pipeline": pipeline, "columns": columns,
                                                    "dry": _dry_run_box(request, pipeline, stages)})


@login_required
def lead_robots(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    robots = list(robots_of_pipeline(pipeline_id=None))
    for robot in robots:
        _labels(robot)
    return render(request, "robots/leads.html", {"robots": robots})


def _save(request: HttpRequest, form: RobotForm, robot: Robot | None) -> Robot | None:
    if not form.is_valid():
        return None
    try:
        data = form.to_data()
        if robot is None:
            return services.robot_create(actor=request.user, data=data)
        return services.robot_update(actor=request.user, robot=robot, data=data)
    except FieldError as exc:
        for field, reason in exc.by_field.items():
            form.add_error(form.field_for(field), reason_text(reason))
        return None


def _back(robot_or_stage) -> HttpResponse:
    if getattr(robot_or_stage, "for_leads", False) or robot_or_stage is None:
        return redirect("robots:leads")
    return redirect("robots:pipeline", pk=robot_or_stage.pipeline_id)


@login_required
def robot_new(request: HttpRequest) -> HttpResponse:
    """?stage=<id>&kind=deadline|action, or ?leads=1&kind=...: a new robot's form."""
    require_admin(request.user)
    for_leads = bool(request.GET.get("leads"))
    stage = None if for_leads else get_object_or_404(Stage.objects.select_related("pipeline"),
                                                      pk=request.GET.get("stage") or 0)
    pipeline = stage.pipeline if stage is not None else None
    kind = request.GET.get("kind") if request.GET.get("kind") in Robot.Kind.values else Robot.Kind.ACTION
    form = RobotForm(request.POST or None, initial={"kind": kind}, pipeline=pipeline, stage=stage,
                     for_leads=for_leads)
    if request.method == "POST":
        robot = _save(request, form, None)
        if robot is not None:
            messages.success(request, _("Robot saved."))
            return _back(robot)
    return render(request, "robots/robot_form.html", {"form": form, "stage": stage, "pipeline": pipeline,
                                                      "kind": form["kind"].value() or kind, "robot": None})


@login_required
def robot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    robot = get_object_or_404(Robot.objects.select_related("stage", "pipeline"), pk=pk)
    form = RobotForm(request.POST or None, pipeline=robot.pipeline, stage=robot.stage, robot=robot,
                     for_leads=robot.for_leads)
    if request.method == "POST":
        if _save(request, form, robot) is not None:
            messages.success(request, _("Robot saved."))
            return _back(robot)
    return render(request, "robots/robot_form.html", {"form": form, "stage": robot.stage, "pipeline": robot.pipeline,
                                                      "kind": robot.kind, "robot": robot})


@login_required
@require_POST
def robot_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    robot = get_object_or_404(Robot, pk=pk)
    services.robot_delete(actor=request.user, robot=robot)
    messages.success(request, _("Robot deleted."))
    return _back(robot)


@login_required
def problems_page(request: HttpRequest) -> HttpResponse:
    """Runs that failed for good (the loop guard, a gone stage) or ran out of retries."""
    require_admin(request.user)
    status = request.GET.get("status", "")
    page = Paginator(robot_problems(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    for run in page:
        lines = [line for line in run.error.splitlines() if line.strip()]
        run.error_line = lines[0] if lines else ""
    return render(request, "robots/problems.html", {"page": page, "status": status,
                                                    "statuses": [(s, RobotRun.Status(s).label)
                                                                 for s in RobotRun.PROBLEMS]})


@login_required
@require_POST
def problems_retry(request: HttpRequest) -> HttpResponse:
    """"Run again" for one run, the ticked ones, or every one waiting."""
    require_admin(request.user)
    qs = RobotRun.objects.filter(status__in=RobotRun.PROBLEMS)
    if request.POST.get("all"):
        pass
    elif request.POST.get("only", "").isdigit():
        qs = qs.filter(pk=int(request.POST["only"]))
    else:
        qs = qs.filter(pk__in=ids_of(request.POST.getlist("run")))
    runs = list(qs[:5000])
    for run in runs:
        services.robot_run_retry(actor=request.user, run=run)
    messages.success(request, _("%(count)d run(s) queued to run again.") % {"count": len(runs)})
    return redirect("robots:problems")


@login_required
def register_export(request: HttpRequest, name: str) -> HttpResponse:
    """The register as an XLSX file (openpyxl's write-only mode: rows stream, memory stays flat)."""
    from openpyxl import Workbook

    from okno.core.spreadsheet_safe import xlsx_cells
    from okno.deals.selectors import deals_visible

    entries = register_entries(name=name).filter(deal_id__in=deals_visible(user=request.user).values("pk"))
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=name[:31])
    sheet.append([_("Recorded"), _("Deal"), _("Title"), _("Amount"), _("Currency"), _("Stage"), _("Responsible"),
                  _("External id")])
    for e in entries.iterator(chunk_size=2000):
        s = e.snapshot or {}
        # xlsx_cells: a title starting with "=" is text, not a formula (okno.core.spreadsheet_safe).
        sheet.append(xlsx_cells(sheet, [
            timezone.localtime(e.at).replace(tzinfo=None), e.deal_id, s.get("title", ""), s.get("amount", ""),
            s.get("currency", ""), s.get("stage", ""), s.get("responsible", ""), s.get("external_id", "")]))
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    book.save(response)
    return response
