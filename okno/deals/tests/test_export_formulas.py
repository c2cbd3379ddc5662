"""CSV injection in the deal list's export: titles with any OWASP formula lead, amounts stay numbers."""

import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from okno.deals.tests.factories import DealFactory, PipelineFactory
from okno.people.tests.factories import DepartmentFactory, UserFactory

HOSTILE = ["-2+3", "=1+1", "+2-1", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


@pytest.fixture
def client_with_deals(db):
    manager = UserFactory(department=DepartmentFactory(), language="en")
    pipeline = PipelineFactory(name="Orders")
    for i, title in enumerate(HOSTILE):
        DealFactory(pipeline=pipeline, responsible=manager, title=title, amount=Decimal(-5 - i),
                    source="-1+1" if i == 0 else "")
    client = Client()
    client.force_login(manager)
    return client


def test_csv_export_escapes_every_formula_lead_and_keeps_amounts(client_with_deals):
    # when the deal list is exported as CSV
    response = client_with_deals.get(reverse("deals:export"), {"format": "csv", "sort": "amount"})
    data = b"".join(response.streaming_content)
    # then every hostile title went out with a leading quote
    for title in HOSTILE:
        assert ("'" + title).encode() in data, title
    assert b";-2+3;" not in data and b";'-1+1;" in data
    # and no other field starts with a lead (the amounts are numbers: -5.00)
    text = data.decode("utf-8-sig").replace("\r\n", "\n")
    assert not re.search(r'(^|;)"?(?!-\d+\.\d\d;)[=+\-@\t\r]', text, re.MULTILINE)
    # and a negative amount (a number, not text) stays a number
    assert b";-5.00;" in data


def test_xlsx_export_has_no_formula_cells(client_with_deals):
    response = client_with_deals.get(reverse("deals:export"), {"format": "xlsx"})
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    # (an XML reader may give a carriage return back as a line feed, depending on lxml/openpyxl)
    titles = sorted(r[1].replace("\r", "\n") for r in sheet.iter_rows(min_row=2, values_only=True))
    assert titles == sorted(t.replace("\r", "\n") for t in HOSTILE)
    assert sorted(r[4] for r in sheet.iter_rows(min_row=2, values_only=True)) == [-10, -9, -8, -7, -6, -5]
