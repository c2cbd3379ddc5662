import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from okno.contacts import imports
from okno.contacts.models import Contact, CustomField
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import DepartmentFactory, UserFactory


def read_csv(response) -> list[list[str]]:
    data = b"".join(response.streaming_content)
    assert data.startswith("\ufeff".encode())  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def read_xlsx(response) -> list[list]:
    data = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


@pytest.fixture
def sales(db):
    """Two departments, each with a manager and one customer."""
    a, b = DepartmentFactory(name="A"), DepartmentFactory(name="B")
    anna, boris = UserFactory(department=a, username="anna"), UserFactory(department=b, username="boris")
    ours = make_contact(actor=anna, first_name="Ольга", last_name="Нашева", phones=["+7 916 111-22-33"],
                        emails=["olga@n.ru"], company="Ромашка", tags=["vip"])
    theirs = make_contact(actor=boris, first_name="Тимур", last_name="Чужой", phones=["+7 916 999-88-77"])
    return anna, boris, ours, theirs


def test_csv_export_has_the_cards_a_manager_sees_and_no_others(sales, api_as):
    anna, _, ours, theirs = sales
    r = api_as(anna).get("/api/v1/contacts/export", format="csv")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    rows = read_csv(r)
    assert rows[0][0] == "ID" and len(rows[0]) == 12
    assert [row[0] for row in rows[1:]] == [str(ours.pk)]
    assert rows[1][1:11] == ["Нашева", "Ольга", "", "'+7 916 111-22-33", "olga@n.ru", "Ромашка", "", "", "vip",
                             "anna"]
    assert "Чужой" not in str(rows)


def test_xlsx_export_honours_filters_and_custom_fields(api):
    CustomField.objects.create(key="budget", label="Бюджет", type="number")
    make_contact(first_name="Анна", last_name="Первая", phones=["+7 916 000-00-01"], custom={"budget": "100"},
                 tags=["опт"])
    make_contact(first_name="Борис", last_name="Второй", phones=["+7 916 000-00-02"])
    r = api.get("/api/v1/contacts/export", format="xlsx", tag="опт")
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith('attachment; filename="contacts-')
    rows = read_xlsx(r)
    assert rows[0][-2] == "Бюджет"
    assert [row[1] for row in rows[1:]] == ["Первая"]
    assert rows[1][-2] == 100
    by_phone = read_xlsx(api.get("/api/v1/contacts/export", format="xlsx", q="8 916 000 00 02"))
    assert [row[1] for row in by_phone[1:]] == ["Второй"]


def test_a_formula_in_a_name_is_exported_as_text(api):
    make_contact(first_name="=HYPERLINK(\"http://x\")", last_name="Злой", phones=["+7 916 000-00-03"])
    rows = read_csv(api.get("/api/v1/contacts/export", format="csv"))
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][4] == "'+7 916 000-00-03"  # text, a phone too: Excel would read a number
    cell = read_xlsx(api.get("/api/v1/contacts/export", format="xlsx"))[1][2]
    assert cell == "=HYPERLINK(\"http://x\")"  # stored as a string cell, not a formula


def test_export_page_takes_the_list_filters_and_visibility(sales):
    anna, boris, ours, theirs = sales
    client = Client()
    client.force_login(boris)
    rows = read_csv(client.get("/contacts/export/", {"q": "", "responsible": str(boris.pk)}))
    assert [row[0] for row in rows[1:]] == [str(theirs.pk)]
    assert read_csv(client.get("/contacts/export/", {"q": "Нашева"}))[1:] == []


def test_an_export_imports_back_as_duplicates(api, admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_contact(first_name="Ольга", last_name="Нашева", phones=["+7 916 111-22-33"], company="Ромашка")
    data = b"".join(api.get("/api/v1/contacts/export", format="xlsx").streaming_content)
    job = imports.import_job_create(actor=admin_user, upload=SimpleUploadedFile("back.xlsx", data))
    job = imports.import_job_inspect(job_id=job.pk)
    assert {"last_name", "first_name", "phones", "emails", "company", "responsible"} <= set(
        job.mapping["fields"].values())
    job = imports.import_job_run(job_id=job.pk)
    assert (job.skipped_count, job.created_count, Contact.objects.count()) == (1, 0, 1)


def test_a_csv_export_imports_back_unescaped(api, admin_user, settings, tmp_path):
    # given a card whose values a spreadsheet would run as formulas, exported as CSV ('-escaped)
    settings.MEDIA_ROOT = tmp_path
    make_contact(first_name="=1+1", last_name="-2+3", phones=["+7 916 111-22-33"], city="@Москва")
    data = b"".join(api.get("/api/v1/contacts/export", format="csv").streaming_content)
    assert b"'-2+3;'=1+1" in data
    # when the file is imported back with "create anyway"
    job = imports.import_job_create(actor=admin_user, upload=SimpleUploadedFile("back.csv", data),
                                    on_duplicate="create")
    job = imports.import_job_run(job_id=imports.import_job_inspect(job_id=job.pk).pk)
    # then the new card holds what was typed, without the quotes
    copy = Contact.objects.order_by("-pk").first()
    assert (job.created_count, copy.last_name, copy.first_name, copy.city) == (1, "-2+3", "=1+1", "@Москва")
    assert [p.e164 for p in copy.phones.all()] == ["+79161112233"]
