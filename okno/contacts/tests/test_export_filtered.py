"""The contact list's export writes exactly what the list shows: its search, filters and sort,
in the chosen format; a long list goes through an export job with a progress page, and only
its owner may download the file."""

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from okno.contacts import export_jobs, views_export
from okno.contacts.models import ExportJob
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import DepartmentFactory, UserFactory


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def xlsx_rows(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def base(db):
    """A manager's VIP customers (some named Смирнов), others without the tag, and another
    department's VIP Смирнов the manager may not see."""
    sales, other = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Опт")
    anna = UserFactory(department=sales, username="anna", language="en")
    boris = UserFactory(department=other, username="boris")
    names = [("Смирнов", "Яков"), ("Смирнов", "Андрей"), ("Иванов", "Пётр"), ("Смирнова", "Мария"),
             ("Смирнов", "Борис")]
    vip = [make_contact(actor=anna, last_name=last, first_name=first, tags=["VIP"],
                        phones=[f"+7 916 100-00-0{i}"]) for i, (last, first) in enumerate(names)]
    make_contact(actor=anna, last_name="Смирнов", first_name="Без тега", phones=["+7 916 200-00-00"])
    make_contact(actor=boris, last_name="Смирнов", first_name="Чужой", tags=["VIP"], phones=["+7 916 300-00-00"])
    client = Client()
    client.force_login(anna)
    return anna, boris, client, vip


QUERY = {"tag": "VIP", "q": "смирнов", "sort": "name"}


def listed_ids(client, query) -> list[int]:
    r = client.get("/contacts/", query)
    assert r.status_code == 200
    return [c.pk for c in r.context["page"].object_list]


def test_the_list_offers_xlsx_and_csv_links_carrying_its_query(base):
    # given a filtered, searched and sorted list
    _, _, client, _ = base
    # when it is shown (also as the htmx fragment that replaces the results)
    for headers in ({}, {"HX-Request": "true", "HX-Target": "contact-results"}):
        html = client.get("/contacts/", QUERY, headers=headers).content.decode()
        # then both export links carry the search, the filter, the sort and their format
        for fmt in ("xlsx", "csv"):
            href = re.search(rf'id="export-{fmt}" href="([^"]+)"', html).group(1).replace("&amp;", "&")
            assert href.startswith("/contacts/export/?")
            assert set(href.split("?", 1)[1].split("&")) == {"q=%D1%81%D0%BC%D0%B8%D1%80%D0%BD%D0%BE%D0%B2",
                                                               "tag=VIP", "sort=name", f"format={fmt}"}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_of_a_filtered_list_equals_its_rows_in_order(base, fmt):
    # given the list with the VIP tag, a search and a sort by name
    _, _, client, vip = base
    shown = listed_ids(client, QUERY)
    assert len(shown) == 4  # the manager's VIP Смирнов/Смирнова, not the untagged one nor another department's
    # when the list is exported in that format
    r = client.get("/contacts/export/", {**QUERY, "format": fmt})
    # then the file holds the list's rows, in the list's order, and nothing else
    assert r.status_code == 200
    data = body(r)
    rows = xlsx_rows(data) if fmt == "xlsx" else csv_rows(data)
    assert rows[0][:3] == ["ID", "Last name", "First name"]
    ids = [int(row[0]) for row in rows[1:]]
    assert ids == shown
    assert [row[2] for row in rows[1:]] == ["Андрей", "Борис", "Яков", "Мария"]
    assert all(row[9] == "VIP" for row in rows[1:])
    assert 'filename="contacts-' in r["Content-Disposition"] and r["Content-Disposition"].endswith(f'.{fmt}"')


def test_every_sort_of_the_list_is_the_export_order(base):
    _, _, client, _ = base
    for sort in ("-created", "created", "name", "-name"):
        query = {"tag": "VIP", "sort": sort}
        rows = xlsx_rows(body(client.get("/contacts/export/", {**query, "format": "xlsx"})))
        assert [r[0] for r in rows[1:]] == listed_ids(client, query), sort


def test_an_unknown_format_is_a_400_naming_the_field(base):
    _, _, client, _ = base
    r = client.get("/contacts/export/", {"format": "pdf"})
    assert r.status_code == 400
    assert "format" in r.content.decode()


def test_a_long_list_goes_through_a_job_with_progress_and_a_download(base, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    # given a threshold of 2 rows sent at once (the list has 4)
    anna, _, client, _ = base
    monkeypatch.setattr(views_export, "STREAM_MAX_ROWS", 2)
    shown = listed_ids(client, QUERY)
    # when the list is exported as XLSX (the worker runs after the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get("/contacts/export/", {**QUERY, "format": "xlsx"})
    # then the browser goes to the job's page
    job = ExportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/contacts/exports/{job.pk}/"
    assert (job.created_by, job.kind, job.format, job.total_rows) == (anna, "contacts", "xlsx", 4)
    assert job.params == {"q": "смирнов", "tag": "VIP", "sort": "name"}
    # and the job is done: all rows written, the file stored under a random name
    assert (job.status, job.written_rows) == ("done", 4)
    assert re.fullmatch(r"exports/[\w-]{32}\.xlsx", job.file.name)
    # and its page (and the fragment htmx polls) shows the count and a download link
    page = client.get(f"/contacts/exports/{job.pk}/").content.decode()
    assert "4 rows written" in page and f"/contacts/exports/{job.pk}/download/" in page
    fragment = client.get(f"/contacts/exports/{job.pk}/", headers={"HX-Request": "true", "HX-Target": "export-status"})
    assert fragment.content.decode().lstrip().startswith('<section id="export-status"')
    # and the download holds the list's rows in order
    r = client.get(f"/contacts/exports/{job.pk}/download/")
    assert r.status_code == 200 and r["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert [row[0] for row in xlsx_rows(body(r))[1:]] == shown
    job.file.delete(save=False)


def test_a_queued_job_shows_its_progress_and_polls(base, monkeypatch):
    # given a job the worker has not finished (2 of 4 rows written)
    anna, _, client, _ = base
    job = ExportJob.objects.create(created_by=anna, params={"tag": "VIP"}, total_rows=4, written_rows=2,
                                   status="running")
    # when its page is opened
    html = client.get(f"/contacts/exports/{job.pk}/").content.decode()
    # then it shows the progress and polls itself; there is nothing to download yet
    assert "2 of 4 rows written (50%)" in html
    assert 'hx-trigger="every 1s"' in html
    assert client.get(f"/contacts/exports/{job.pk}/download/").status_code == 404


def test_a_csv_job_writes_the_same_rows(base, monkeypatch, django_capture_on_commit_callbacks):
    _, _, client, _ = base
    monkeypatch.setattr(views_export, "STREAM_MAX_ROWS", 2)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/contacts/export/", {**QUERY, "format": "csv"})
    job = ExportJob.objects.get()
    rows = csv_rows(body(client.get(f"/contacts/exports/{job.pk}/download/")))
    assert [int(r[0]) for r in rows[1:]] == listed_ids(client, QUERY)
    job.file.delete(save=False)


def test_another_user_cannot_see_or_download_someones_export(base, monkeypatch, django_capture_on_commit_callbacks):
    # given anna's finished export job
    _, boris, client, _ = base
    monkeypatch.setattr(views_export, "STREAM_MAX_ROWS", 0)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/contacts/export/", {"format": "xlsx"})
    job = ExportJob.objects.get()
    assert job.status == "done"
    # when boris, or even an administrator, asks for its page or its file
    for user in (boris, UserFactory(role="admin", is_superuser=True)):
        other = Client()
        other.force_login(user)
        # then both are 404, as if it did not exist
        assert other.get(f"/contacts/exports/{job.pk}/").status_code == 404
        assert other.get(f"/contacts/exports/{job.pk}/download/").status_code == 404
    # and an anonymous visitor is sent to log in
    assert Client().get(f"/contacts/exports/{job.pk}/download/").status_code == 302
    job.file.delete(save=False)


def test_exports_older_than_a_day_are_removed_with_their_files(base, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    # given a finished export made 25 hours ago
    _, _, client, _ = base
    monkeypatch.setattr(views_export, "STREAM_MAX_ROWS", 0)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/contacts/export/", {"format": "csv"})
    job = ExportJob.objects.get()
    path = job.file.path
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=25))
    # then it can no longer be downloaded
    assert client.get(f"/contacts/exports/{job.pk}/download/").status_code == 404
    # and the purge (run with every new job and after every run) deletes the row and the file
    assert export_jobs.export_jobs_purge() == 1
    assert not ExportJob.objects.exists()
    import os

    assert not os.path.exists(path)


def test_a_name_that_looks_like_a_formula_is_text_in_the_xlsx(base):
    anna, _, client, _ = base
    make_contact(actor=anna, last_name="=HYPERLINK(\"http://x\")", first_name="-2+3", tags=["формула"])
    data = body(client.get("/contacts/export/", {"tag": "формула", "format": "xlsx"}))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    cells = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert (cells[1].value, cells[1].data_type) == ('=HYPERLINK("http://x")', "s")
    assert (cells[2].value, cells[2].data_type) == ("-2+3", "s")
