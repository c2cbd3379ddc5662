"""Store connections: created and changed by an administrator, settings validated per kind.

Secrets (keys, passwords, webhook secrets) are never answered back: a GET shows them masked and
a PUT that leaves one out (or sends the mask) keeps the stored value.
"""

import secrets
from urllib.parse import urlsplit

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_noop

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.deals.models import Pipeline
from okno.people.models import User
from okno.stores import adapters
from okno.stores.models import StoreConnection, StoreEvent

ADMIN_ONLY = "Only an administrator connects stores"
MASK = "********"
# The reasons the connection form can show, listed so that pages show them translated (reason_text).
REASONS = [gettext_noop("must be at most 500 characters"), gettext_noop("must be an http(s):// address"),
           gettext_noop("store statuses must be text of 1 to 100 characters"), gettext_noop("must be a stage id"),
           gettext_noop("no such active pipeline"), gettext_noop("required, 1 to 200 characters"),
           gettext_noop("this connection has orders: its pipeline stays")]


def _clean_settings(kind: str, raw, old: dict, errors: dict[str, str]) -> dict:
    adapter = adapters.get(kind)
    if adapter is None:
        return {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors["settings"] = "must be an object"
        return dict(old)
    known = {s.key for s in adapter.settings}
    for key in raw:
        if key not in known:
            errors[f"settings.{key}"] = f"unknown setting for {kind}: use {', '.join(sorted(known)) or 'none'}"
    cleaned = {}
    for spec in adapter.settings:
        value = raw.get(spec.key)
        if spec.secret and (value is None or value == MASK) and old.get(spec.key):
            cleaned[spec.key] = old[spec.key]
            continue
        if value is None:
            value = old.get(spec.key, "") if spec.key not in raw else ""
        if not isinstance(value, str):
            errors[f"settings.{spec.key}"] = "must be text"
            continue
        value = value.strip()
        if spec.required and not value:
            errors[f"settings.{spec.key}"] = "required"
        elif len(value) > 500:
            errors[f"settings.{spec.key}"] = "must be at most 500 characters"
        elif value and spec.url and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
            errors[f"settings.{spec.key}"] = "must be an http(s):// address"
        cleaned[spec.key] = value
    if kind == StoreConnection.Kind.OKNO and not cleaned.get("secret"):
        cleaned["secret"] = "whsec_" + secrets.token_urlsafe(32)
    return cleaned


def _clean_status_map(raw, pipeline: Pipeline | None, errors: dict[str, str]) -> list[list]:
    """`{"<store status>": <stage id>}` (or [[status, id], ...]) into ordered pairs of this pipeline."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in raw):
        pairs = [tuple(p) for p in raw]
    else:
        errors["status_map"] = "must be an object {\"<store status>\": <stage id>}"
        return []
    stages = set(pipeline.stages.values_list("pk", flat=True)) if pipeline else set()
    out = []
    for status, stage_id in pairs:
        name = f"status_map.{status}"
        if not isinstance(status, str) or not status.strip() or len(status) > 100:
            errors["status_map"] = "store statuses must be text of 1 to 100 characters"
        elif isinstance(stage_id, bool) or not isinstance(stage_id, int):
            errors[name] = "must be a stage id"
        elif pipeline is not None and stage_id not in stages:
            errors[name] = "no such stage in this pipeline"
        else:
            out.append([status.strip(), stage_id])
    return out


def _pipeline(pipeline_id, errors: dict[str, str]) -> Pipeline | None:
    pipeline = None
    if isinstance(pipeline_id, int) and not isinstance(pipeline_id, bool):
        pipeline = Pipeline.objects.filter(pk=pipeline_id, is_active=True).first()
    if pipeline is None:
        errors["pipeline_id"] = "no such active pipeline"
    return pipeline


@transaction.atomic
def store_connection_create(*, actor: User, kind: str, name: str, settings: dict | None, pipeline_id: int,
                            status_map=None) -> StoreConnection:
    """A connection of `kind` feeding `pipeline_id`; every bad field named at once."""
    require_admin(actor, ADMIN_ONLY)
    errors: dict[str, str] = {}
    if kind not in StoreConnection.Kind.values:
        errors["kind"] = f"must be one of: {', '.join(StoreConnection.Kind.values)}"
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        errors["name"] = "required, 1 to 200 characters"
    pipeline = _pipeline(pipeline_id, errors)
    cleaned = _clean_settings(kind, settings, {}, errors)
    pairs = _clean_status_map(status_map, pipeline, errors)
    if errors:
        raise FieldError(errors)
    return StoreConnection.objects.create(kind=kind, name=name, settings=cleaned, pipeline=pipeline,
                                          status_map=pairs, created_by=actor)


@transaction.atomic
def store_connection_update(*, actor: User, connection: StoreConnection, data: dict) -> StoreConnection:
    """Changes what is given of name, settings, pipeline_id, status_map, is_active.

    A changed status map sends the orders held for a status it missed back to the drain."""
    require_admin(actor, ADMIN_ONLY)
    errors: dict[str, str] = {}
    if "name" in data:
        name = data["name"].strip() if isinstance(data["name"], str) else ""
        if not name or len(name) > 200:
            errors["name"] = "required, 1 to 200 characters"
        connection.name = name
    if data.get("pipeline_id") is not None and data["pipeline_id"] != connection.pipeline_id:
        if connection.orders.exists():
            errors["pipeline_id"] = "this connection has orders: its pipeline stays"
        else:
            connection.pipeline = _pipeline(data["pipeline_id"], errors) or connection.pipeline
    if "settings" in data:
        connection.settings = _clean_settings(connection.kind, data["settings"], connection.settings, errors)
    map_changed = "status_map" in data
    if map_changed:
        connection.status_map = _clean_status_map(data["status_map"], connection.pipeline, errors)
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = "must be true or false"
        else:
            connection.is_active = data["is_active"]
    if errors:
        raise FieldError(errors)
    connection.save()
    if map_changed:
        store_events_retry(connection=connection, reasons=("status_unmapped",))
    return connection


def store_events_retry(*, connection: StoreConnection, reasons: tuple[str, ...] | None = None) -> int:
    """Puts the connection's held orders (all, or those held for `reasons`) back for the drain."""
    held = connection.events.filter(status__in=(StoreEvent.Status.PROBLEM, StoreEvent.Status.FAILED))
    if reasons is not None:
        held = held.filter(reason__in=reasons)
    return held.update(status=StoreEvent.Status.RECEIVED, attempts=0, locked_until=None)


def webhook_path(connection: StoreConnection) -> str:
    return reverse("stores:hook", args=[connection.webhook_token])


def settings_shown(connection: StoreConnection) -> dict:
    """The settings with every secret masked."""
    adapter = adapters.get(connection.kind)
    secret = {s.key for s in adapter.settings if s.secret} if adapter else set()
    return {k: (MASK if k in secret and v else v) for k, v in connection.settings.items()}
