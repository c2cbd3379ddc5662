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
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

from okno.core.spreadsheet_safe import unescape_cell

# How much of a CSV file is looked at to guess its encoding and delimiter.
_SNIFF_BYTES = 64 * 1024
# Rows searched for the header: exports often start with a title line or two.
_HEADER_SEARCH_ROWS = 10
# A cell holds at most this many characters: notes pasted into Excel fit, a megabyte does
# not. A longer cell is cut to one character over the limit and its row is reported.
MAX_CELL_CHARS = 10_000
# Columns read per row: a contact file has tens; a value beyond this column refuses the file.
MAX_COLUMNS = 1_000
# Empty rows in a row after which the sheet is taken to have ended: Excel keeps formatting
# down to row 1,048,576 in some files, and walking those rows burned CPU for nothing.
MAX_EMPTY_ROWS = 1_000
# One CSV record (a row, quoted line breaks included).
MAX_CSV_RECORD_CHARS = 1_000_000
csv.field_size_limit(MAX_CSV_RECORD_CHARS)

# XLSX archive limits, checked on the zip's directory before anything is decompressed.
# A 100,000-row file written by openpyxl holds a 45 MB sheet (inline strings); Excel keeps
# text in sharedStrings.xml, ~25-40 MB for 100,000 rows of seven text columns. Parts other
# than sheets and shared strings (workbook, styles, relationships) are parsed whole by
# openpyxl, so they get a small bound. Larger tables can come as CSV, which has none of this.
XLSX_MAX_MEMBERS = 1_000
XLSX_MAX_TOTAL_BYTES = 512 * 1024 * 1024
XLSX_MAX_SHEET_BYTES = 512 * 1024 * 1024  # streamed: bounds time, not memory
XLSX_MAX_SHARED_STRINGS_BYTES = 48 * 1024 * 1024  # held in memory, compactly: ~1 MB per MB
XLSX_MAX_PART_BYTES = 1024 * 1024  # parsed whole: a 1.8 MB styles.xml took 23 MB, 7.8 MB took 99 MB
# Spreadsheet XML compresses 5-20 times; a 300 MB string in 308 KB is 1,000 times.
XLSX_MAX_RATIO = 100
_RATIO_MIN_BYTES = 1024 * 1024  # tiny parts compress oddly; their size is bounded anyway
# Inside the XML: one text or tag (bytes between two "<"), one row or shared string.
XLSX_MAX_TOKEN_BYTES = 256 * 1024
XLSX_MAX_ELEMENT_BYTES = 512 * 1024  # a row is a tree: 1 MB of tiny cells took 34 MB, 4 MB 122 MB
# The inspection's sample (kept with the job for the preview) and how often it reports progress.
SAMPLE_MAX_CHARS = 200_000
PROGRESS_ROWS = 5_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (Excel 97-2003) and other OLE compound files


class ImportFileError(ValueError):
    """The file cannot be read as a table; the message says why and what to do."""


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


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_xlsx_archive(fh: BinaryIO) -> None:
    """Refuses an XLSX whose zip directory declares more than a spreadsheet ever holds.

    Reads only the zip's directory (no member is decompressed), so it is cheap enough for
    the upload request. The declared sizes are binding: Python's zipfile stops a member at
    its declared size and fails its checksum if the data goes on.
    """
    fh.seek(0)
    try:
        end = zipfile._EndRecData(fh)  # the directory's own count, before zipfile reads every entry
        if end is not None and end[zipfile._ECD_ENTRIES_TOTAL] > XLSX_MAX_MEMBERS:
            raise ImportFileError(_("The XLSX file holds %(count)s parts; a workbook has at most %(limit)s.") % {
                "count": end[zipfile._ECD_ENTRIES_TOTAL], "limit": XLSX_MAX_MEMBERS})
        fh.seek(0)
        members = zipfile.ZipFile(fh).infolist()
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(_("The XLSX file is damaged or is not an Excel workbook; open it in Excel, "
                                "save it again and upload.")) from exc
    if len(members) > XLSX_MAX_MEMBERS:
        raise ImportFileError(_("The XLSX file holds %(count)s parts; a workbook has at most %(limit)s.") % {
            "count": len(members), "limit": XLSX_MAX_MEMBERS})
    total = sum(m.file_size for m in members)
    if total > XLSX_MAX_TOTAL_BYTES:
        raise ImportFileError(_("The XLSX file unpacks to %(size)s; the limit is %(limit)s.") % {
            "size": _mb(total), "limit": _mb(XLSX_MAX_TOTAL_BYTES)})
    for member in members:
        name = member.filename
        limit = _member_limit(name)
        if member.file_size > limit:
            raise ImportFileError(_("The part %(part)s of the XLSX file unpacks to %(size)s; the limit is "
                                    "%(limit)s. Save the table as CSV, or split it, and upload again.") % {
                "part": name, "size": _mb(member.file_size), "limit": _mb(limit)})
        if member.file_size > _RATIO_MIN_BYTES and (
                member.file_size > XLSX_MAX_RATIO * max(member.compress_size, 1)):
            ratio = member.file_size // max(member.compress_size, 1)
            raise ImportFileError(_("The part %(part)s of the XLSX file is compressed %(ratio)s times; a "
                                    "spreadsheet is compressed at most %(limit)s times (this looks like a zip "
                                    "bomb).") % {"part": name, "ratio": ratio, "limit": XLSX_MAX_RATIO})


def _member_limit(name: str) -> int:
    lower = name.lower()
    if lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
        return XLSX_MAX_SHEET_BYTES
    if lower.endswith("sharedstrings.xml"):
        return XLSX_MAX_SHARED_STRINGS_BYTES
    if lower.endswith((".xml", ".rels")):
        return XLSX_MAX_PART_BYTES
    return XLSX_MAX_TOTAL_BYTES  # pictures and the like: openpyxl's read-only mode never opens them


# What ends a row (sheets), a shared string, or the sheet's data: the bytes between two of
# them are one element openpyxl builds as a tree (any namespace prefix: "</x:row>" ends in "row>").
_ELEMENT_ENDS = (b"row>", b"si>", b"sheetData>")
_SCAN_CHUNK = 64 * 1024


def scan_xlsx_xml(fh: BinaryIO) -> None:
    """Streams every XML part and refuses what would make the XML parser hold a huge string or tree.

    Limits: no DTD or CDATA (`<!`: entity expansion; Excel writes neither), no text or tag
    longer than XLSX_MAX_TOKEN_BYTES (the bytes between two "<" are one token: a text can hold
    no "<"), and in sheets no stretch longer than XLSX_MAX_ELEMENT_BYTES without the end of
    a row (openpyxl builds each row as a tree). Memory: one 64 KB chunk; time: zlib plus a
    few byte searches per chunk (0.6 s for a 45 MB sheet).
    """
    check_xlsx_archive(fh)
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
        for member in archive.infolist():
            name = member.filename.lower()
            if name.endswith((".xml", ".rels")):
                with archive.open(member) as src:
                    _scan_part(src, member.filename, rows=name.startswith("xl/worksheets/"))
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise ImportFileError(_("The XLSX file is damaged or is not an Excel workbook; open it in Excel, "
                                "save it again and upload.")) from exc


def _scan_part(src, name: str, *, rows: bool) -> None:
    run, since_end, carry = 0, 0, b""
    while chunk := src.read(_SCAN_CHUNK):
        joined = carry + chunk
        if b"<!" in joined:
            raise ImportFileError(_("The part %(part)s of the XLSX file declares a DTD or CDATA, which Excel never "
                                    "writes; save the file again in Excel and upload.") % {"part": name})
        # Runs inside one chunk are shorter than the limit; only one spanning chunks can be longer.
        first = chunk.find(b"<")
        run += len(chunk) if first < 0 else first
        if run > XLSX_MAX_TOKEN_BYTES:
            raise ImportFileError(_("The part %(part)s of the XLSX file holds a text of more than %(limit)s; a cell "
                                    "holds at most %(cells)s characters.") % {
                "part": name, "limit": _mb(XLSX_MAX_TOKEN_BYTES), "cells": f"{MAX_CELL_CHARS:,}"})
        if first >= 0:
            run = len(chunk) - chunk.rfind(b"<") - 1
        if rows:
            last = max(joined.rfind(end) + len(end) for end in _ELEMENT_ENDS)
            since_end = len(joined) - last if last >= len(carry) else since_end + len(chunk)
            if since_end > XLSX_MAX_ELEMENT_BYTES:
                raise ImportFileError(_("A row of the part %(part)s of the XLSX file is longer than %(limit)s.") % {
                    "part": name, "limit": _mb(XLSX_MAX_ELEMENT_BYTES)})
        carry = chunk[-16:]


class _SharedStrings:
    """openpyxl's shared-strings table as one UTF-8 buffer and end offsets.

    openpyxl keeps every shared string as a Python object (and its cleared XML element):
    132 MB of strings took gigabytes. Here the table costs its UTF-8 bytes plus 4 bytes a
    string; a string is decoded when a cell asks for it.
    """

    def __init__(self):
        self._data = bytearray()
        self._ends = array("I")  # the buffer is at most the bounded sharedStrings.xml: < 4 GB

    def append(self, text: str) -> None:
        self._data += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self._ends):
            raise IndexError(index)  # openpyxl reads a damaged index as a damaged file
        start = self._ends[index - 1] if index else 0
        return self._data[start:self._ends[index]].decode("utf-8", "surrogatepass")


def _read_shared_strings(src) -> _SharedStrings:
    """The table as openpyxl reads it: a string's plain text and rich-text runs, not its phonetic hints.

    Parsed with expat's callbacks, no tree: a string longer than the cell limit is cut (one
    character over, so its row is still reported) while it is read.
    """
    from xml.parsers import expat

    strings = _SharedStrings()
    parts: list[str] = []
    state = {"text": False, "hint": 0, "size": 0}

    def start(name, _attrs):
        local = name.rpartition(":")[2]
        if local == "t":
            state["text"] = True
        elif local == "rPh":
            state["hint"] += 1

    def end(name):
        local = name.rpartition(":")[2]
        if local == "t":
            state["text"] = False
        elif local == "rPh":
            state["hint"] -= 1
        elif local == "si":
            strings.append("".join(parts)[:MAX_CELL_CHARS + 1].replace("x005F_", ""))
            parts.clear()
            state["size"] = 0

    def text(data):
        if state["text"] and not state["hint"] and state["size"] <= MAX_CELL_CHARS:
            parts.append(data)
            state["size"] += len(data)

    parser = expat.ParserCreate()
    parser.buffer_text, parser.buffer_size = True, _SCAN_CHUNK
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    parser.ParseFile(src)
    return strings


def _workbook(fh: BinaryIO):
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    class Reader(ExcelReader):
        def read_strings(self):
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as src:
                    self.shared_strings = _read_shared_strings(src)

    reader = Reader(fh, read_only=True, keep_vba=False, data_only=True, keep_links=False)
    reader.read()
    return reader.wb


def _open_xlsx(fh: BinaryIO) -> Iterator[tuple[int, dict[int, object]]]:
    """(row number, {column: value}) of each row present in the sheet's XML, empty cells left out."""
    from xml.etree.ElementTree import ParseError, iterparse
    from xml.parsers.expat import ExpatError

    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    check_xlsx_archive(fh)
    fh.seek(0)
    try:
        book = _workbook(fh)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, IndexError, EOFError,
            TypeError, ExpatError) as exc:
        raise ImportFileError(_("The XLSX file is damaged or is not an Excel workbook; open it in Excel, "
                                "save it again and upload.")) from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportFileError(_("The workbook has no sheets."))
        try:
            # openpyxl's own iter_rows pads every row to the declared dimension (A1:XFD20000:
            # 16,384 cells a row) and yields the missing rows one by one; its row parser gives
            # the cells that are there.
            with sheet._get_source() as src:
                parser = WorkSheetParser(src, sheet._shared_strings, data_only=True, epoch=book.epoch,
                                         date_formats=book._date_formats,
                                         timedelta_formats=book._timedelta_formats)
                sheet_data, holder = f"{{{SHEET_MAIN_NS}}}sheetData", None
                for event, element in iterparse(src, events=("start", "end")):
                    if event == "start":
                        if element.tag == sheet_data:
                            holder = element
                    elif element.tag == ROW_TAG:
                        number, cells = parser.parse_row(element)
                        # openpyxl clears each row but leaves it under sheetData: ~90 bytes a
                        # row for ever, 1.8 GB for the 20 million short rows 512 MB can hold.
                        if holder is not None:
                            holder.clear()
                        yield number, {c["column"]: c["value"] for c in cells if c["value"] not in (None, "")}
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, IndexError, TypeError,
                ParseError) as exc:
            raise ImportFileError(_("The XLSX file is damaged part-way through; save it again and upload.")) from exc
    finally:
        book.close()


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
