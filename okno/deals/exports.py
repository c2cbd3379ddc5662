"""The deal list as a file: exactly the rows the list shows (its filters and sort, every page),
already scoped by visibility (the queryset comes from okno.deals.selectors.deal_list).

XLSX is written with openpyxl's write-only mode (rows are not kept in memory) into a temporary
file; CSV streams. Amounts are numbers in XLSX (a sum in Excel works) and decimal text with the
locale's separator in CSV; text starting with a formula lead (= + - @ tab CR) is prefixed with '
in CSV so a title is never run as a formula, and typed as text in XLSX (okno.core.spreadsheet_safe).
"""

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import BinaryIO

from django.db.models import QuerySet
from django.http import FileResponse, QueryDict, StreamingHttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from okno.core.spreadsheet_safe import csv_cell, xlsx_cells
from okno.deals import selectors
from okno.deals.deal_filters import DealFilters
from okno.deals.models import Deal
from okno.people.models import User

# Rows fetched per round trip: the export never holds the whole list.
CHUNK = 2000


def headers() -> list[str]:
    return [_("ID"), _("Title"), _("Pipeline"), _("Stage"), _("Amount"), _("Currency"), _("Contact"),
            _("Company"), _("Responsible"), _("Created"), _("In stage since"), _("Overdue"), _("Source"),
            _("External id")]


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def deals_listed(*, user: User, filters: DealFilters) -> QuerySet[Deal]:
    """The deal list's rows in its order: the one queryset behind the list page, its export and
    the export job (okno/contacts/export_jobs.py)."""
    return selectors.deal_list(user=user, pipeline_id=filters.pipeline, stage_id=filters.stage,
                               filters=filters.for_selectors(user=user)).order_by(*filters.ordering())


def deal_rows_for_query(*, user: User, params: QueryDict,
                        on_progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """The export job's rows: the list's query string parsed as the list parses it."""
    return export_rows(deals_listed(user=user, filters=DealFilters.from_query(params)), on_progress=on_progress)


def decimal_separator() -> str:
    return formats.get_format("DECIMAL_SEPARATOR")


def export_rows(deals: QuerySet[Deal], *, on_progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """Header, then one row per deal in the queryset's order. The words are translated now, in
    the request's language: a streamed body is read after the view has returned."""
    return itertools.chain([headers()], _deal_rows(deals, yes=_("yes"), on_progress=on_progress))


def _deal_rows(deals: QuerySet[Deal], *, yes: str, on_progress=None) -> Iterator[list]:
    rows = deals.select_related("pipeline", "stage", "contact", "company", "responsible")
    written = 0
    for deal in rows.iterator(chunk_size=CHUNK):
        if on_progress is not None and written and written % CHUNK == 0:
            on_progress(written)
        written += 1
        yield [
            deal.pk, deal.title, deal.pipeline.name, deal.stage.name, deal.amount, deal.currency,
            str(deal.contact) if deal.contact_id else "", deal.company.name if deal.company_id else "",
            deal.responsible.display_name if deal.responsible_id else "",
            _local(deal.created_at), _local(deal.stage_entered_at),
            yes if deal.is_overdue else "", deal.source, deal.external_id,
        ]
    if on_progress is not None:
        on_progress(written)


def _safe(value, decimal_sep: str) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return str(value).replace(".", decimal_sep)
    return csv_cell(value)


def export_csv(rows: Iterable[list], *, decimal_sep: str = ".") -> Iterator[bytes]:
    """UTF-8 with a BOM and `;`: what Russian Excel opens by double click without garbling;
    amounts with the language's decimal separator (Russian Excel reads "1500,00" as a number)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield "\ufeff".encode()
    for i, row in enumerate(rows):
        writer.writerow([_safe(v, decimal_sep) for v in row])
        if i % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def export_xlsx(fh: BinaryIO, rows: Iterable[list]) -> None:
    from openpyxl import Workbook

    def styles(value, cell) -> None:
        if hasattr(value, "strftime"):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif not isinstance(value, int):
            cell.number_format = "#,##0.00"

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Deals"))
    for row in rows:
        sheet.append(xlsx_cells(sheet, row, styles=styles))  # text is text: "=..." is not a formula
    book.save(fh)


def export_response(*, fmt: str, deals: QuerySet[Deal]):
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        import tempfile

        fh = tempfile.TemporaryFile()
        export_xlsx(fh, export_rows(deals))
        fh.seek(0)
        return FileResponse(fh, as_attachment=True, filename=f"deals-{stamp}.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    body = export_csv(export_rows(deals), decimal_sep=formats.get_format("DECIMAL_SEPARATOR"))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deals-{stamp}.csv"'
    return response


def deal_export_write(fmt: str, fh, rows) -> None:
    """A long deal export's file, written by the export job (okno/contacts/export_jobs.py)."""
    if fmt == "xlsx":
        export_xlsx(fh, rows)
    else:
        for chunk in export_csv(rows, decimal_sep=decimal_separator()):
            fh.write(chunk)
