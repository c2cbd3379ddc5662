"""Import pages: upload → mapping with a preview → run → report (polled by htmx)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from okno.contacts import imports
from okno.contacts.import_files import MAX_EMPTY_ROWS
from okno.contacts.import_mapping import all_targets
from okno.contacts.models import ImportJob
from okno.core.errors import ApiError


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and the user's past imports; POST: upload, then the mapping page."""
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a CSV or XLSX file.")
        else:
            try:
                job = imports.import_job_create(actor=request.user, upload=upload,
                                                on_duplicate=request.POST.get("on_duplicate") or "skip")
            except ApiError as exc:
                error = "; ".join(e["reason"] for e in exc.errors) or exc.detail
            else:
                return redirect("contacts:import_job", pk=job.pk)
    jobs = imports.import_jobs_visible(user=request.user)[:20]
    return render(request, "contacts/import_upload.html", {
        "jobs": jobs, "error": error, "choices": ImportJob.OnDuplicate.choices,
    }, status=400 if error else 200)


def _mapping_from_post(request: HttpRequest, header: list[str]) -> dict[str, str]:
    return {str(i): request.POST.get(f"col_{i}", "") for i in range(len(header))}


@login_required
def import_job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """While the worker reads the file: its progress; then the mapping form with the preview; then the
    run's progress and the report (the status panel polls itself with htmx)."""
    job = imports.import_job_get(user=request.user, pk=pk)
    header = job.mapping.get("file", {}).get("header", [])
    form_errors = []
    editable = imports.import_job_editable(job)
    if request.method == "POST" and editable:
        try:
            imports.import_job_configure(job=job, mapping=_mapping_from_post(request, header),
                                         on_duplicate=request.POST.get("on_duplicate"))
            if "run" in request.POST:
                imports.import_job_start(actor=request.user, job=job)
                messages.success(request, _("The import has started."))
            return redirect("contacts:import_job", pk=job.pk)
        except ApiError as exc:
            form_errors = exc.errors or [{"field": "", "reason": exc.detail}]
    if request.htmx and request.htmx.target == "import-status":
        if editable:
            # The worker has read the file: the whole page changes to the mapping form.
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "contacts/import_status.html", {"job": job,
                                                               "inspecting": imports.import_job_inspecting(job)})
    context = {"job": job, "form_errors": form_errors, "choices": ImportJob.OnDuplicate.choices,
               "editable": editable, "inspecting": imports.import_job_inspecting(job)}
    if editable:
        fields = job.mapping.get("fields", {})
        context.update(
            columns=[{"index": str(i), "name": name, "target": fields.get(str(i), "")}
                     for i, name in enumerate(header)],
            targets=all_targets(), preview=imports.import_preview(job=job, actor=request.user),
            empty_rows_limit=f"{MAX_EMPTY_ROWS:,}",
        )
    return render(request, "contacts/import_job.html", context, status=400 if form_errors else 200)

