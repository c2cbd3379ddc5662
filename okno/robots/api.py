"""/api/v1/robots, the robot log of a deal, retries, registers and a pipeline's dry run.

A robot's body is polymorphic (a deadline or an action, one of eight actions), so it is taken
as a JSON object and checked by okno.robots.rules, which names every bad value (400).
"""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from ninja import Body, Router, Status

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.paging import RowId, limit_query, offset_query
from okno.deals.models import Stage
from okno.deals.selectors import deal_get, pipeline_get
from okno.robots import services
from okno.robots.models import Robot, RobotRun
from okno.robots.rules import robot_as_data
from okno.robots.schedule import dry_run
from okno.robots.selectors import deal_robot_runs, register_entries, robots_of_pipeline, run_as_data

router = Router(tags=["robots"])


def _iso(value):
    return value.isoformat() if value is not None else None


def _body(data) -> dict:
    if not isinstance(data, dict):
        raise FieldError({"body": "must be a JSON object"})
    return data


@router.post("/robots", response={201: dict})
def robot_create(request: HttpRequest, data: dict = Body(...)):
    robot = services.robot_create(actor=request.auth, data=_body(data))
    return Status(201, {"id": robot.pk, **robot_as_data(robot)})


@router.get("/robots", response=list[dict])
def robot_list(request: HttpRequest, pipeline_id: RowId | None = None, for_leads: bool = False):
    """A pipeline's robots in stage and list order; `for_leads=true`: the lead robots."""
    require_admin(request.auth, services.ADMIN_ONLY)
    if pipeline_id is None and not for_leads:
        raise FieldError({"pipeline_id": "required (or for_leads=true)"})
    return [robot_as_data(r) for r in robots_of_pipeline(pipeline_id=None if for_leads else pipeline_id)]


@router.get("/robots/{robot_id}", response=dict)
def robot_read(request: HttpRequest, robot_id: int):
    require_admin(request.auth, services.ADMIN_ONLY)
    return robot_as_data(get_object_or_404(Robot, pk=robot_id))


@router.patch("/robots/{robot_id}", response=dict)
def robot_update(request: HttpRequest, robot_id: int, data: dict = Body(...)):
    require_admin(request.auth, services.ADMIN_ONLY)
    robot = services.robot_update(actor=request.auth, robot=get_object_or_404(Robot, pk=robot_id), data=_body(data))
    return robot_as_data(robot)


@router.delete("/robots/{robot_id}", response={204: None})
def robot_delete(request: HttpRequest, robot_id: int):
    require_admin(request.auth, services.ADMIN_ONLY)
    services.robot_delete(actor=request.auth, robot=get_object_or_404(Robot, pk=robot_id))
    return Status(204, None)


@router.get("/deals/{deal_id}/robot-runs", response=list[dict])
def deal_robot_log(request: HttpRequest, deal_id: int):
    """What robots did and will do for the deal: 404 when the deal is not visible."""
    deal = deal_get(user=request.auth, pk=deal_id)
    return [run_as_data(r) for r in deal_robot_runs(deal=deal)]


@router.post("/robot-runs/{run_id}/retry", response=dict)
def robot_run_retry(request: HttpRequest, run_id: int):
    run = services.robot_run_retry(actor=request.auth, run=get_object_or_404(RobotRun, pk=run_id))
    return run_as_data(run)


@router.get("/registers/{name}", response=dict)
def register_read(request: HttpRequest, name: str, limit: int = limit_query(1000, le=5000),
                  offset: int = offset_query()):
    """A register's entries in the order they were recorded (deals the user may see only)."""
    from okno.deals.selectors import deals_visible

    visible = deals_visible(user=request.auth).values("pk")
    qs = register_entries(name=name).filter(deal_id__in=visible)
    rows = qs[offset:offset + limit]
    return {"name": name, "count": qs.count(),
            "entries": [{"id": e.pk, "deal_id": e.deal_id, "at": _iso(e.at), "snapshot": e.snapshot} for e in rows]}


@router.post("/pipelines/{pipeline_id}/dry-run", response=dict)
def pipeline_dry_run(request: HttpRequest, pipeline_id: int, data: dict = Body(...)):
    """What a deal entering `stage_id` at `at` would get: deadlines' due times, actions' run times."""
    data = _body(data)
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    errors = {}
    stage = Stage.objects.filter(pk=data.get("stage_id") if isinstance(data.get("stage_id"), int) else 0,
                                 pipeline=pipeline).first()
    if stage is None:
        errors["stage_id"] = "no such stage in this pipeline"
    at = parse_datetime(data["at"]) if isinstance(data.get("at"), str) else None
    if at is None or at.tzinfo is None:
        errors["at"] = "an ISO 8601 date and time with an offset, e.g. 2026-12-04T17:50:00+03:00"
    if errors:
        raise FieldError(errors)
    out = dry_run(pipeline=pipeline, stage=stage, at=at)
    zone = at.tzinfo
    return {"pipeline_id": pipeline.pk, "stage_id": stage.pk, "at": _iso(at),
            "deadlines": [{**d, "due_at": _iso(d["due_at"].astimezone(zone))} for d in out["deadlines"]],
            "actions": [{**a, "run_at": _iso(a["run_at"].astimezone(zone)) if a["run_at"] else None}
                        for a in out["actions"]]}
