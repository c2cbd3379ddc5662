"""Any report's table as the page shows it and its exports write: the chats' and the process'
columns through the calls' cells (okno.analytics.table: a figure beside the previous period's and
the change in %), and one writer of CSV and XLSX, so an export is exactly what is on the screen."""

import csv
import io
import tempfile

from django.http import FileResponse, HttpResponse
from django.utils import formats
from django.utils.translation import gettext as _

from okno.analytics.table import UNITS, Row, _cell, flat
from okno.core.spreadsheet_safe import csv_cell, xlsx_cells

# A column: (figure, title, lower is better, divide by the unit).
Column = tuple[str, object, bool, bool]


def column_headers(columns: list[Column], *, unit: str, compared: bool) -> list[str]:
    out = [str(_("Group"))]
    for _figure, title, _lower, divide in columns:
        title = f"{title}, {_('h') if unit == 'h' else _('min')}" if divide else str(title)
        out.append(title)
        if compared:
            out += [f"{title}: {_('previous period')}", f"{title}: {_('change, %')}"]
    return out


def columns_table(report: dict, columns: list[Column], *, unit: str = "min") -> tuple[list[Row], Row]:
    """(rows, totals): each row beside the compared period's row of the same key (by position for
    days), as okno.analytics.table.report_table does for the calls."""
    unit = unit if unit in UNITS else "min"
    previous = report.get("previous")
    compared = previous is not None
    by_day = report["group_by"] == "day"
    before_rows: dict = {}
    if compared:
        before_rows = dict(enumerate(previous["rows"])) if by_day else {r["key"]: r for r in previous["rows"]}
    rows = []
    for i, r in enumerate(report["rows"]):
        before = (before_rows.get(i if by_day else r["key"]) or {}) if compared else None
        rows.append(Row(r["key"], str(r["label"]),
                        [_cell(f, lower, divide, unit, r, before) for f, _t, lower, divide in columns]))
    totals = Row(None, str(_("Total")), [
        _cell(f, lower, divide, unit, report["totals"], previous["totals"] if compared else None)
        for f, _t, lower, divide in columns])
    return rows, totals


def export_response(report: dict, columns: list[Column], *, unit: str, fmt: str, name: str,
                    sheet_title: str) -> HttpResponse:
    """The table as XLSX or CSV (UTF-8 with a BOM and ";", the language's decimal separator; text
    escaped against formulas), as the calls' export writes it."""
    rows, totals = columns_table(report, columns, unit=unit)
    compared = "previous" in report
    lines = [column_headers(columns, unit=unit, compared=compared), *(flat(r, compared=compared) for r in rows),
             flat(totals, compared=compared)]
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(sheet_title[:31])
        for line in lines:
            sheet.append(xlsx_cells(sheet, line))
        fh = tempfile.TemporaryFile()
        book.save(fh)
        fh.seek(0)
        return FileResponse(fh, as_attachment=True, filename=f"{name}.xlsx",
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    decimal_sep = formats.get_format("DECIMAL_SEPARATOR")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for line in lines:
        writer.writerow([str(v).replace(".", decimal_sep) if isinstance(v, float) else csv_cell(v) for v in line])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
