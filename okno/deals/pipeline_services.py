"""Pipelines, their stages and custom fields: set up by an administrator.

Rules: a pipeline has at least one open stage (new deals enter the first open stage by
position); stage kinds are open, paused, won, lost; a stage holding deals is never deleted and
never changes kind (its deals' closed_at would lie); a stage's `required_fields` name built-in
fields (`amount`, `responsible`, `company`, `contact`, `source`, `lines`) or the pipeline's
custom field keys.

The deal services (create, update, move, line items) live in okno.deals.deal_services and
are re-exported here, so `from okno.deals.pipeline_services import deal_move_to_stage` works.
"""

import re

from django.db import transaction
from django.db.models import Max

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.models import Calendar
from okno.deals.models import Pipeline, PipelineField, Stage
from okno.people.models import Department, User

# Built-in keys a stage may require; custom fields are named by their key.
BUILTIN_REQUIRED = ("amount", "responsible", "company", "contact", "source", "lines")
KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
ADMIN_ONLY = "Only an administrator sets up pipelines"


def _text(value, name: str, errors: dict[str, str], *, required: bool = True, max_length: int = 200) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = "must be text"
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = "required"
    elif len(value) > max_length:
        errors[name] = f"must be 1 to {max_length} characters"
    return value


def _calendar(calendar_id, errors: dict[str, str]) -> Calendar | None:
    if calendar_id is None:
        return None
    calendar = Calendar.objects.filter(pk=calendar_id).first() if isinstance(calendar_id, int) else None
    if calendar is None:
        errors["calendar_id"] = "no such calendar"
    return calendar


def _department(department_id, errors: dict[str, str]) -> Department | None:
    if department_id is None:
        return None
    department = Department.objects.filter(pk=department_id).first() if isinstance(department_id, int) else None
    if department is None:
        errors["department_id"] = "no such department"
    return department


def _required_fields(value, name: str, custom_keys: set[str], errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[name] = "must be a list of field keys"
        return []
    keys: list[str] = []
    for raw in value:
        key = raw.strip().removeprefix("custom.")
        if key not in BUILTIN_REQUIRED and key not in custom_keys:
            errors[name] = f"unknown field: {raw}"
        elif key not in keys:
            keys.append(key)
    return keys


def _stage_spec(spec, name: str, custom_keys: set[str], errors: dict[str, str]) -> dict:
    if not isinstance(spec, dict):
        errors[name] = "must be an object with name and kind"
        return {}
    kind = spec.get("kind") or Stage.Kind.OPEN
    if kind not in Stage.Kind.values:
        errors[f"{name}.kind"] = f"must be one of: {', '.join(Stage.Kind.values)}"
    return {
        "name": _text(spec.get("name"), f"{name}.name", errors),
        "kind": kind,
        "required_fields": _required_fields(spec.get("required_fields"), f"{name}.required_fields",
                                            custom_keys, errors),
        "color": _text(spec.get("color"), f"{name}.color", errors, required=False, max_length=16),
    }


def _field_spec(spec, name: str, errors: dict[str, str], *, taken: set[str]) -> dict:
    if not isinstance(spec, dict):
        errors[name] = "must be an object with key, label and type"
        return {}
    key = str(spec.get("key") or "").strip()
    if not KEY_RE.match(key):
        errors[f"{name}.key"] = "use lower-case letters, digits, - and _"
    elif key in taken:
        errors[f"{name}.key"] = "this key is taken"
    label = _text(spec.get("label"), f"{name}.label", errors)
    type_ = spec.get("type") or PipelineField.Type.TEXT
    if type_ not in PipelineField.Type.values:
        errors[f"{name}.type"] = f"must be one of: {', '.join(PipelineField.Type.values)}"
    choices = []
    for choice in spec.get("choices") or []:
        choice = str(choice).strip()
        if choice and choice not in choices:
            choices.append(choice)
    if type_ == PipelineField.Type.CHOICE and not choices:
        errors[f"{name}.choices"] = "a choice field needs at least one choice"
    return {"key": key, "label": label, "type": type_,
            "choices": choices if type_ == PipelineField.Type.CHOICE else []}


@transaction.atomic
def pipeline_create(*, actor: User, name: str, stages: list[dict], calendar_id: int | None = None,
                    department_id: int | None = None, fields: list[dict] | None = None) -> Pipeline:
    """A pipeline with its stages (in the given order) and optional custom fields, at once.

    At least one stage must be open: new deals enter the first open stage. Every bad value is
    named at once (`stages[1].kind`, `fields[0].key`)."""
    require_admin(actor, ADMIN_ONLY)
    errors: dict[str, str] = {}
    name = _text(name, "name", errors)
    calendar = _calendar(calendar_id, errors)
    department = _department(department_id, errors)
    field_specs, taken = [], set()
    for i, spec in enumerate(fields or []):
        field_specs.append(_field_spec(spec, f"fields[{i}]", errors, taken=taken))
        taken.add(field_specs[-1].get("key"))
    if not isinstance(stages, list) or not stages:
        errors["stages"] = "a pipeline needs at least one stage"
        stages = []
    specs = [_stage_spec(spec, f"stages[{i}]", taken, errors) for i, spec in enumerate(stages)]
    if specs and not any(s.get("kind") == Stage.Kind.OPEN for s in specs) and "stages" not in errors:
        errors["stages"] = "a pipeline needs at least one open stage"
    if errors:
        raise FieldError(errors)
    position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    pipeline = Pipeline.objects.create(name=name, calendar=calendar, department=department, position=position)
    PipelineField.objects.bulk_create([PipelineField(pipeline=pipeline, position=i, **spec)
                                       for i, spec in enumerate(field_specs)])
    Stage.objects.bulk_create([Stage(pipeline=pipeline, position=i, **spec) for i, spec in enumerate(specs)])
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: User, pipeline: Pipeline, data: dict) -> Pipeline:
    """Changes what is given of name, calendar_id, department_id, is_active, position."""
    require_admin(actor, ADMIN_ONLY)
    errors: dict[str, str] = {}
    if "name" in data:
        pipeline.name = _text(data["name"], "name", errors)
    if "calendar_id" in data:
        pipeline.calendar = _calendar(data["calendar_id"], errors)
    if "department_id" in data:
        pipeline.department = _department(data["department_id"], errors)
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = "must be true or false"
        else:
            pipeline.is_active = data["is_active"]
    if "position" in data:
        if not isinstance(data["position"], int) or isinstance(data["position"], bool) or data["position"] < 0:
            errors["position"] = "must be a number"
        else:
            pipeline.position = data["position"]
    if errors:
        raise FieldError(errors)
    pipeline.save()
    return pipeline


def _custom_keys(pipeline: Pipeline) -> set[str]:
    return set(pipeline.fields.values_list("key", flat=True))


@transaction.atomic
def stage_add(*, actor: User, pipeline: Pipeline, name: str, kind: str = Stage.Kind.OPEN,
              position: int | None = None, required_fields: list[str] | None = None, color: str = "") -> Stage:
    """A new stage, last or at `position` (the stages after it move one down)."""
    require_admin(actor, ADMIN_ONLY)
    errors: dict[str, str] = {}
    spec = _stage_spec({"name": name, "kind": kind, "required_fields": required_fields, "color": color},
                       "stage", _custom_keys(pipeline), errors)
    if errors:
        raise FieldError({k.removeprefix("stage."): v for k, v in errors.items()})
    stages = list(pipeline.stages.select_for_update())
    if position is None or not isinstance(position, int) or position >= len(stages) or position < 0:
        position = len(stages)
    stage = Stage(pipeline=pipeline, **spec)
    stages.insert(position, stage)
    stage.position = position
    stage.save()
    _renumber(stages)
    return stage


def _renumber(stages: list[Stage]) -> None:
    for i, stage in enumerate(stages):
        if stage.position != i:
            stage.position = i
            Stage.objects.filter(pk=stage.pk).update(position=i)


@transaction.atomic
def stage_update(*, actor: User, stage: Stage, data: dict) -> Stage:
    """Renames a stage or changes its colour, required fields or (while it holds no deal) kind."""
    require_admin(actor, ADMIN_ONLY)
    errors: dict[str, str] = {}
    if "name" in data:
        stage.name = _text(data["name"], "name", errors)
    if "color" in data:
        stage.color = _text(data["color"], "color", errors, required=False, max_length=16)
    if "required_fields" in data:
        stage.required_fields = _required_fields(data["required_fields"], "required_fields",
                                                 _custom_keys(stage.pipeline), errors)
    if "kind" in data and data["kind"] != stage.kind:
        if data["kind"] not in Stage.Kind.values:
            errors["kind"] = f"must be one of: {', '.join(Stage.Kind.values)}"
        elif stage.deals.exists():
            errors["kind"] = "a stage holding deals keeps its kind"
        elif stage.kind == Stage.Kind.OPEN and not stage.pipeline.stages.filter(
                kind=Stage.Kind.OPEN).exclude(pk=stage.pk).exists():
            errors["kind"] = "a pipeline needs at least one open stage"
        else:
            stage.kind = data["kind"]
    if errors:
        raise FieldError(errors)
    stage.save()
    return stage


@transaction.atomic
def stage_reorder(*, actor: User, pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Puts the pipeline's stages in the given order; every stage named exactly once."""
    require_admin(actor, ADMIN_ONLY)
    stages = {s.pk: s for s in pipeline.stages.select_for_update()}
    if sorted(stage_ids) != sorted(stages) or len(set(stage_ids)) != len(stage_ids):
        raise FieldError({"stage_ids": "name every stage of the pipeline once"})
    ordered = [stages[pk] for pk in stage_ids]
    _renumber(ordered)
    return ordered


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    """Removes an empty stage; a stage holding deals (or the last open one) stays."""
    require_admin(actor, ADMIN_ONLY)
    if stage.deals.exists():
        raise FieldError({"stage_id": "this stage holds deals: move them to another stage first"})
    if stage.kind == Stage.Kind.OPEN and not stage.pipeline.stages.filter(
            kind=Stage.Kind.OPEN).exclude(pk=stage.pk).exists():
        raise FieldError({"stage_id": "a pipeline needs at least one open stage"})
    from okno.deals.models import DealStageChange

    if DealStageChange.objects.filter(from_stage=stage).exists() or DealStageChange.objects.filter(
            to_stage=stage).exists():
        # The history of moves points at it (analytics' time in stage): keep it out of sight instead.
        raise FieldError({"stage_id": "deals have passed through this stage: rename it instead"})
    pipeline = stage.pipeline
    stage.delete()
    _renumber(list(pipeline.stages.all()))


@transaction.atomic
def pipeline_field_create(*, actor: User, pipeline: Pipeline, key: str, label: str,
                          type: str = PipelineField.Type.TEXT, choices: list[str] | None = None,
                          position: int | None = None) -> PipelineField:
    """A custom field of the pipeline's deals, validated as the cards' custom fields are; its
    value lives in Deal.custom[key]."""
    require_admin(actor, ADMIN_ONLY)
    errors: dict[str, str] = {}
    spec = _field_spec({"key": key, "label": label, "type": type, "choices": choices}, "field", errors,
                       taken=_custom_keys(pipeline))
    if errors:
        raise FieldError({k.removeprefix("field."): v for k, v in errors.items()})
    if position is None:
        position = (pipeline.fields.aggregate(m=Max("position"))["m"] or 0) + 1
    return PipelineField.objects.create(pipeline=pipeline, position=position, **spec)


from okno.deals.deal_services import (  # noqa: E402, F401
    deal_create,
    deal_data_clean,
    deal_lines_set,
    deal_move_to_stage,
    deal_update,
)
