"""In a real browser: filter the contact list, click Export XLSX, get the file of those rows;
a long list goes through the export job's progress page to its download."""

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from okno.contacts import views_export
from okno.contacts.models import ExportJob
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import UserFactory

pytestmark = pytest.mark.browser


def _rows(path) -> list[list]:
    return [list(r) for r in openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def customers(db):
    manager = UserFactory(language="en")
    for i, (last, first) in enumerate([("Орлов", "Яков"), ("Орлов", "Андрей"), ("Зайцев", "Пётр")]):
        make_contact(actor=manager, last_name=last, first_name=first, tags=["VIP"], phones=[f"+7 916 500-00-0{i}"])
    make_contact(actor=manager, last_name="Орлов", first_name="Обычный", phones=["+7 916 600-00-00"])
    return manager


def test_export_xlsx_of_a_filtered_sorted_list_gets_its_rows(customers, logged_in_page, tmp_path):
    page = logged_in_page(customers)
    # given the list filtered by the VIP tag, searched for "Орлов" and sorted by name
    page.goto("/contacts/")
    page.select_option("select[name=tag]", "VIP")
    page.wait_for_url(re.compile(r"tag=VIP"))
    page.select_option("select[name=sort]", "name")
    page.wait_for_url(re.compile(r"sort=name"))
    page.fill("input[name=q]", "Орлов")
    page.wait_for_url(re.compile(r"q=%D0%9E"))
    expect(page.locator("#contact-results tbody tr")).to_have_count(2)
    shown = page.locator("#contact-results tbody tr td:first-child a").all_inner_texts()
    # when the user clicks Export XLSX
    with page.expect_download() as info:
        page.click("#export-xlsx")
    download = info.value
    path = tmp_path / "export.xlsx"
    download.save_as(path)
    # then the file is an XLSX with the two rows the list shows, in its order
    assert download.suggested_filename.startswith("contacts-") and download.suggested_filename.endswith(".xlsx")
    rows = _rows(path)
    assert rows[0][:3] == ["ID", "Last name", "First name"]
    assert [f"{r[1]} {r[2]}" for r in rows[1:]] == shown == ["Орлов Андрей", "Орлов Яков"]


def test_a_long_export_shows_the_job_page_and_downloads(customers, logged_in_page, tmp_path, monkeypatch):
    # given a streaming threshold of 1 row, and the VIP list of 3
    monkeypatch.setattr(views_export, "STREAM_MAX_ROWS", 1)
    page = logged_in_page(customers)
    page.goto("/contacts/?tag=VIP&sort=name")
    # when the user clicks Export CSV
    page.click("#export-csv")
    # then the job's page opens and, once written, offers the file
    page.wait_for_url(re.compile(r"/contacts/exports/\d+/$"))
    expect(page.locator("#export-download")).to_be_visible()
    expect(page.locator("#export-status")).to_contain_text("3 rows written")
    with page.expect_download() as info:
        page.click("#export-download")
    path = tmp_path / "export.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert [line.split(";")[1] for line in text.splitlines()[1:]] == ["Зайцев", "Орлов", "Орлов"]
    ExportJob.objects.get().file.delete(save=False)
