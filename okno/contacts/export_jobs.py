"""Large exports as durable jobs: the list's query is stored, the worker writes the file with
progress, and only the person who asked may download it, for EXPORT_KEEP.

A list of up to STREAM_MAX_ROWS rows is sent at once (a few seconds at most); a longer one
becomes an ExportJob: its page polls the progress (rows written / total) and shows a download
link when done. Files live in MEDIA_ROOT/exports/ under a random name; the download view checks
the owner (anyone else gets 404, as if it did not exist). Jobs and files older than EXPORT_KEEP
are removed whenever a new export job is created and by the worker after each run.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.core.files.base import File
from django.db import transaction
from django.http import Http404, QueryDict
from django.utils import timezone, translation

from okno.contacts.models import ExportJob
from okno.people.models import User

log = logging.getLogger(__name__)

# Rows sent at once by the list page; more go through a job (20,000 cards: ~4.5 s as XLSX).
STREAM_MAX_ROWS = 5000
EXPORT_KEEP = timedelta(hours=24)
FORMATS = ("xlsx", "csv")


def export_job_create(*, actor: User, kind: str, fmt: str, params: dict, total: int) -> ExportJob:
    """Stores the list's query and queues the job; the worker picks it up after this transaction commits."""
    from okno.contacts.tasks import export_job_run_task

    export_jobs_purge()
    job = ExportJob.objects.create(kind=kind, format=fmt if fmt in FORMATS else "xlsx", params=params,
                                   total_rows=total, created_by=actor,
                                   language=translation.get_language() or "")
    transaction.on_commit(lambda: export_job_run_task.enqueue(job.pk))
    return job


def export_job_get(*, user: User, pk: int) -> ExportJob:
    """The user's own job or 404: another person's export (even an administrator's) is not disclosed."""
    job = ExportJob.objects.filter(pk=pk, created_by=user).first()
    if job is None or job.created_at < timezone.now() - EXPORT_KEEP:
        raise Http404("No such export")
    return job


# kind -> (rows(user, params, on_progress), write(fmt, fh, rows)). The card knows no process: the
# deals app registers its list's export from its apps.py (the layering test, docs/architecture.md).
_kinds: dict[str, tuple[Callable, Callable]] = {}


def register_export_kind(kind: str, *, rows: Callable, write: Callable) -> None:
    _kinds[kind] = (rows, write)


def _contact_rows(*, user: User, params: QueryDict, on_progress):
    from okno.contacts.contact_filters import ContactFilters
    from okno.contacts.exports import export_rows

    return export_rows(user=user, filters=ContactFilters.from_query(params), on_progress=on_progress)


def _contact_write(fmt: str, fh, rows) -> None:
    from okno.contacts import exports

    if fmt == "xlsx":
        exports.export_xlsx(fh, rows)
    else:
        for chunk in exports.export_csv(rows):
            fh.write(chunk)


register_export_kind(ExportJob.Kind.CONTACTS, rows=_contact_rows, write=_contact_write)


def _rows(job: ExportJob, on_progress):
    params = QueryDict(mutable=True)
    for key, value in job.params.items():
        params[key] = value
    return _kinds[job.kind][0](user=job.created_by, params=params, on_progress=on_progress)


def _write(job: ExportJob, rows, fh) -> None:
    _kinds[job.kind][1](job.format, fh, rows)


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Writes the file once: a second delivery finds the job claimed and returns."""
    import tempfile

    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, written_rows=0)
    job = ExportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if not claimed or job is None:
        return job

    def on_progress(written: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(written_rows=written)

    try:
        with translation.override(job.language or None), tempfile.TemporaryFile() as fh:
            _write(job, _rows(job, on_progress), fh)
            fh.seek(0)
            stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
            job.filename = f"{job.kind}-{stamp}.{job.format}"
            job.written_rows = ExportJob.objects.get(pk=job.pk).written_rows
            job.file.save(f"{secrets.token_urlsafe(24)}.{job.format}", File(fh), save=False)
        job.status = ExportJob.Status.DONE
    except Exception as exc:  # the page must say it failed rather than spin forever
        log.exception("export %s failed", job_id)
        job.status = ExportJob.Status.FAILED
        job.error = f"{type(exc).__name__}"[:300]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "file", "filename", "written_rows", "error", "finished_at"])
    export_jobs_purge()
    return job


def export_jobs_purge(*, now=None) -> int:
    """Deletes jobs older than EXPORT_KEEP with their files; returns how many."""
    cutoff = (now or timezone.now()) - EXPORT_KEEP
    old = list(ExportJob.objects.filter(created_at__lt=cutoff))
    for job in old:
        if job.file:
            job.file.delete(save=False)
        job.delete()
    return len(old)
