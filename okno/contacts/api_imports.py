"""/api/v1/contacts/imports and /api/v1/contacts/export: bulk in and out of the contact base."""

import json
from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from okno.contacts import exports, imports
from okno.contacts.import_mapping import all_targets
from okno.contacts.models import ImportJob
from okno.core.errors import ErrorOut, FieldError
from okno.core.paging import RowId

router = Router(tags=["imports"])


class ImportJobOut(Schema):
    id: int
    original_name: str
    status: str
    inspecting: bool
    queued: bool
    on_duplicate: str
    header: list[str]
    mapping: dict[str, str]
    targets: dict[str, str]
    total_rows: int
    created_count: int
    merged_count: int
    skipped_count: int
    error_count: int
    errors: list[dict]
    created_at: datetime
    finished_at: datetime | None


class ImportJobCreated(ImportJobOut):
    preview: list[dict]


class RunIn(Schema):
    mapping: dict[str, str] | None = None
    on_duplicate: Literal["skip", "merge", "create"] | None = None


def job_out(job: ImportJob) -> dict:
    return {
        "id": job.pk, "original_name": job.original_name, "status": job.status,
        "inspecting": imports.import_job_inspecting(job), "queued": bool(job.mapping.get("queued_at")),
        "on_duplicate": job.on_duplicate,
        "header": job.mapping.get("file", {}).get("header", []), "mapping": job.mapping.get("fields", {}),
        "targets": all_targets(), "total_rows": job.total_rows, "created_count": job.created_count,
        "merged_count": job.merged_count, "skipped_count": job.skipped_count, "error_count": job.error_count,
        "errors": job.errors, "created_at": job.created_at, "finished_at": job.finished_at,
    }


def _mapping(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise FieldError({"mapping": "must be JSON: {\"column\": \"field\"}"}) from None
    if not isinstance(value, dict):
        raise FieldError({"mapping": "must be a JSON object {\"column\": \"field\"}"})
    return value


@router.post("/imports", response={201: ImportJobCreated})
def create_import(request: HttpRequest, file: File[UploadedFile], mapping: Form[str | None] = None,
                  on_duplicate: Form[Literal["skip", "merge", "create"]] = "skip"):
    """Uploads a CSV or XLSX file; the worker then reads it (`inspecting` is true meanwhile).

    Poll GET /imports/{id}: once `inspecting` is false it holds the detected header, the
    suggested (or given) mapping and a preview, or `status: failed` with the reason.
    A file refused without reading (size, format, an XLSX zip bomb) is a 400 at once."""
    job = imports.import_job_create(actor=request.auth, upload=file, mapping=_mapping(mapping),
                                    on_duplicate=on_duplicate)
    return Status(201, {**job_out(job), "preview": imports.import_preview(job=job, actor=request.auth)})


@router.get("/imports/{int:job_id}", response=ImportJobCreated)
def get_import(request: HttpRequest, job_id: int):
    """Status and counts; the preview while the job waits to run."""
    job = imports.import_job_get(user=request.auth, pk=job_id)
    preview = imports.import_preview(job=job, actor=request.auth) if imports.import_job_editable(job) else []
    return {**job_out(job), "preview": preview}


@router.post("/imports/{int:job_id}/run", response={202: ImportJobOut, 409: ErrorOut})
def run_import(request: HttpRequest, job_id: int, payload: RunIn | None = None):
    """Starts the import in the background, optionally with a changed mapping or duplicate rule."""
    job = imports.import_job_get(user=request.auth, pk=job_id)
    if payload is not None and (payload.mapping is not None or payload.on_duplicate is not None):
        imports.import_job_configure(job=job, mapping=payload.mapping, on_duplicate=payload.on_duplicate)
    imports.import_job_start(actor=request.auth, job=job)
    return Status(202, job_out(job))


@router.get("/export")
def export_contacts(request: HttpRequest, format: Literal["csv", "xlsx"] = "csv", q: str = "", phone: str = "",
                    email: str = "", tag: str = "", responsible_id: RowId | None = Query(None)):
    """The filtered list (same filters as GET /contacts) as a file; only cards the caller may see."""
    return exports.export_response(fmt=format, user=request.auth, q=q, phone=phone, email=email, tag=tag,
                                   responsible_id=responsible_id)
