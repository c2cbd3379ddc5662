"""Cells that a spreadsheet shows as data, never runs as a formula (CSV and XLSX exports).

CSV: Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`, `-` or
`@` (and one that starts with a tab or carriage return before such a character), so
`-2+3` shows 1 and `=HYPERLINK(...)` is a link an attacker wrote into a card. Following the
OWASP CSV-injection guidance, every *text* value that starts with one of those leads gets
a leading `'`; the csv module quotes the field where it holds the delimiter, a quote or a
line break. There is no exception by shape: the previous rule let "+" or "-" followed by
digits and operators through (to keep phones as typed), and `-2+3` went out unescaped.

The rule is by type, not by look: a value that *is* a number (an amount, an id, a numeric
custom field) is written as the number, `-5` included: a number is not text a person typed,
Excel reads it as the same number, and a minus sign alone computes nothing. Everything else
is text and is escaped, phone numbers too (`'+7 916 ...`): Excel would otherwise read
"+79161234567" as a number and drop the plus. The import strips that `'` again
(`unescape_cell`), so an exported file imports back unchanged.

XLSX: openpyxl turns any string starting with `=` into a formula cell unless the cell's type
is set to text; `xlsx_cells` does that for every string, so no exported cell is a formula
and numbers stay numbers.
"""

from decimal import Decimal

# OWASP's list: = + - @, tab (0x09) and carriage return (0x0D).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(text: str) -> str:
    """`text` with a leading `'` if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def csv_cell(value) -> str:
    """One CSV field: numbers as they are, text escaped, None as empty."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return str(value)
    return escape_formula(str(value))


def unescape_cell(text: str) -> str:
    """The inverse for an imported cell: `'=x` (as exported) reads as `=x`."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_LEADS:
        return text[1:]
    return text


def xlsx_cells(sheet, values, *, styles=None) -> list:
    """Write-only cells for `sheet.append`: every string is a text cell, never a formula.

    `styles(value, cell)` may set a number format on non-text cells (dates, amounts).
    """
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        elif styles is not None:
            styles(value, cell)
        cells.append(cell)
    return cells
