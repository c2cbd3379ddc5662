"""/api/v1/pipelines: pipelines with their stages and custom fields (set up by administrators),
and the board's columns for programs."""

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from okno.core.errors import FieldError
from okno.core.paging import RowId, limit_query, offset_query
from okno.deals import pipeline_services as services
from okno.deals.models import Pipeline, PipelineField, Stage
from okno.deals.selectors import DealFilters, board_columns, pipeline_get, pipelines_visible, stage_page

router = Router(tags=["pipelines"])


class StageIn(Schema):
    # Defaults, so that the service names a bad stage as "stages[1].name" (400), as it does its kind.
    name: str = ""
    kind: str = "open"
    required_fields: list[str] = []
    color: str = ""


class StageAddIn(StageIn):
    position: int | None = None


class StagePatch(Schema):
    name: str | None = None
    kind: str | None = None
    required_fields: list[str] | None = None
    color: str | None = None


class FieldIn(Schema):
    key: str
    label: str
    type: str = "text"
    choices: list[str] = []
    position: int | None = None


class PipelineIn(Schema):
    name: str = ""
    calendar_id: int | None = None
    department_id: int | None = None
    stages: list[StageIn]
    fields: list[FieldIn] = []


class PipelinePatch(Schema):
    name: str | None = None
    calendar_id: int | None = None
    department_id: int | None = None
    is_active: bool | None = None
    position: int | None = None


class StageOrderIn(Schema):
    stage_ids: list[int]


class StageOut(Schema):
    id: int
    name: str
    kind: str
    position: int
    required_fields: list[str]
    color: str


class FieldOut(Schema):
    id: int
    key: str
    label: str
    type: str
    choices: list[str]
    position: int


class PipelineOut(Schema):
    id: int
    name: str
    calendar_id: int | None
    department_id: int | None
    is_active: bool
    position: int
    stages: list[StageOut]
    fields: list[FieldOut]


def stage_out(stage: Stage) -> dict:
    return {"id": stage.pk, "name": stage.name, "kind": stage.kind, "position": stage.position,
            "required_fields": list(stage.required_fields or []), "color": stage.color}


def field_out(f: PipelineField) -> dict:
    return {"id": f.pk, "key": f.key, "label": f.label, "type": f.type, "choices": list(f.choices or []),
            "position": f.position}


def pipeline_out(pipeline: Pipeline) -> dict:
    return {"id": pipeline.pk, "name": pipeline.name, "calendar_id": pipeline.calendar_id,
            "department_id": pipeline.department_id, "is_active": pipeline.is_active, "position": pipeline.position,
            "stages": [stage_out(s) for s in pipeline.stages.all()],
            "fields": [field_out(f) for f in pipeline.fields.all()]}


def _stage(pipeline: Pipeline, stage_id: int) -> Stage:
    stage = pipeline.stages.filter(pk=stage_id).first()
    if stage is None:
        raise FieldError({"stage_id": "no such stage in this pipeline"})
    return stage


@router.get("/pipelines", response=list[PipelineOut])
def list_pipelines(request: HttpRequest, include_inactive: bool = False):
    qs = pipelines_visible(user=request.auth, include_inactive=include_inactive)
    return [pipeline_out(p) for p in qs.prefetch_related("stages", "fields")]


@router.post("/pipelines", response={201: PipelineOut})
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    body = payload.dict()
    pipeline = services.pipeline_create(actor=request.auth, name=body["name"], stages=body["stages"],
                                        calendar_id=body["calendar_id"], department_id=body["department_id"],
                                        fields=body["fields"])
    return Status(201, pipeline_out(pipeline))


@router.get("/pipelines/{int:pipeline_id}", response=PipelineOut)
def get_pipeline(request: HttpRequest, pipeline_id: int):
    return pipeline_out(pipeline_get(user=request.auth, pk=pipeline_id))


@router.patch("/pipelines/{int:pipeline_id}", response=PipelineOut)
def update_pipeline(request: HttpRequest, pipeline_id: int, payload: PipelinePatch):
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    return pipeline_out(services.pipeline_update(actor=request.auth, pipeline=pipeline,
                                                 data=payload.dict(exclude_unset=True)))


@router.post("/pipelines/{int:pipeline_id}/stages", response={201: StageOut})
def add_stage(request: HttpRequest, pipeline_id: int, payload: StageAddIn):
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    stage = services.stage_add(actor=request.auth, pipeline=pipeline, **payload.dict())
    return Status(201, stage_out(stage))


@router.patch("/pipelines/{int:pipeline_id}/stages/{int:stage_id}", response=StageOut)
def update_stage(request: HttpRequest, pipeline_id: int, stage_id: int, payload: StagePatch):
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    stage = services.stage_update(actor=request.auth, stage=_stage(pipeline, stage_id),
                                  data=payload.dict(exclude_unset=True))
    return stage_out(stage)


@router.delete("/pipelines/{int:pipeline_id}/stages/{int:stage_id}", response={204: None})
def delete_stage(request: HttpRequest, pipeline_id: int, stage_id: int):
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    services.stage_delete(actor=request.auth, stage=_stage(pipeline, stage_id))
    return Status(204, None)


@router.post("/pipelines/{int:pipeline_id}/stages/order", response=PipelineOut)
def reorder_stages(request: HttpRequest, pipeline_id: int, payload: StageOrderIn):
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    services.stage_reorder(actor=request.auth, pipeline=pipeline, stage_ids=payload.stage_ids)
    return pipeline_out(pipeline)


@router.post("/pipelines/{int:pipeline_id}/fields", response={201: FieldOut})
def add_field(request: HttpRequest, pipeline_id: int, payload: FieldIn):
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    return Status(201, field_out(services.pipeline_field_create(actor=request.auth, pipeline=pipeline,
                                                                **payload.dict())))


class ColumnOut(Schema):
    stage: StageOut
    count: int
    total: str
    deal_ids: list[int]
    has_more: bool


class StagePageOut(Schema):
    deal_ids: list[int]
    has_more: bool
    next_after: int | None


@router.get("/pipelines/{int:pipeline_id}/board", response=list[ColumnOut])
def board(request: HttpRequest, pipeline_id: int, per_column: int = Query(20, ge=1, le=200),
          responsible: RowId | None = None, q: str = ""):
    """Each stage's count, sum (a string, exact) and first page of deal ids, newest first."""
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    columns = board_columns(pipeline=pipeline, user=request.auth, per_column=per_column,
                            filters=DealFilters(responsible_id=responsible, q=q))
    return [{"stage": stage_out(c.stage), "count": c.count, "total": str(c.total),
             "deal_ids": [d.pk for d in c.deals], "has_more": c.has_more} for c in columns]


@router.get("/pipelines/{int:pipeline_id}/stages/{int:stage_id}/deals", response=StagePageOut)
def column_page(request: HttpRequest, pipeline_id: int, stage_id: int, after: RowId | None = None,
                offset: int = offset_query(), limit: int = limit_query(20, le=200)):
    """More of a board column: after the deal id `after` (the previous page's `next_after`)."""
    pipeline = pipeline_get(user=request.auth, pk=pipeline_id)
    page = stage_page(stage=_stage(pipeline, stage_id), user=request.auth, after=after, offset=offset,
                      per_page=limit)
    return {"deal_ids": [d.pk for d in page.deals], "has_more": page.has_more, "next_after": page.next_after}
