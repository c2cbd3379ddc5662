"""A minimal, fast XLSX writer for exports: one sheet of numbers and text, written as a stream.

openpyxl's write-only mode builds a cell object per value and serialises it through
xml.etree (no lxml here): 20,000 contacts took ~8 s in the writer alone. This writes the sheet's
XML directly into the zip, row by row (~10x faster, memory flat), and is read back by Excel,
LibreOffice and openpyxl alike.

Safety (the rule of okno/core/spreadsheet_safe.py for XLSX): every string is an inline *string*
cell (`t="inlineStr"`), so `=HYPERLINK(...)` in a name is text, never a formula; only ints,
floats and Decimals are number cells. Characters XML 1.0 forbids (control characters other
than tab, CR, LF) are dropped, and a cell holds at most Excel's 32,767 characters.
"""

import re
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CELL = 32767


def _column(n: int) -> str:
    name = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        name = chr(65 + rem) + name
    return name


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def _text(value: str) -> str:
    return escape(_ILLEGAL.sub("", value[:MAX_CELL]))


def write_xlsx(fh: BinaryIO, rows: Iterable[list], *, sheet_name: str = "Sheet1") -> int:
    """Writes `rows` (lists of str / int / float / Decimal / None) as one sheet; returns the rows written."""
    title = _ILLEGAL.sub("", re.sub(r"[\[\]:*?/\\]", " ", sheet_name))[:31] or "Sheet1"
    count = 0
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        book.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name={quoteattr(title)} sheetId="1" r:id="rId1"/></sheets></workbook>'))
        columns: list[str] = []
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        b'<sheetData>')
            parts: list[str] = []
            for r, row in enumerate(rows, start=1):
                while len(columns) < len(row):
                    columns.append(_column(len(columns)))
                cells = []
                for c, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    ref = f"{columns[c]}{r}"
                    if isinstance(value, bool):
                        cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
                    elif isinstance(value, int | float | Decimal):
                        cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                                     f'{_text(str(value))}</t></is></c>')
                parts.append(f'<row r="{r}">{"".join(cells)}</row>')
                count = r
                if len(parts) >= 500:
                    sheet.write("".join(parts).encode())
                    parts = []
            sheet.write("".join(parts).encode())
            sheet.write(b"</sheetData></worksheet>")
    return count
