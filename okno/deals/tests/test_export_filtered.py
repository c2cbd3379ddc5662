"""The deal list's export past the streaming threshold: an export job writes exactly the list's
rows (filters and sort), shows its progress, and serves the file to its owner only."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from okno.contacts import views_export
from okno.contacts.models import ExportJob
from okno.deals.tests.factories import DealFactory, PipelineFactory
from okno.people.tests.factories import DepartmentFactory, UserFactory


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db, monkeypatch):
    monkeypatch.setattr(views_export, "STREAM_MAX_ROWS", 2)  # a "large" list is 3 rows here
    sales = DepartmentFactory()
    manager = UserFactory(department=sales, language="en")
    colleague = UserFactory(department=sales)
    pipeline = PipelineFactory(name="Orders")
    for title, amount, who in (("Small", "10.00", manager), ("Big", "1500.50", manager), ("Mid", "700.00", manager),
                               ("Colleague's", "5.00", colleague)):
        DealFactory(pipeline=pipeline, responsible=who, title=title, amount=Decimal(amount))
    return manager, pipeline


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_long_deal_list_is_exported_by_a_job_with_the_lists_rows(world, fmt, django_capture_on_commit_callbacks):
    # given the manager's deals sorted by amount (3 rows: over the threshold of 2)
    manager, pipeline = world
    client = client_for(manager)
    params = {"mine": "1", "sort": "-amount", "pipeline": pipeline.pk}
    shown = [d.pk for d in client.get(reverse("deals:list"), params).context["page"]]
    assert len(shown) == 3
    # when exported
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get(reverse("deals:export"), {**params, "format": fmt})
    # then a job was made and its page offers the file
    job = ExportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/contacts/exports/{job.pk}/"
    assert (job.kind, job.status, job.written_rows, job.total_rows) == ("deals", "done", 3, 3)
    page = client.get(r["Location"]).content.decode()
    assert "3 rows written" in page and "/deals/" in page  # the way back to the list
    # and the file holds the list's rows in its order
    data = body(client.get(f"/contacts/exports/{job.pk}/download/"))
    if fmt == "xlsx":
        rows = [list(x) for x in load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True)]
    else:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["ID", "Title"]
    assert [int(row[0]) for row in rows[1:]] == shown
    assert [row[1] for row in rows[1:]] == ["Big", "Mid", "Small"]
    # and nobody else may download it
    assert client_for(UserFactory(department=manager.department)).get(
        f"/contacts/exports/{job.pk}/download/").status_code == 404
    job.file.delete(save=False)


def test_a_short_deal_list_still_streams_and_a_bad_format_is_a_400(world):
    manager, pipeline = world
    client = client_for(manager)
    r = client.get(reverse("deals:export"), {"q": "Small", "format": "xlsx"})
    assert r.status_code == 200 and not ExportJob.objects.exists()
    r = client.get(reverse("deals:export"), {"format": "doc"})
    assert r.status_code == 400 and "format" in r.content.decode()
