"""Export of the contact list to CSV or XLSX: exactly the rows the list shows, nothing more.

Rows come from `contact_filters.contacts_listed`, the same search, filters, sort and visibility
as the list page (and the API's filters), read in chunks so memory stays flat however long the
list. The header names are the ones the import recognises, so an export can be edited and
imported back.

Speed: a card's phones, e-mails and tags are read as plain tuples per chunk of 1,000 ids, not
through `prefetch_related` (whose per-card querysets were most of the time: 20,000 cards took
20-36 s, now a few seconds). The list page streams up to `STREAM_MAX_ROWS` rows at once; a
longer list is written by the worker as an ExportJob with progress (okno/contacts/export_jobs.py).
"""

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.contact_filters import ContactFilters, contacts_listed
from okno.contacts.models import Contact, ContactEmail, ContactPhone, CustomField
from okno.contacts.xlsx_writer import write_xlsx
from okno.core.phones import format_phone
from okno.core.spreadsheet_safe import csv_cell, xlsx_cells
from okno.people.models import User

# Cards read per round trip (ids, then their fields, phones, e-mails and tags by those ids).
_CHUNK = 1000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _columns() -> tuple[list[str], list[CustomField]]:
    custom = list(CustomField.objects.all())
    header = [_("ID"), _("Last name"), _("First name"), _("Middle name"), _("Phone"), _("E-mail"), _("Company"),
              _("City"), _("Source"), _("Tags"), _("Responsible")]
    return header + [f.label for f in custom] + [_("Created")], custom


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _grouped(rows) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for contact_id, value in rows:
        out[contact_id].append(value)
    return out


def _chunk_rows(ids: list[int], custom: list[CustomField]) -> Iterator[list]:
    cards = {row[0]: row for row in Contact.objects.filter(pk__in=ids).values_list(
        "pk", "last_name", "first_name", "middle_name", "company__name", "city", "source",
        "responsible__username", "custom", "created_at")}
    phones = _grouped(
        (cid, format_phone(e164, ext)) for cid, e164, ext in
        ContactPhone.objects.filter(contact_id__in=ids).order_by("id").values_list("contact_id", "e164", "extension"))
    emails = _grouped(ContactEmail.objects.filter(contact_id__in=ids).order_by("id").values_list("contact_id", "email"))
    tags = _grouped(Contact.tags.through.objects.filter(contact_id__in=ids).values_list("contact_id", "tag__name"))
    for pk in ids:
        card = cards.get(pk)
        if card is None:
            continue  # deleted since the ids were read
        _pk, last, first, middle, company, city, source, responsible, values, created = card
        values = values or {}
        yield [
            pk, last, first, middle, ", ".join(phones.get(pk, ())), ", ".join(emails.get(pk, ())),
            company or "", city, source, ", ".join(sorted(tags.get(pk, ()))), responsible or "",
            *["" if values.get(f.key) is None else values[f.key] for f in custom],
            timezone.localtime(created).strftime("%Y-%m-%d %H:%M"),
        ]


def export_rows(*, user: User, filters: ContactFilters,
                on_progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """The header, then one row per card the list shows, in the list's order.

    `on_progress(rows_written_so_far)` is called after each chunk (the export job's progress)."""
    header, custom = _columns()
    yield header
    ids = contacts_listed(user=user, filters=filters).values_list("pk", flat=True)
    written = 0
    for batch in _batches(ids.iterator(chunk_size=_CHUNK)):
        for row in _chunk_rows(batch, custom):
            written += 1
            yield row
        if on_progress is not None:
            on_progress(written)


def export_csv(rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 with a BOM and `;`: what Russian Excel opens by double click without garbling.

    Text that a spreadsheet would run as a formula gets a leading `'` (okno.core.spreadsheet_safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield "\ufeff".encode()
    for i, row in enumerate(rows):
        writer.writerow([csv_cell(v) for v in row])
        if i % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def export_xlsx(fh: BinaryIO, rows: Iterable[list]) -> None:
    """Writes the workbook to `fh` as it reads the rows (okno/contacts/xlsx_writer.py): every
    string an inline text cell, so a name starting with "=" is text, never a formula."""
    write_xlsx(fh, rows, sheet_name=_("Contacts"))


def export_xlsx_openpyxl(fh: BinaryIO, rows: Iterable[list]) -> None:
    """The same with openpyxl's write-only mode: ~10x slower; kept to compare the two (tests, benches)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Contacts"))
    for row in rows:
        sheet.append(xlsx_cells(sheet, row))  # text is text: a name starting with "=" is not a formula
    book.save(fh)


def export_filename(fmt: str) -> str:
    return f"contacts-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{fmt}"


def export_stream(*, fmt: str, user: User, filters: ContactFilters):
    """The file as the HTTP answer, written while it is sent (CSV) or at once (XLSX)."""
    rows = export_rows(user=user, filters=filters)
    if fmt == "xlsx":
        import tempfile

        fh = tempfile.TemporaryFile()
        export_xlsx(fh, rows)
        fh.seek(0)
        return FileResponse(fh, as_attachment=True, filename=export_filename("xlsx"), content_type=XLSX_TYPE)
    # The header is translated now, in the request's language: a streamed body is read later.
    header = next(rows)
    response = StreamingHttpResponse(export_csv(_prepend(header, rows)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename("csv")}"'
    return response


def _prepend(first: list, rest: Iterator[list]) -> Iterator[list]:
    yield first
    yield from rest


def export_response(*, fmt: str, user: User, q: str = "", phone: str = "", email: str = "", tag: str = "",
                    responsible_id: int | None = None, sort: str = ""):
    """The API's answer (GET /api/v1/contacts/export): always the file itself."""
    filters = ContactFilters.from_query({"q": q, "phone": phone, "email": email, "tag": tag,
                                         "responsible": str(responsible_id or ""), "sort": sort})
    return export_stream(fmt=fmt, user=user, filters=filters)
