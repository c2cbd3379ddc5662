"""POST /api/v1/document-templates: a DOCX with known placeholders is stored; a syntax error, an
unknown placeholder or a file that is not a DOCX is a 400 naming the reason."""

from django.core.files.uploadedfile import SimpleUploadedFile

from okno.documents import samples
from okno.documents.models import DocumentTemplate
from okno.documents.tests.factories import docx_of

URL = "/api/v1/document-templates"


def _post(api, data: bytes, *, name="Счёт", kind="invoice", filename="invoice.docx"):
    return api.client.post(URL, data={"name": name, "kind": kind,
                                      "file": SimpleUploadedFile(filename, data)}, headers=api.headers)


def test_a_template_with_known_placeholders_is_stored(api):
    # given the sample invoice
    # when it is uploaded
    r = _post(api, samples.invoice_docx())
    # then it is stored with its placeholders
    assert r.status_code == 201, r.content
    body = r.json()
    template = DocumentTemplate.objects.get(pk=body["id"])
    assert template.kind == "invoice" and template.is_active
    assert {"deal", "our", "document", "contact", "company", "date"} <= set(body["placeholders"])
    assert template.file.open("rb").read()[:2] == b"PK"


def test_a_syntax_error_is_refused_naming_it(api):
    r = _post(api, docx_of("Счёт {{ deal.number }", "x"))
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["field"] == "file" and "syntax error" in error["reason"]
    assert not DocumentTemplate.objects.exists()


def test_an_unknown_placeholder_is_refused_naming_it(api):
    r = _post(api, docx_of("Клиент: {{ customer.name }}"))
    assert r.status_code == 400
    assert "customer" in r.json()["errors"][0]["reason"]
    r = _post(api, docx_of("Сумма: {{ deal.total_sum }}"))
    assert r.status_code == 400
    assert "total_sum" in r.json()["errors"][0]["reason"]
    assert not DocumentTemplate.objects.exists()


def test_a_placeholder_reaching_python_internals_is_refused(api):
    r = _post(api, docx_of("{{ deal.title.__class__.__mro__ }}"))
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "file"


def test_a_file_that_is_not_a_docx_is_refused(api):
    r = _post(api, b"%PDF-1.4 not a docx", filename="invoice.docx")
    assert r.status_code == 400
    assert "DOCX" in r.json()["errors"][0]["reason"]
    r = _post(api, samples.invoice_docx(), filename="invoice.pdf")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "file"


def test_name_kind_and_file_are_required(api):
    r = api.client.post(URL, data={"name": "", "kind": "nope"}, headers=api.headers)
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"name", "kind", "file"}


def test_only_an_administrator_uploads(db, api_as):
    from okno.people.tests.factories import UserFactory

    manager = api_as(UserFactory())
    r = _post(manager, samples.invoice_docx())
    assert r.status_code == 403
    assert not DocumentTemplate.objects.exists()
