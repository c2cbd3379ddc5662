"""Export of a filtered contact list to CSV or XLSX, with what the user may see and nothing more.

Rows come from `selectors.contact_list`, the same filters and visibility as the list page
and the API, read in chunks so memory stays flat however long the list. The header names
are the ones the import recognises, so an export can be edited and imported back.
"""

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.contacts.models import Contact, CustomField
from okno.contacts.selectors import contact_list
from okno.core.spreadsheet_safe import csv_cell, xlsx_cells
from okno.people.models import User

# Rows fetched per query (with their phones, e-mails and tags prefetched).
_CHUNK = 1000


def _columns() -> tuple[list[str], list[CustomField]]:
    custom = list(CustomField.objects.all())
    header = [_("ID"), _("Last name"), _("First name"), _("Middle name"), _("Phone"), _("E-mail"), _("Company"),
              _("City"), _("Source"), _("Tags"), _("Responsible")]
    return header + [f.label for f in custom] + [_("Created")], custom


def _row(contact: Contact, custom: list[CustomField]) -> list:
    return [
        contact.pk, contact.last_name, contact.first_name, contact.middle_name,
        ", ".join(p.display for p in contact.phones.all()),
        ", ".join(e.email for e in contact.emails.all()),
        contact.company.name if contact.company_id else "",
        contact.city, contact.source,
        ", ".join(sorted(t.name for t in contact.tags.all())),
        (contact.responsible.username if contact.responsible_id else ""),
        *["" if contact.custom.get(f.key) is None else contact.custom[f.key] for f in custom],
        timezone.localtime(contact.created_at).strftime("%Y-%m-%d %H:%M"),
    ]


def export_rows(*, user: User, q: str = "", phone: str = "", email: str = "", tag: str = "",
                responsible_id: int | None = None) -> Iterator[list]:
    """The header, then one row per visible contact matching the filters."""
    header, custom = _columns()
    yield header
    qs = contact_list(user=user, q=q, phone=phone, email=email, tag=tag, responsible_id=responsible_id)
    for contact in qs.prefetch_related("phones", "emails", "tags").iterator(chunk_size=_CHUNK):
        yield _row(contact, custom)


def export_csv(**filters) -> Iterator[bytes]:
    """UTF-8 with a BOM and `;`: what Russian Excel opens by double click without garbling.

    Text that a spreadsheet would run as a formula gets a leading `'` (okno.core.spreadsheet_safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield "\ufeff".encode()
    for i, row in enumerate(export_rows(**filters)):
        writer.writerow([csv_cell(v) for v in row])
        if i % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def export_xlsx(fh: BinaryIO, **filters) -> None:
    """Writes the workbook to `fh` with openpyxl's write-only mode (rows are not kept in memory)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Contacts"))
    for row in export_rows(**filters):
        sheet.append(xlsx_cells(sheet, row))  # text is text: a name starting with "=" is not a formula
    book.save(fh)


def export_response(*, fmt: str, user: User, **filters):
    """The HTTP answer for the list page and the API alike."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        import tempfile

        fh = tempfile.TemporaryFile()
        export_xlsx(fh, user=user, **filters)
        fh.seek(0)
        return FileResponse(fh, as_attachment=True, filename=f"contacts-{stamp}.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = StreamingHttpResponse(export_csv(user=user, **filters), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response
