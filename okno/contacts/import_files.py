"""Reading an import file: CSV in the encodings Russian offices produce, or XLSX, row by row.

The reader never loads the whole sheet, and no file, however crafted, makes the process
grow by more than 100 MB (the worst case measured is 68 MB; docs/import-export.md
"Hostile files", tests/test_import_hostile.py):

- XLSX is a zip. Before anything is decompressed, `check_xlsx_archive` reads the zip's
  directory and refuses too many members, too much uncompressed data in total or in one
  member, and a compression ratio no spreadsheet has (a "zip bomb"); `scan_xlsx_xml` then
  streams every XML member through zlib (64 KB at a time, nothing kept) and refuses DTDs
  (entity bombs), a single text longer than `XLSX_MAX_TOKEN_BYTES` and a row longer than
  `XLSX_MAX_ELEMENT_BYTES`, so the XML parser never builds a huge string or tree.
- openpyxl reads the shared-strings table whole, even in read-only mode, one Python object
  per string; here it is read by expat callbacks into one compact UTF-8 buffer
  (`_SharedStrings`, each string cut at the cell limit), so it costs about the size of
  sharedStrings.xml, which the archive check bounds.
- The sheet is parsed row by row from the cells present in the XML: the declared dimension
  (`A1:XFD20000`) is ignored, rows are never padded to it, each parsed row is dropped from
  the XML tree (openpyxl keeps ~90 bytes of every row), and reading stops after
  `MAX_EMPTY_ROWS` empty rows in a row.
- CSV is decoded incrementally; one record (with its quoted line breaks) is at most
  `MAX_CSV_RECORD_CHARS` characters.
- A row has at most `MAX_COLUMNS` columns; a cell longer than `MAX_CELL_CHARS` is kept cut
  to one character over the limit, so that the run reports that row (row, column, reason)
  and imports the others.

Every failure to read is an `ImportFileError` whose message a person can act on ("save it
as .xlsx", "the file has no header row").
"""

import codecs
import csv
import datetime
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

# The XLSX reader and its limits; re-exported: the import's callers and tests name them here.
from okno.contacts.import_xlsx import (  # noqa: F401
    MAX_CELL_CHARS,
    XLSX_MAX_ELEMENT_BYTES,
    XLSX_MAX_MEMBERS,
    XLSX_MAX_PART_BYTES,
    XLSX_MAX_RATIO,
    XLSX_MAX_SHARED_STRINGS_BYTES,
    XLSX_MAX_SHEET_BYTES,
    XLSX_MAX_TOKEN_BYTES,
    XLSX_MAX_TOTAL_BYTES,
    ImportFileError,
    _open_xlsx,
    check_xlsx_archive,
    scan_xlsx_xml,
)
from okno.core.spreadsheet_safe import unescape_cell

# How much of a CSV file is looked at to guess its encoding and delimiter.
_SNIFF_BYTES = 64 * 1024
# Rows searched for the header: exports often start with a title line or two.
_HEADER_SEARCH_ROWS = 10
# Columns read per row: a contact file has tens; a value beyond this column refuses the file.
MAX_COLUMNS = 1_000
# Empty rows in a row after which the sheet is taken to have ended: Excel keeps formatting
# down to row 1,048,576 in some files, and walking those rows burned CPU for nothing.
MAX_EMPTY_ROWS = 1_000
# One CSV record (a row, quoted line breaks included).
MAX_CSV_RECORD_CHARS = 1_000_000
csv.field_size_limit(MAX_CSV_RECORD_CHARS)

# The inspection's sample (kept with the job for the preview) and how often it reports progress.
SAMPLE_MAX_CHARS = 200_000
PROGRESS_ROWS = 5_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (Excel 97-2003) and other OLE compound files



@dataclass
class FileInfo:
    """What was learnt about the file at upload; the run reads it the same way."""

    format: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    header_row: int = 1  # 1-based, as a spreadsheet shows it
    header: list[str] = field(default_factory=list)
    # Reading stopped after MAX_EMPTY_ROWS empty rows; the last row read (None: read to the end).
    stopped_after: int | None = None

    def as_dict(self) -> dict:
        return {"format": self.format, "encoding": self.encoding, "delimiter": self.delimiter,
                "header_row": self.header_row, "header": self.header, "stopped_after": self.stopped_after}

    @classmethod
    def of(cls, data: dict) -> "FileInfo":
        keys = ("format", "encoding", "delimiter", "header_row", "header", "stopped_after")
        return cls(**{k: data[k] for k in keys if k in data})


def cell_text(value) -> str:
    """A cell as text: 79161234567.0 from Excel is the number 79161234567, dates are ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS + 1]  # still over the limit: the run reports the row
    return unescape_cell(text.strip())


def detect_format(head: bytes, name: str = "") -> str:
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        raise ImportFileError(_("This is an old Excel file (.xls); save it as .xlsx or CSV and upload again."))
    if not head.strip():
        raise ImportFileError(_("The file is empty."))
    if b"\x00" in head[:_SNIFF_BYTES]:
        raise ImportFileError(_("The file is neither CSV nor XLSX; save the table as .xlsx or CSV and upload "
                                "again."))
    return "csv"


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) if the bytes decode as such, else cp1251 (Russian Excel)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A multi-byte character may be cut at the end of the sample: not final.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1251"


def detect_delimiter(text: str) -> str:
    """`;` (Russian Excel), `,` or tab: the one splitting the first lines most consistently."""
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if not lines:
        return ";"
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=";,\t").delimiter
    except csv.Error:
        first = lines[0]
        return max(";,\t", key=lambda d: (first.count(d), d == ";"))



class _Lines:
    """Lines for csv.reader, refusing a record longer than MAX_CSV_RECORD_CHARS."""

    def __init__(self, text):
        self.text, self.pending, self.records = text, 0, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_CSV_RECORD_CHARS + 1)
        if not line:
            raise StopIteration
        self.pending += len(line)
        if self.pending > MAX_CSV_RECORD_CHARS:
            raise ImportFileError(_("Row %(row)s of the CSV file is longer than %(limit)s characters.") % {
                "row": self.records + 1, "limit": f"{MAX_CSV_RECORD_CHARS:,}"})
        return line


def _open_csv(fh: BinaryIO, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=info.encoding, newline="")
    lines = _Lines(text)
    try:
        for number, row in enumerate(csv.reader(lines, delimiter=info.delimiter), start=1):
            lines.pending, lines.records = 0, number
            yield number, row
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The file is not in one encoding (a byte at %(at)s is not %(encoding)s); "
                                "save it again as UTF-8 CSV.") % {"at": exc.start, "encoding": info.encoding}
                              ) from exc
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(error)s.") % {"error": exc}) from exc
    finally:
        text.detach()


def _column_name(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index) if index <= 18_278 else str(index)


def _too_wide(number: int, column: int) -> ImportFileError:
    return ImportFileError(_("Row %(row)s has a value in column %(column)s; at most %(limit)s columns are read. "
                             "Delete the columns beyond and upload again.") % {
        "row": number, "column": _column_name(column), "limit": f"{MAX_COLUMNS:,}"})


def iter_rows(fh: BinaryIO, info: FileInfo, stats: dict | None = None) -> Iterator[tuple[int, list[str]]]:
    """(row number as the spreadsheet shows it, trimmed cell texts) for each non-empty row, header included.

    Reading stops after MAX_EMPTY_ROWS empty rows in a row (`stats["stopped_after"]` then
    holds the last row read).
    """
    last = 0
    if info.format == "xlsx":
        for number, values in _open_xlsx(fh):
            if number - last > MAX_EMPTY_ROWS:
                break
            if not values:
                continue
            width = max(values)
            if width > MAX_COLUMNS:
                raise _too_wide(number, width)
            cells = [""] * width
            for column, value in values.items():
                cells[column - 1] = cell_text(value)
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                last = number
                yield number, cells
        else:
            return
    else:
        for number, row in _open_csv(fh, info):
            if number - last > MAX_EMPTY_ROWS:
                break
            cells = [cell_text(c) for c in row]
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                raise _too_wide(number, len(cells))
            if cells:
                last = number
                yield number, cells
        else:
            return
    if stats is not None:
        stats["stopped_after"] = last


def iter_data_rows(fh: BinaryIO, info: FileInfo, stats: dict | None = None) -> Iterator[tuple[int, list[str]]]:
    """(row number as the spreadsheet shows it, cells) for each non-empty row below the header."""
    for number, row in iter_rows(fh, info, stats):
        if number > info.header_row and any(row):
            yield number, row


def _looks_like_header(row: list[str], known) -> bool:
    cells = [c for c in row if c]
    return bool(cells) and any(known(c) for c in cells)


@dataclass
class Inspection:
    """What one reading of the whole file found: how to read it, the first rows, the total."""

    info: FileInfo
    sample: list[list] = field(default_factory=list)  # [[row number, cells], ...]
    total: int = 0


def inspect_file(fh: BinaryIO, *, name: str = "", known_header=None, sample_rows: int = 0,
                 progress=None) -> Inspection:
    """Detects format, encoding, delimiter and the header row, keeps a sample and counts the rows.

    One pass over the file; raises ImportFileError. `known_header(text) -> bool` says whether
    a cell names a field we know; the first of the top rows that has one is the header, else
    the first non-empty row. `progress(rows_read)` is called every PROGRESS_ROWS rows.
    """
    fh.seek(0)
    head = fh.read(_SNIFF_BYTES)
    info = FileInfo(format=detect_format(head, Path(name).suffix.lower()))
    if info.format == "csv":
        info.encoding = detect_encoding(head)
        info.delimiter = detect_delimiter(head.decode(info.encoding, errors="ignore"))
    else:
        scan_xlsx_xml(fh)
    stats: dict = {}
    rows = iter_rows(fh, info, stats)
    top: list[tuple[int, list[str]]] = []
    for number, row in rows:
        top.append((number, row))
        if number >= _HEADER_SEARCH_ROWS:
            break
    candidates = [(n, r) for n, r in top if n <= _HEADER_SEARCH_ROWS]
    if not candidates:
        raise ImportFileError(_("The file has no header row: the first rows are empty."))
    found = next(((n, r) for n, r in candidates if known_header is not None and _looks_like_header(r, known_header)),
                 candidates[0])
    info.header_row, info.header = found
    if info.format == "csv" and any(ord(ch) < 9 for cell in info.header for ch in cell):
        # A binary file decodes as cp1251 without error; control characters give it away.
        raise ImportFileError(_("The file is neither CSV nor XLSX; save the table as .xlsx or CSV and upload "
                                "again."))
    # A header names a column; a paragraph pasted into the top row is cut for the mapping page.
    info.header = [h[:200] for h in info.header]
    result, sample_chars = Inspection(info=info), 0
    for number, row in itertools.chain(top, rows):
        if number <= info.header_row:
            continue
        result.total += 1
        size = sum(len(c) for c in row)
        # The sample is stored with the job: 20 rows, and not megabytes of them.
        if len(result.sample) < sample_rows and (not result.sample or sample_chars + size <= SAMPLE_MAX_CHARS):
            result.sample.append([number, row])
            sample_chars += size
        if progress is not None and result.total % PROGRESS_ROWS == 0:
            progress(result.total)
    info.stopped_after = stats.get("stopped_after")
    return result


def count_rows(fh: BinaryIO, info: FileInfo) -> int:
    """Reads the whole file once: the total for progress, and proof it reads to the end."""
    return sum(1 for _ in iter_data_rows(fh, info))
