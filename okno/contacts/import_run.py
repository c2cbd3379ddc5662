"""One import run: rows matched against the cards and against earlier rows of the same file
(a personal phone, an e-mail, a landline under the same name), then created, merged or skipped
as the job says; the per-row outcomes the job reports. Split from imports.py (the job's life)."""


from django.db import transaction
from django.utils import timezone

from okno.contacts import import_bulk, matching, names
from okno.contacts.import_mapping import UserResolver, row_to_raw
from okno.contacts.models import Contact, ImportJob
from okno.contacts.selectors import contacts_visible
from okno.contacts.services import SCALAR_FIELDS, ContactData, contact_data_clean, contact_update
from okno.core.errors import FieldError
from okno.core.phones import InvalidPhone, format_phone, is_personal, normalize_phone
from okno.people.models import User

# The report keeps this many entries of each kind; the counts stay exact beyond it.
MAX_REPORTED = 10_000


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

