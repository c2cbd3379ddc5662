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

from okno.contacts import import_bulk, matching, names
from okno.contacts.import_files import (
    FileInfo,
    ImportFileError,
    check_xlsx_archive,
    detect_format,
    inspect_file,
    iter_data_rows,
)
from okno.contacts.import_mapping import UserResolver, clean_mapping, header_matcher, row_to_raw, suggest_mapping
from okno.contacts.models import Contact, ImportJob
from okno.contacts.selectors import contacts_visible
from okno.contacts.services import SCALAR_FIELDS, ContactData, contact_data_clean, contact_update
from okno.core.errors import ApiError, FieldError
from okno.core.phones import InvalidPhone, format_phone, is_personal, normalize_phone
from okno.people.models import User

log = logging.getLogger(__name__)

# Rows written per transaction: large enough for bulk inserts to pay, small enough that
# SQLite's write lock is released often for the people working meanwhile.
BATCH_ROWS = 1000
BATCH_MAX_CHARS = 4_000_000
PREVIEW_ROWS = 20
# The report keeps this many entries of each kind; the counts stay exact beyond it.
MAX_REPORTED = 10_000


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


class _Owner:
    """Where the keys (phones, e-mails) of an earlier row of the file went."""

    __slots__ = ("row", "contact_id", "pending", "hidden")

    def __init__(self, row: int, contact_id: int | None = None, pending: ContactData | None = None,
                 hidden: bool = False):
        self.row, self.contact_id, self.pending, self.hidden = row, contact_id, pending, hidden


class _Run:
    def __init__(self, *, job: ImportJob, actor: User | None, dry_run: bool):
        self.job, self.actor, self.dry_run = job, actor, dry_run
        self.fields: dict[str, str] = job.mapping.get("fields") or {}
        self.users = UserResolver()
        self.owners: dict[str, _Owner] = {}  # "p:+7916..." / "e:a@b.ru" → owner
        self.counts = {"created": 0, "merged": 0, "skipped": 0, "errors": 0}
        self.reported = {"error": 0, "skipped": 0}
        self.report: list[dict] = []

    # -- the report
    def _note(self, entry: dict) -> None:
        kind = entry["kind"]
        if kind in self.reported:
            self.reported[kind] += 1
            if self.reported[kind] > MAX_REPORTED:
                return
        self.report.append(entry)

    def fail(self, reason: str, *, row: int | None) -> None:
        self.report.insert(0, {"row": row, "field": "file", "reason": reason, "kind": "error"})
        self.save(status=ImportJob.Status.FAILED)

    def save(self, *, status: str) -> None:
        job = self.job
        # By row, as a person reads the file; file-level problems (no row) first.
        self.report.sort(key=lambda e: (e["row"] is not None, e["row"] or 0))
        job.status, job.errors = status, self.report
        job.created_count, job.merged_count = self.counts["created"], self.counts["merged"]
        job.skipped_count, job.error_count = self.counts["skipped"], self.counts["errors"]
        job.finished_at = timezone.now() if status in (ImportJob.Status.DONE, ImportJob.Status.FAILED) else None
        job.save(update_fields=["status", "errors", "created_count", "merged_count", "skipped_count",
                                "error_count", "finished_at", "total_rows"])

    # -- one batch
    def write_batch(self, rows: list[tuple[int, list[str]]]) -> None:
        if not rows:
            return
        # The report must match what is stored: a batch rolled back takes its counts with it.
        counts, reported, report_len = dict(self.counts), dict(self.reported), len(self.report)
        try:
            with transaction.atomic():
                self.batch(rows)
        except Exception:
            self.counts, self.reported = counts, reported
            del self.report[report_len:]
            raise
        ImportJob.objects.filter(pk=self.job.pk).update(
            created_count=self.counts["created"], merged_count=self.counts["merged"],
            skipped_count=self.counts["skipped"], error_count=self.counts["errors"])

    def batch(self, rows: list[tuple[int, list[str]]]) -> list[dict]:
        outcomes, cleaned = [], []
        for number, cells in rows:
            raw, problems = row_to_raw(cells, self.fields, self.users)
            outcome = {"row": number, "values": _display(raw), "errors": [], "status": "new", "action": "create",
                       "duplicate_of": None}
            try:
                data = contact_data_clean(raw, actor=self.actor)
            except FieldError as exc:
                problems += exc.errors
                data = None
            if problems:
                outcome.update(status="error", action="none",
                               errors=[{**p, "value": _value_of(raw, p["field"])} for p in problems])
                self.counts["errors"] += 1
                for p in outcome["errors"]:
                    self._note({"row": number, **p, "kind": "error"})
            else:
                cleaned.append((outcome, data))
            outcomes.append(outcome)

        phones = {(p[0], p[1]) for _, d in cleaned for p in d.phones}
        emails = {e for _, d in cleaned for e in d.emails}
        by_phone, by_email = import_bulk.certain_matches(phones=phones, emails=emails)
        # A landline (an office's main number, a family's home phone) is a match only for a card
        # whose names agree with the row's (docs/duplicates.md, "Telling people apart").
        landline_cards = {cid for (e164, ext), ids in by_phone.items() if not is_personal(e164, ext) for cid in ids}
        self.cards = matching.load_features(landline_cards, base=Contact.objects.filter(
            status=Contact.Status.ACTIVE)) if landline_cards else {}
        found = {cid for ids in [*by_phone.values(), *by_email.values()] for cid in ids}
        visible = found if self.actor is None or self.actor.is_admin else set(
            contacts_visible(user=self.actor).filter(pk__in=found).values_list("pk", flat=True))

        pending: list[tuple[_Owner, ContactData]] = []
        for outcome, data in cleaned:
            keys = _keys(data)
            owner = next((self.owners[k] for k in keys if k in self.owners), None)
            existing = self._existing(data, by_phone, by_email, self.cards)
            mode = self.job.on_duplicate
            if owner is not None:
                outcome.update(status="duplicate", duplicate_of={
                    "row": owner.row, "contact_id": None if owner.hidden else owner.contact_id,
                    "reason": _reason(data, keys, owner=owner, owners=self.owners)})
            elif existing is not None:
                cid, same = existing
                shown = cid if cid in visible else None
                # Another department's card is not named, nor changed by a merge.
                reason = f"{same} as card #{cid}" if shown else f"{same} as a card you cannot see"
                outcome.update(status="duplicate", duplicate_of={"row": None, "contact_id": shown, "reason": reason})
                owner = _Owner(outcome["row"], contact_id=cid, hidden=shown is None)
            if owner is not None and owner.hidden and mode == ImportJob.OnDuplicate.MERGE:
                mode = ImportJob.OnDuplicate.SKIP
            if outcome["status"] == "new" or mode == ImportJob.OnDuplicate.CREATE:
                target = _Owner(outcome["row"], pending=data)
                pending.append((target, data))
                self.counts["created"] += 1
                self._own(keys, target)
            elif mode == ImportJob.OnDuplicate.SKIP:
                outcome["action"] = "skip"
                self.counts["skipped"] += 1
                dup = outcome["duplicate_of"]
                self._note({"row": outcome["row"], "field": "", "reason": dup["reason"], "kind": "skipped",
                            "contact_id": dup["contact_id"], "duplicate_row": dup["row"]})
                # Later rows repeating this one are duplicates of the same customer.
                self._own(keys, owner)
            else:
                outcome["action"] = "merge"
                self.counts["merged"] += 1
                self._merge(owner, data)
                self._own(keys, owner)
        if not self.dry_run:
            contacts = import_bulk.contacts_bulk_create(actor=self.actor, items=[d for _, d in pending])
            for (target, _), contact in zip(pending, contacts, strict=True):
                target.contact_id, target.pending = contact.pk, None
        return outcomes

    def _own(self, keys: list[str], owner: _Owner) -> None:
        for key in keys:
            self.owners.setdefault(key, owner)

    @staticmethod
    def _existing(data: ContactData, by_phone: dict, by_email: dict, cards: dict) -> tuple[int, str] | None:
        row = None
        for e164, ext, _kind, _raw in data.phones:
            ids = by_phone.get((e164, ext)) or []
            if ids and not is_personal(e164, ext):
                row = row or _features(data)
                ids = [cid for cid in ids if cid in cards and matching.names_agree(row, cards[cid])]
            if ids:
                return ids[0], f"same phone {format_phone(e164, ext)}"
        for email in data.emails:
            if by_email.get(email):
                return by_email[email][0], f"same e-mail {email}"
        return None

    def _merge(self, owner: _Owner, data: ContactData) -> None:
        if owner.pending is not None:
            _enrich(owner.pending, data)
            return
        if self.dry_run:
            return
        contact = Contact.objects.prefetch_related("phones", "emails", "tags").get(pk=owner.contact_id)
        raw = _merge_raw(contact, data)
        if raw:
            contact_update(actor=self.actor, contact=contact,
                           data=contact_data_clean(raw, actor=self.actor, partial=True))


def _features(data: ContactData) -> "matching.Features":
    return matching.features_of(first=data.first_name, last=data.last_name, middle=data.middle_name,
                                company=data.company or "", city=data.city, phones=[], emails=[])


def _keys(data: ContactData) -> list[str]:
    """What makes two rows of one file one customer: a personal phone, an e-mail, or a landline
    with the same name (two colleagues on an office's main line are two rows, two cards)."""
    keys = []
    for e164, ext, _kind, _raw in data.phones:
        if is_personal(e164, ext):
            keys.append(f"p:{e164};{ext}")
        else:
            keys.append(f"l:{e164};{ext};{names.skeleton(data.first_name)};{names.skeleton(data.last_name)}")
    return keys + [f"e:{e}" for e in data.emails]


def _reason(data: ContactData, keys: list[str], *, owner: _Owner, owners: dict[str, _Owner]) -> str:
    for key in keys:
        if owners.get(key) is owner:
            what = (f"phone {format_phone(*key[2:].split(';')[:2])}" if key[:2] in ("p:", "l:")
                    else f"e-mail {key[2:]}")
            return f"same {what} as row {owner.row} of this file"
    return f"same as row {owner.row} of this file"


def _enrich(target: ContactData, extra: ContactData) -> None:
    """A later row of the file adds to a card not yet written: new phones/e-mails, empty fields."""
    for name in SCALAR_FIELDS:
        if not getattr(target, name) and getattr(extra, name):
            setattr(target, name, getattr(extra, name))
    target.company = target.company or extra.company
    target.responsible = target.responsible or extra.responsible
    have = {(p[0], p[1]) for p in target.phones}
    target.phones += [p for p in extra.phones if (p[0], p[1]) not in have]
    target.emails += [e for e in extra.emails if e not in target.emails]
    if extra.tags:
        target.tags = sorted(set(target.tags or []) | set(extra.tags))
    for key, value in extra.custom.items():
        if value is not None and target.custom.get(key) is None:
            target.custom[key] = value


def _phone_text(phone) -> str:
    """The stored phone as input that normalises back to itself (its raw text if it still does)."""
    if phone.raw:
        try:
            parsed = normalize_phone(phone.raw)
            if (parsed.e164, parsed.extension) == (phone.e164, phone.extension):
                return phone.raw
        except InvalidPhone:
            pass
    return f"{phone.e164} доб. {phone.extension}" if phone.extension else phone.e164


def _merge_raw(contact: Contact, data: ContactData) -> dict:
    """The partial input that enriches an existing card without overwriting what it has."""
    raw: dict = {}
    for name in SCALAR_FIELDS:
        if not getattr(contact, name) and getattr(data, name):
            raw[name] = getattr(data, name)
    if data.company and not contact.company_id:
        raw["company"] = data.company
    if "responsible_id" in data.given and data.responsible and not contact.responsible_id:
        raw["responsible_id"] = data.responsible.pk
    phones = list(contact.phones.all())
    have = {(p.e164, p.extension) for p in phones}
    new_phones = [p for p in data.phones if (p[0], p[1]) not in have]
    if new_phones:
        raw["phones"] = [{"number": _phone_text(p), "kind": p.kind} for p in phones] + [
            {"number": p[3] or p[0], "kind": p[2]} for p in new_phones]
    emails = [e.email for e in contact.emails.all()]
    if any(e not in emails for e in data.emails):
        raw["emails"] = emails + [e for e in data.emails if e not in emails]
    tags = {t.name for t in contact.tags.all()}
    if data.tags and not set(data.tags) <= tags:
        raw["tags"] = sorted(tags | set(data.tags))
    custom = {k: v for k, v in data.custom.items() if v is not None and contact.custom.get(k) in (None, "")}
    if custom:
        raw["custom"] = custom
    return raw


def _display(raw: dict) -> dict:
    shown = {k: ", ".join(str(x) for x in v) if isinstance(v, list) else v for k, v in raw.items() if k != "custom"}
    shown.update({f"custom.{k}": v for k, v in (raw.get("custom") or {}).items()})
    return shown


def _value_of(raw: dict, field: str) -> str:
    """The cell text behind an error such as "phones[1]" or "custom.budget"."""
    name, _, rest = field.partition("[")
    if rest:
        items = raw.get(name) or []
        index = int(rest.split("]")[0]) if rest.split("]")[0].isdigit() else -1
        value = items[index] if 0 <= index < len(items) else ""
        value = value.get("number", "") if isinstance(value, dict) else value
    elif name.startswith("custom."):
        value = (raw.get("custom") or {}).get(name.removeprefix("custom."), "")
    else:
        value = raw.get(name, "")
    return str(value)[:200]

