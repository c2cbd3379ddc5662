"""CSV injection: no exported cell is run as a formula by a spreadsheet (OWASP's list of leads)."""

import csv
import io
import re

import openpyxl
import pytest

from okno.contacts.models import CustomField
from okno.contacts.tests.factories import make_contact
from okno.core.spreadsheet_safe import FORMULA_LEADS, csv_cell, escape_formula, unescape_cell

# Every lead OWASP lists, each starting a value a customer (or an attacker) typed into a form. A card's
# fields are stripped, so tab and carriage return reach an export only through other doors (a deal's
# title by the API: okno/deals/tests/test_export_formulas.py); the function is tested with them below.
HOSTILE = ["-2+3", "=1+1", "+2-1", "@SUM(1+1)", "=HYPERLINK(\"http://x\",\"y\")", "-cmd|' /C calc'!A0"]


def _csv_bytes(api) -> bytes:
    return b"".join(api.get("/api/v1/contacts/export", format="csv").streaming_content)


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_export_escapes_every_formula_lead(api, text):
    # given a card whose city starts with a formula lead
    make_contact(first_name="Анна", last_name="Злая", city=text, phones=["+7 916 000-00-03"])
    # when exported as CSV
    data = _csv_bytes(api)
    # then the bytes carry the value with a leading quote, and a spreadsheet reads it as text
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][7] == "'" + text
    assert not any(cell.startswith(FORMULA_LEADS) for row in rows for cell in row)
    # and in the raw bytes no field (quoted or not) starts with a lead
    assert not re.search(r'(^|;)"?[=+\-@\t\r]', data.decode("utf-8-sig"), re.MULTILINE)


def test_minus_two_plus_three_is_not_computed(api):
    # given the value from the issue, written where nothing looked for it before: a last name
    make_contact(first_name="Анна", last_name="-2+3", phones=["+7 916 000-00-04"])
    data = _csv_bytes(api)
    # then it is exported as text
    assert b";'-2+3;" in data
    assert b";-2+3;" not in data


def test_numbers_stay_numbers_and_text_numbers_are_escaped(api):
    # given a numeric custom field holding a negative number, and a text one holding "-5"
    CustomField.objects.create(key="balance", label="Баланс", type="number")
    CustomField.objects.create(key="code", label="Код", type="text")
    make_contact(first_name="Анна", last_name="Минус", phones=["+7 916 000-00-05"],
                 custom={"balance": "-5", "code": "-5"})
    # when exported
    rows = list(csv.reader(io.StringIO(_csv_bytes(api).decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    # then the number is a number (Excel reads -5; a minus alone computes nothing), the text is text
    assert rows[1][header.index("Баланс")] == "-5"
    assert rows[1][header.index("Код")] == "'-5"
    # and the phone, text too, keeps its plus behind the quote (Excel would drop it from a number)
    assert rows[1][4] == "'+7 916 000-00-05"


def test_xlsx_export_has_no_formula_cells(api):
    # given cards with every lead, and a negative number in a numeric field
    CustomField.objects.create(key="balance", label="Баланс", type="number")
    for i, text in enumerate(HOSTILE):
        make_contact(first_name=text, last_name=f"Злой{i}", phones=[f"+7 916 000-01-{i:02d}"],
                     custom={"balance": "-5"})
    # when exported as XLSX and read without formulas evaluated
    data = b"".join(api.get("/api/v1/contacts/export", format="xlsx").streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row]
    # then no cell is a formula, the text is exactly what was typed, and the number is a number
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert sorted(sheet.cell(row=r, column=3).value for r in range(2, len(HOSTILE) + 2)) == sorted(HOSTILE)
    balance = [c.value for c in sheet[1]].index("Баланс") + 1
    assert {sheet.cell(row=r, column=balance).value for r in range(2, len(HOSTILE) + 2)} == {-5}
    assert b"<f>" not in data and b"<x:f>" not in data


def test_the_escape_function_and_its_inverse():
    for text in [*HOSTILE, "\t=1+1", "\r=1+1"]:
        assert escape_formula(text) == "'" + text
        assert unescape_cell(escape_formula(text)) == text
    assert escape_formula("Иванов") == "Иванов"
    assert unescape_cell("'quoted'") == "'quoted'"  # a quote before ordinary text is kept
    assert csv_cell(-5) == "-5" and csv_cell(None) == "" and csv_cell("-5") == "'-5"
