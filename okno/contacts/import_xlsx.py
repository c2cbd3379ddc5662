"""Reading XLSX uploads safely: the zip's directory bounded before anything is decompressed,
the XML scanned before openpyxl parses it, shared strings held compactly, and rows read from the
cells present (never padded to the declared dimension). Split from import_files.py, which reads
both formats and inspects a file (docs/import-export.md gives the limits and the figures)."""

import zipfile
from array import array
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext as _

# A cell holds at most this many characters: notes pasted into Excel fit, a megabyte does
# not. A longer cell is cut to one character over the limit and its row is reported.
MAX_CELL_CHARS = 10_000

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


class ImportFileError(ValueError):
    """The file cannot be read as a table; the message says why and what to do."""



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
