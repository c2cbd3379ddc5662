"""The deal list's export: exactly the list's rows (filters and sort, all pages), visibility
applied, XLSX through openpyxl's write-only mode and CSV."""

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from okno.contacts.tests.factories import make_contact
from okno.deals.tests.factories import DealFactory, PipelineFactory, make_deal
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db):
    sales = DepartmentFactory(share_contacts=True)
    manager = UserFactory(department=sales, language="en")
    colleague = UserFactory(department=sales)
    outsider = UserFactory(department=DepartmentFactory())
    pipeline = PipelineFactory(name="Orders")
    DealFactory(pipeline=pipeline, responsible=manager, title="Small", amount=Decimal("10.00"))
    DealFactory(pipeline=pipeline, responsible=manager, title="=HYPERLINK(1)", amount=Decimal("1500.50"))
    DealFactory(pipeline=pipeline, responsible=colleague, title="Colleague's", amount=Decimal("700.00"))
    theirs = make_contact(actor=outsider, first_name="Hidden")
    make_deal(actor=outsider, pipeline=pipeline, contact_id=theirs.pk, title="Other department", amount="5")
    return {"manager": manager, "pipeline": pipeline, "colleague": colleague}


def _xlsx(response) -> list[list]:
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_xlsx_holds_what_the_list_shows_in_its_order_and_nothing_invisible(world):
    client = client_for(world["manager"])
    params = {"sort": "-amount", "pipeline": world["pipeline"].pk}
    shown = [d.title for d in client.get(reverse("deals:list"), params).context["page"]]
    # when exported as XLSX
    response = client.get(reverse("deals:export"), {**params, "format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en")
    # then the header, then the same rows in the same order; amounts are numbers; no other
    # department's deal
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    rows = _xlsx(response)
    assert rows[0][:5] == ["ID", "Title", "Pipeline", "Stage", "Amount"]
    assert [r[1] for r in rows[1:]] == shown == ["=HYPERLINK(1)", "Colleague's", "Small"]
    assert rows[1][4] == pytest.approx(1500.5) and isinstance(rows[1][4], float | int)
    assert "Other department" not in [r[1] for r in rows]


def test_export_applies_the_filters(world):
    client = client_for(world["manager"])
    response = client.get(reverse("deals:export"), {"format": "xlsx", "mine": "1", "sort": "amount"})
    assert [r[1] for r in _xlsx(response)[1:]] == ["Small", "=HYPERLINK(1)"]
    response = client.get(reverse("deals:export"), {"format": "xlsx", "responsible": world["colleague"].pk})
    assert [r[1] for r in _xlsx(response)[1:]] == ["Colleague's"]


def test_csv_is_excel_friendly_and_defuses_formulas(world):
    # given a manager who reads Russian (Russian Excel reads "1500,50" as a number)
    world["manager"].language = "ru"
    world["manager"].save()
    client = client_for(world["manager"])
    response = client.get(reverse("deals:export"), {"format": "csv", "sort": "amount"})
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").strip().split("\r\n")
    assert len(lines) == 4
    assert ";'=HYPERLINK(1);" in lines[3] and ";1500,50;" in lines[3]
    assert "Other department" not in text
