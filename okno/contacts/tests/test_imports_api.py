import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from okno.contacts.models import Contact, ImportJob
from okno.contacts.tests.factories import make_contact
from okno.people.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _english(settings):
    """The reasons are read in English here (pages and the worker fall back to LANGUAGE_CODE)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def xlsx(rows: list[list]) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return SimpleUploadedFile("clients.xlsx", buf.getvalue())


def upload(client, file, **form):
    """POST the file, then what a client polls once the worker has read it (GET /imports/{id})."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.client.post("/api/v1/contacts/imports", data={"file": file, **form}, headers=client.headers)
    if r.status_code != 201:
        return r
    assert r.json()["inspecting"] is True and r.json()["preview"] == []
    r = client.client.get(f"/api/v1/contacts/imports/{r.json()['id']}", headers=client.headers)
    r.status_code = 201
    return r


ROWS = [["Фамилия", "Имя", "Телефон", "Почта"],
        ["Петров", "Иван", "+7 916 123-45-67", "ivan@p.ru"],
        ["Сидоров", "", "12", ""],
        ["Петров", "Иван", "8 916 123 45 67", ""]]


def test_upload_preview_run_and_report(api, django_capture_on_commit_callbacks):
    # given an existing customer and an uploaded file
    old = make_contact(first_name="Иван", last_name="Петров", emails=["ivan@p.ru"])
    r = upload(api, xlsx(ROWS))
    assert r.status_code == 201, r.content
    body = r.json()
    # then the answer shows the header, the suggested mapping and the preview
    assert body["header"] == ROWS[0]
    assert body["mapping"] == {"0": "last_name", "1": "first_name", "2": "phones", "3": "emails"}
    assert [(p["row"], p["status"]) for p in body["preview"]] == [(2, "duplicate"), (3, "error"), (4, "duplicate")]
    assert body["preview"][0]["duplicate_of"]["contact_id"] == old.pk
    assert Contact.objects.count() == 1
    # when it is run with merge (the task runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/v1/contacts/imports/{body['id']}/run", {"on_duplicate": "merge"})
    assert r.status_code == 202, r.content
    # then the job reports what happened and the card gained the phone
    job = api.get(f"/api/v1/contacts/imports/{body['id']}").json()
    assert (job["status"], job["total_rows"], job["merged_count"], job["error_count"]) == ("done", 3, 2, 1)
    assert [(e["row"], e["field"], e["value"]) for e in job["errors"]] == [(3, "phones[0]", "12")]
    assert [p.e164 for p in old.phones.all()] == ["+79161234567"]
    # and a second run is refused
    assert api.post(f"/api/v1/contacts/imports/{body['id']}/run").status_code == 409


def test_upload_with_explicit_mapping_by_header_name(api):
    r = upload(api, xlsx(ROWS), mapping=json.dumps({"Телефон": "phones", "Фамилия": "full_name"}),
               on_duplicate="create")
    assert r.status_code == 201, r.content
    assert r.json()["mapping"] == {"0": "full_name", "2": "phones"}
    assert r.json()["on_duplicate"] == "create"


def test_bad_uploads_answer_400_with_the_reason_and_store_nothing(api, settings):
    r = upload(api, SimpleUploadedFile("x.xlsx", b"PK\x03\x04broken"))
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "file"
    assert "damaged" in r.json()["errors"][0]["reason"] and r.json()["errors"][0]["reason"].startswith("x.xlsx: ")
    r = upload(api, xlsx(ROWS), mapping="{not json")
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "mapping")
    settings.OKNO_IMPORT_MAX_BYTES = 10
    r = upload(api, xlsx(ROWS))
    assert r.status_code == 400 and "limit" in r.json()["errors"][0]["reason"]
    assert not ImportJob.objects.exists()


def test_only_the_creator_and_admins_see_a_job(api, api_as):
    # given a job of one manager
    owner, other = UserFactory(), UserFactory()
    r = upload(api_as(owner), xlsx(ROWS))
    job_id = r.json()["id"]
    # then another manager gets 404 for reading and running it, while the owner and an admin see it
    assert api_as(other).get(f"/api/v1/contacts/imports/{job_id}").status_code == 404
    assert api_as(other).post(f"/api/v1/contacts/imports/{job_id}/run").status_code == 404
    assert api_as(owner).get(f"/api/v1/contacts/imports/{job_id}").status_code == 200
    assert api.get(f"/api/v1/contacts/imports/{job_id}").status_code == 200
    assert ImportJob.objects.get().status == "uploaded"


def test_import_pages_upload_map_and_run(admin_user, django_capture_on_commit_callbacks):
    # given a logged-in user on the import page
    client = Client()
    client.force_login(admin_user)
    assert client.get("/contacts/import/").status_code == 200
    # when a file is uploaded
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = client.post("/contacts/import/", {"file": xlsx(ROWS), "on_duplicate": "skip"})
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/contacts/import/{job.pk}/"
    # then, until the worker has read it, the page shows the reading and polls
    page = client.get(r["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page and 'name="col_2"' not in page
    # when the worker has read it, the poll reloads the page
    for callback in queued:
        callback()
    poll = client.get(r["Location"], headers={"HX-Request": "true", "HX-Target": "import-status"})
    assert poll["HX-Refresh"] == "true"
    # and the mapping page shows the columns and the preview
    page = client.get(r["Location"]).content.decode()
    assert 'name="col_2"' in page and "Сидоров" in page
    # when the mapping is changed (the e-mail column dropped) and the import run
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/contacts/import/{job.pk}/", {"col_0": "last_name", "col_1": "first_name",
                                                        "col_2": "phones", "col_3": "", "on_duplicate": "skip",
                                                        "run": "1"})
    # then the report page shows the outcome
    job.refresh_from_db()
    assert (job.status, job.created_count, job.skipped_count, job.error_count) == ("done", 1, 1, 1)
    assert job.mapping["fields"] == {"0": "last_name", "1": "first_name", "2": "phones"}
    report = client.get(f"/contacts/import/{job.pk}/").content.decode()
    assert "phones[0]" in report and "row 2" in report


def test_upload_page_explains_an_unreadable_file(admin_user):
    client = Client()
    client.force_login(admin_user)
    r = client.post("/contacts/import/", {"file": SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 64)})
    assert r.status_code == 400
    assert ".xlsx" in r.content.decode()
    assert not ImportJob.objects.exists()


def test_a_job_being_read_cannot_be_started(api):
    # given an upload the worker has not read yet (on-commit work not run)
    r = api.client.post("/api/v1/contacts/imports", data={"file": xlsx(ROWS)}, headers=api.headers)
    assert r.status_code == 201 and r.json()["inspecting"] is True
    # then starting it is refused with the reason
    r = api.post(f"/api/v1/contacts/imports/{r.json()['id']}/run")
    assert r.status_code == 409 and "still being read" in r.json()["detail"]


def test_a_started_job_is_queued_and_cannot_be_changed_or_started_again(api):
    job_id = upload(api, xlsx(ROWS)).json()["id"]
    # when it is started (the worker has not picked it up: on-commit work not run)
    assert api.post(f"/api/v1/contacts/imports/{job_id}/run").status_code == 202
    # then it shows as queued without the form's preview, and a second start or a new mapping is refused
    body = api.get(f"/api/v1/contacts/imports/{job_id}").json()
    assert (body["status"], body["queued"], body["preview"]) == ("uploaded", True, [])
    assert api.post(f"/api/v1/contacts/imports/{job_id}/run").status_code == 409
    assert api.post(f"/api/v1/contacts/imports/{job_id}/run", {"on_duplicate": "create"}).status_code == 409
