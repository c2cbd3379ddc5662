"""Importing contacts from CSV/XLSX: upload, mapping, preview, and the run with its per-row report.

Every row goes through `contact_data_clean`, the same validation as a card typed by hand;
a bad row is reported (row number, field, reason) and the good rows around it are stored.
A duplicate is a row sharing a normalised phone or e-mail with an active card (the
"certain" level of `matching.find_candidates`) or with an earlier row of the same file;
`on_duplicate` says what happens to it: skip (reported with the card or row it repeats),
merge (the card gains the row's new phones and e-mails and its empty fields are filled,
through `contact_update`), or create. Name-only resemblances are left to the background
duplicate scan: skipping every "Иванов Иван" would lose real customers.

The upload request only checks what is cheap (size, format, the XLSX zip's directory),
stores the file and queues its inspection; the worker reads the file (header, a sample for
the preview, the row count; `import_job_inspect`), so a hostile file costs the worker bounded
memory and never holds a web process (import_files.py). A file that cannot be read fails its
job with the reason before any mapping; the run reads it to the end once more before
writing anything, so a file damaged part-way also writes nothing.
"""

import logging
import marshal
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.contacts.import_files import (
    FileInfo,
    ImportFileError,
    check_xlsx_archive,
    detect_format,
    inspect_file,
    iter_data_rows,
)
from okno.contacts.import_mapping import clean_mapping, header_matcher, suggest_mapping
from okno.contacts.import_run import _Run
from okno.contacts.models import ImportJob
from okno.core.errors import ApiError, FieldError
from okno.people.models import User

log = logging.getLogger(__name__)

# Rows written per transaction: large enough for bulk inserts to pay, small enough that
# SQLite's write lock is released often for the people working meanwhile.
BATCH_ROWS = 1000
BATCH_MAX_CHARS = 4_000_000
PREVIEW_ROWS = 20



def import_jobs_visible(*, user: User) -> QuerySet[ImportJob]:
    """A job (and so its file and report) is its creator's, and the administrators'."""
    qs = ImportJob.objects.select_related("created_by").order_by("-created_at", "-pk")
    return qs if user.is_admin else qs.filter(created_by=user)


def import_job_get(*, user: User, pk: int) -> ImportJob:
    job = import_jobs_visible(user=user).filter(pk=pk).first()
    if job is None:
        raise Http404("No such import")
    return job


def _file_info(job: ImportJob) -> FileInfo:
    return FileInfo.of(job.mapping["file"])


def _refused(name: str, exc: ImportFileError) -> FieldError:
    return FieldError({"file": _("%(name)s: %(reason)s") % {"name": name, "reason": exc}},
                      detail="The file cannot be imported")


def import_job_create(*, actor: User, upload: UploadedFile, mapping: dict | None = None,
                      on_duplicate: str = ImportJob.OnDuplicate.SKIP) -> ImportJob:
    """Stores the file and queues its inspection; refuses at once only what is cheap to see.

    Checked here: the size, the duplicate rule, that it is CSV or XLSX, and an XLSX zip's
    directory (declared sizes and compression: a zip bomb is refused before it is stored).
    Everything that needs parsing runs in the worker (`import_job_inspect`).
    """
    name = (upload.name or "import")[:255]
    limit = settings.OKNO_IMPORT_MAX_BYTES
    if upload.size > limit:
        raise FieldError({"file": f"the file is {upload.size / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB"},
                         detail="File too large")
    if on_duplicate not in ImportJob.OnDuplicate.values:
        raise FieldError({"on_duplicate": f"must be one of: {', '.join(ImportJob.OnDuplicate.values)}"})
    if mapping is not None and not isinstance(mapping, dict):
        raise FieldError({"mapping": "must be an object {column: field}"})
    try:
        upload.seek(0)
        if detect_format(upload.read(64 * 1024), Path(name).suffix.lower()) == "xlsx":
            check_xlsx_archive(upload)
    except ImportFileError as exc:
        raise _refused(name, exc) from exc
    upload.seek(0)
    job = ImportJob(original_name=name, on_duplicate=on_duplicate, created_by=actor,
                    mapping={"inspection": "pending", "requested_fields": mapping or None})
    job.file.save(upload.name or "import", upload, save=False)
    job.save()
    transaction.on_commit(lambda: _enqueue_inspection(job.pk))
    return job


def _enqueue_inspection(job_id: int) -> None:
    from okno.contacts.tasks import import_job_inspect_task

    import_job_inspect_task.enqueue(job_id)


def import_job_inspecting(job: ImportJob) -> bool:
    """Uploaded, and the worker has not read the file yet (jobs from before inspections: read)."""
    return job.status == ImportJob.Status.UPLOADED and job.mapping.get("inspection") == "pending"


def import_job_inspect(*, job_id: int) -> ImportJob:
    """Reads the uploaded file once in the worker: header, suggested mapping, sample, row count.

    Safe to run twice (a re-delivered task finds the job inspected and returns). The row count
    is saved every few thousand rows, so the page shows the reading's progress. A file that
    cannot be read fails the job with the reason, in its creator's language.
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not import_job_inspecting(job):
        return job
    language = getattr(job.created_by, "language", "") or settings.LANGUAGE_CODE

    def progress(rows: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(total_rows=rows)

    with translation.override(language):
        try:
            with job.file.open("rb") as fh:
                found = inspect_file(fh, name=job.original_name, known_header=header_matcher(),
                                     sample_rows=PREVIEW_ROWS, progress=progress)
            requested = job.mapping.get("requested_fields")
            fields = clean_mapping(requested, found.info.header) if requested else suggest_mapping(found.info.header)
        except ImportFileError as exc:
            return _inspection_failed(job, [{"row": None, "field": "file", "kind": "error",
                                             "reason": _("%(name)s: %(reason)s") % {"name": job.original_name,
                                                                                    "reason": exc}}])
        except FieldError as exc:
            return _inspection_failed(job, [{"row": None, **e, "kind": "error"} for e in exc.errors])
        except Exception as exc:  # noqa: BLE001 - the job must say it failed, not stay "checking" for ever
            log.exception("inspection of import %s failed", job_id)
            return _inspection_failed(job, [{"row": None, "field": "file", "kind": "error", "reason": _(
                "The file could not be read (internal error %(error)s).") % {"error": type(exc).__name__}}])
    job.mapping = {"fields": fields, "file": found.info.as_dict(), "sample": found.sample, "inspection": "done"}
    job.total_rows = found.total
    job.save(update_fields=["mapping", "total_rows"])
    return job


def _inspection_failed(job: ImportJob, errors: list[dict]) -> ImportJob:
    job.status, job.errors, job.finished_at = ImportJob.Status.FAILED, errors, timezone.now()
    job.mapping = {**job.mapping, "inspection": "failed"}
    job.save(update_fields=["status", "errors", "finished_at", "mapping"])
    return job


def import_job_editable(job: ImportJob) -> bool:
    """Uploaded, read by the worker and not yet queued: the mapping can still change."""
    return (job.status == ImportJob.Status.UPLOADED and not job.mapping.get("queued_at")
            and not import_job_inspecting(job))


def import_job_configure(*, job: ImportJob, mapping: dict | None = None, on_duplicate: str | None = None) -> ImportJob:
    """Changes the mapping or the duplicate rule while the job has not started."""
    if import_job_inspecting(job):
        raise ApiError("The file is still being read; try again when its columns are shown", status=409)
    if not import_job_editable(job):
        raise ApiError("This import has already been started", status=409)
    if on_duplicate is not None:
        if on_duplicate not in ImportJob.OnDuplicate.values:
            raise FieldError({"on_duplicate": f"must be one of: {', '.join(ImportJob.OnDuplicate.values)}"})
        job.on_duplicate = on_duplicate
    if mapping is not None:
        job.mapping = {**job.mapping, "fields": clean_mapping(mapping, _file_info(job).header)}
    job.save(update_fields=["mapping", "on_duplicate"])
    return job


def import_preview(*, job: ImportJob, actor: User) -> list[dict]:
    """The first rows as they would be imported: mapped values, errors, duplicate and action."""
    if import_job_inspecting(job):
        return []
    run = _Run(job=job, actor=actor, dry_run=True)
    return run.batch([(n, cells) for n, cells in job.mapping.get("sample", [])])


def import_job_start(*, actor: User, job: ImportJob) -> ImportJob:
    """Queues the run; the worker picks it up after this transaction commits."""
    from okno.contacts.tasks import import_job_run_task

    if import_job_inspecting(job):
        raise ApiError("The file is still being read; try again when its columns are shown", status=409)
    if not import_job_editable(job):
        raise ApiError("This import has already been started", status=409)
    if not job.mapping.get("fields"):
        raise FieldError({"mapping": "map at least one column to a field"})
    # Marked at once, so the page shows the progress (not the form) until the worker claims it.
    job.mapping = {**job.mapping, "queued_at": timezone.now().isoformat()}
    job.save(update_fields=["mapping"])
    transaction.on_commit(lambda: import_job_run_task.enqueue(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Runs an uploaded job once: a second call (a re-delivered task) finds it claimed and returns."""
    if import_job_inspecting(ImportJob.objects.get(pk=job_id)):
        return ImportJob.objects.get(pk=job_id)  # not started: the file has not been read yet
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.UPLOADED).update(
        status=ImportJob.Status.RUNNING, total_rows=0, created_count=0, merged_count=0, skipped_count=0,
        error_count=0, errors=[])
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    run = _Run(job=job, actor=job.created_by, dry_run=False)
    info = _file_info(job)
    rows: list[tuple[int, list[str]]] = []
    try:
        with job.file.open("rb") as fh, tempfile.TemporaryFile() as spool:
            # The file is read to the end (into a spool of parsed rows) before anything is
            # written: a file damaged half-way writes nothing, and the total is known.
            job.total_rows = _spool_rows(fh, info, spool)
            job.save(update_fields=["total_rows"])
            for rows in _spooled_batches(spool):
                run.write_batch(rows)
    except ImportFileError as exc:
        run.fail(str(exc), row=None)
    except Exception as exc:  # the report must say where it stopped; rows before it are stored
        log.exception("import %s failed", job_id)
        run.fail(f"stopped by an internal error ({type(exc).__name__}); rows before this one are imported",
                 row=rows[0][0] if rows else None)
    else:
        run.save(status=ImportJob.Status.DONE)
    return job


def _spool_rows(fh, info: FileInfo, spool) -> int:
    total, batch, chars = 0, [], 0
    for item in iter_data_rows(fh, info):
        batch.append(item)
        total += 1
        chars += sum(len(c) for c in item[1])
        # A batch is also cut by its text: 1,000 rows of wide, long cells are not held at once.
        if len(batch) >= BATCH_ROWS or chars >= BATCH_MAX_CHARS:
            marshal.dump(batch, spool)
            batch, chars = [], 0
    if batch:
        marshal.dump(batch, spool)
    spool.seek(0)
    return total


def _spooled_batches(spool):
    while True:
        try:
            yield marshal.load(spool)
        except EOFError:
            return
