"""Settings → Online stores: the connections, a form per kind, "Test connection", held orders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from okno.core.access import require_admin
from okno.core.errors import FieldError
from okno.core.reasons import reason_text
from okno.deals.models import Pipeline
from okno.stores import adapters
from okno.stores.adapters.base import StoreUnreachable
from okno.stores.connections import (
    MASK,
    settings_shown,
    store_connection_create,
    store_connection_update,
    store_events_retry,
    webhook_path,
)
from okno.stores.models import StoreConnection, StoreEvent, StoreLog

# What the adapters' test_connection answer (in English, as the API gives it), listed so that
# the "Test connection" button shows it in the user's language.
TEST_ANSWERS = [gettext_noop("InSales API answered"), gettext_noop("pretix API answered"),
                gettext_noop("WooCommerce REST API v3 answered"), gettext_noop("the changed orders address answered"),
                gettext_noop("nothing to call: the shop writes to Okno's API")]


@login_required
def connection_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    connections = StoreConnection.objects.select_related("pipeline").order_by("name", "pk")
    return render(request, "stores/list.html", {"connections": connections, "kinds": StoreConnection.Kind.choices})


def _status_map_from_form(request: HttpRequest, pipeline: Pipeline) -> list[list]:
    """One text box per stage: the store statuses (comma-separated) that mean this stage; the first
    one is written back to the store when a deal enters the stage."""
    pairs = []
    for stage in pipeline.stages.all():
        for status in request.POST.get(f"stage_{stage.pk}", "").split(","):
            if status.strip():
                pairs.append([status.strip(), stage.pk])
    return pairs


def _form_context(kind: str, connection: StoreConnection | None, pipeline: Pipeline | None, values: dict,
                  errors: dict) -> dict:
    adapter = adapters.get(kind)
    shown = settings_shown(connection) if connection else {}
    fields = [{"spec": s, "value": values.get(s.key, shown.get(s.key, "")), "error": errors.get(f"settings.{s.key}")}
              for s in adapter.settings]
    by_stage: dict[int, list[str]] = {}
    for status, stage in (connection.status_map if connection else []):
        by_stage.setdefault(stage, []).append(status)
    stages = [{"stage": s, "statuses": ", ".join(by_stage.get(s.pk, []))} for s in pipeline.stages.all()] \
        if pipeline else []
    return {"kind": kind, "kind_label": StoreConnection.Kind(kind).label, "connection": connection,
            "fields": fields, "stages": stages, "pipelines": Pipeline.objects.filter(is_active=True),
            "pipeline": pipeline, "errors": errors, "adapter": adapter, "mask": MASK}


@login_required
def connection_edit(request: HttpRequest, pk: int | None = None, kind: str | None = None) -> HttpResponse:
    require_admin(request.user)
    connection = get_object_or_404(StoreConnection, pk=pk) if pk else None
    kind = connection.kind if connection else kind
    if kind not in StoreConnection.Kind.values:
        return redirect("stores:list")
    pipeline = connection.pipeline if connection else None
    if request.GET.get("pipeline", "").isdigit():
        pipeline = Pipeline.objects.filter(pk=int(request.GET["pipeline"])).first() or pipeline
    if pipeline is None:
        pipeline = Pipeline.objects.filter(is_active=True).first()
    errors: dict = {}
    values: dict = {}
    if request.method == "POST":
        adapter = adapters.get(kind)
        values = {s.key: request.POST.get(f"setting_{s.key}", "") for s in adapter.settings}
        pipeline_id = int(request.POST["pipeline"]) if request.POST.get("pipeline", "").isdigit() else None
        pipeline = Pipeline.objects.filter(pk=pipeline_id).first() or pipeline
        data = {"name": request.POST.get("name", ""), "settings": values, "pipeline_id": pipeline_id,
                "status_map": _status_map_from_form(request, pipeline) if pipeline else []}
        try:
            if connection:
                data["is_active"] = request.POST.get("is_active") == "on"
                connection = store_connection_update(actor=request.user, connection=connection, data=data)
            else:
                connection = store_connection_create(actor=request.user, kind=kind, **data)
            messages.success(request, _("Saved"))
            return redirect("stores:edit", connection.pk)
        except FieldError as exc:
            errors = {field: reason_text(reason) for field, reason in exc.by_field.items()}
    context = _form_context(kind, connection, pipeline, values, errors)
    context["name"] = request.POST.get("name") if request.method == "POST" else (connection.name if connection else "")
    if connection:
        context["webhook_url"] = request.build_absolute_uri(webhook_path(connection))
        context["problems"] = connection.events.filter(status=StoreEvent.Status.PROBLEM).order_by("-pk")[:50]
        context["log"] = StoreLog.objects.filter(connection=connection).order_by("-pk")[:50]
    return render(request, "stores/form.html", context)


@login_required
@require_POST
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Test connection" button (an htmx fragment): one call to the store's API."""
    require_admin(request.user)
    connection = get_object_or_404(StoreConnection, pk=pk)
    try:
        detail, ok = _(adapters.get(connection.kind).test_connection(settings=connection.settings)), True
    except StoreUnreachable as exc:
        detail, ok = reason_text(str(exc)), False
    return render(request, "stores/_test_result.html", {"ok": ok, "detail": detail})


@login_required
@require_POST
def connection_retry(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    connection = get_object_or_404(StoreConnection, pk=pk)
    count = store_events_retry(connection=connection)
    messages.success(request, _("%(count)s held orders sent back for processing") % {"count": count})
    return redirect("stores:edit", connection.pk)
