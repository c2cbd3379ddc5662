"""The contact list's export: the list's search, filters and sort, as XLSX or CSV; a long list
through an export job with its progress page and an owner-only download (export_jobs.py)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from okno.contacts import exports
from okno.contacts.contact_filters import ContactFilters, contacts_listed
from okno.contacts.export_jobs import FORMATS, STREAM_MAX_ROWS, export_job_create, export_job_get
from okno.contacts.models import ExportJob


def export_format(request: HttpRequest) -> str | None:
    """`format`: xlsx or csv (csv when absent, as the old links had it); None when it is something else."""
    fmt = request.GET.get("format") or "csv"
    return fmt if fmt in FORMATS else None


def bad_format() -> HttpResponse:
    return HttpResponse(_("format: must be xlsx or csv"), status=400, content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def export_page(request: HttpRequest) -> HttpResponse:
    """The rows the list shows (every page) as a file; more than STREAM_MAX_ROWS go through a job."""
    fmt = export_format(request)
    if fmt is None:
        return bad_format()
    filters = ContactFilters.from_query(request.GET)
    total = contacts_listed(user=request.user, filters=filters).count()
    if total > STREAM_MAX_ROWS:
        job = export_job_create(actor=request.user, kind=ExportJob.Kind.CONTACTS, fmt=fmt,
                                params=filters.query(), total=total)
        return redirect("contacts:export_job", pk=job.pk)
    return exports.export_stream(fmt=fmt, user=request.user, filters=filters)


def _back_url(job: ExportJob) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    name = "deals:list" if job.kind == ExportJob.Kind.DEALS else "contacts:list"
    query = urlencode(job.params)
    return reverse(name) + (f"?{query}" if query else "")


@login_required
@require_GET
def export_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's progress (rows written of the total), polled by htmx, then the download link."""
    job = export_job_get(user=request.user, pk=pk)
    context = {"job": job, "back_url": _back_url(job),
               "percent": int(100 * job.written_rows / job.total_rows) if job.total_rows else 0}
    if request.htmx and request.htmx.target == "export-status":
        return render(request, "contacts/_export_status.html", context)
    return render(request, "contacts/export_job.html", context)


@login_required
@require_GET
def export_job_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, to the person who asked for it only (anyone else: 404)."""
    job = export_job_get(user=request.user, pk=pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("The export is not ready")
    content_type = exports.XLSX_TYPE if job.format == "xlsx" else "text/csv; charset=utf-8"
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=content_type)
