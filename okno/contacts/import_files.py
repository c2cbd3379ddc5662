"""Reading an import file: CSV in the encodings Russian offices produce, or XLSX, row by row.

The reader never loads the whole sheet: CSV is decoded incrementally and XLSX is read by
openpyxl in read-only mode, so a 100,000-row file costs the memory of one row plus
openpyxl's shared-strings table. Every failure to read is an `ImportFileError` whose
message a person can act on ("save it as .xlsx", "the file has no header row").
"""

import codecs
import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# How much of a CSV file is looked at to guess its encoding and delimiter.
_SNIFF_BYTES = 64 * 1024
# Rows searched for the header: exports often start with a title line or two.
_HEADER_SEARCH_ROWS = 10
# CSV cells can be long (notes pasted into Excel), but not megabytes.
csv.field_size_limit(1024 * 1024)

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

    def as_dict(self) -> dict:
        return {"format": self.format, "encoding": self.encoding, "delimiter": self.delimiter,
                "header_row": self.header_row, "header": self.header}

    @classmethod
    def of(cls, data: dict) -> "FileInfo":
        return cls(**{k: data[k] for k in ("format", "encoding", "delimiter", "header_row", "header") if k in data})


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
    return str(value).strip()


def detect_format(head: bytes, name: str = "") -> str:
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        raise ImportFileError("This is an old Excel file (.xls); save it as .xlsx or CSV and upload again.")
    if not head.strip():
        raise ImportFileError("The file is empty.")
    if b"\x00" in head[:_SNIFF_BYTES]:
        raise ImportFileError("The file is neither CSV nor XLSX; save the table as .xlsx or CSV and upload again.")
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


def _open_csv(fh: BinaryIO, info: FileInfo) -> Iterator[list[str]]:
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=info.encoding, newline="")
    try:
        for row in csv.reader(text, delimiter=info.delimiter):
            yield [c.strip() for c in row]
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not in one encoding (a byte at {exc.start} is not {info.encoding}); "
                              "save it again as UTF-8 CSV.") from exc
    except csv.Error as exc:
        raise ImportFileError(f"The CSV file is malformed: {exc}.") from exc
    finally:
        text.detach()


def _open_xlsx(fh: BinaryIO) -> Iterator[list[str]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    fh.seek(0)
    try:
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportFileError("The XLSX file is damaged or is not an Excel workbook; open it in Excel, "
                              "save it again and upload.") from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportFileError("The workbook has no sheets.")
        try:
            for row in sheet.iter_rows(values_only=True):
                yield [cell_text(v) for v in row]
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
            raise ImportFileError("The XLSX file is damaged part-way through; save it again and upload.") from exc
    finally:
        book.close()


def iter_rows(fh: BinaryIO, info: FileInfo) -> Iterator[list[str]]:
    """Every row of the file (header included), as lists of trimmed text."""
    if info.format == "xlsx":
        return _open_xlsx(fh)
    return _open_csv(fh, info)


def iter_data_rows(fh: BinaryIO, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    """(row number as the spreadsheet shows it, cells) for each non-empty row below the header."""
    for number, row in enumerate(iter_rows(fh, info), start=1):
        if number <= info.header_row:
            continue
        if any(row):
            yield number, row


def _looks_like_header(row: list[str], known) -> bool:
    cells = [c for c in row if c]
    return bool(cells) and any(known(c) for c in cells)


def inspect_file(fh: BinaryIO, *, name: str = "", known_header=None) -> FileInfo:
    """Detects format, encoding, delimiter and the header row; raises ImportFileError.

    `known_header(text) -> bool` says whether a cell names a field we know; the first of
    the top rows that has one is the header, else the first non-empty row.
    """
    fh.seek(0)
    head = fh.read(_SNIFF_BYTES)
    info = FileInfo(format=detect_format(head, Path(name).suffix.lower()))
    if info.format == "csv":
        info.encoding = detect_encoding(head)
        info.delimiter = detect_delimiter(head.decode(info.encoding, errors="ignore"))
    first_nonempty: tuple[int, list[str]] | None = None
    for number, row in enumerate(iter_rows(fh, info), start=1):
        if number > _HEADER_SEARCH_ROWS:
            break
        if not any(row):
            continue
        if first_nonempty is None:
            first_nonempty = (number, row)
        if known_header is not None and _looks_like_header(row, known_header):
            info.header_row, info.header = number, row
            break
    if not info.header:
        if first_nonempty is None:
            raise ImportFileError("The file has no header row: the first rows are empty.")
        info.header_row, info.header = first_nonempty
    while info.header and not info.header[-1]:
        info.header.pop()
    if info.format == "csv" and any(ord(ch) < 9 for cell in info.header for ch in cell):
        # A binary file decodes as cp1251 without error; control characters give it away.
        raise ImportFileError("The file is neither CSV nor XLSX; save the table as .xlsx or CSV and upload again.")
    if not info.header:
        raise ImportFileError("The file has no header row.")
    return info


def count_rows(fh: BinaryIO, info: FileInfo) -> int:
    """Reads the whole file once: the total for progress, and proof it reads to the end."""
    return sum(1 for _ in iter_data_rows(fh, info))
