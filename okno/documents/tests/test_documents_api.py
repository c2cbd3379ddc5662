"""POST /api/v1/deals/{id}/documents -> {id, number, docx_url, pdf_url}; the files are served to
the API token and to a signed-in browser of whoever sees the deal, 404 to anyone else."""

from django.test import Client

from okno.documents.models import Document
from okno.documents.tests.factories import make_deal_with_lines, make_template
from okno.people.tests.factories import UserFactory


def _create(api, deal, template):
    return api.post(f"/api/v1/deals/{deal.pk}/documents", {"template_id": template.pk})


def test_a_document_is_generated_and_downloadable_with_the_token(api, admin_user, fake_pdf):
    # given a deal and a template
    deal = make_deal_with_lines()
    template = make_template(user=admin_user)
    # when a document is asked for
    r = _create(api, deal, template)
    # then it answers the contract's shape and both files download with the bearer token
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"] == 1 and body["id"] == Document.objects.get().pk
    docx = api.client.get(body["docx_url"], headers=api.headers)
    assert docx.status_code == 200 and b"".join(docx.streaming_content)[:2] == b"PK"
    assert "attachment" in docx["Content-Disposition"]
    pdf = api.client.get(body["pdf_url"], headers=api.headers)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert _create(api, deal, template).json()["number"] == 2


def test_a_pending_pdf_is_made_when_downloaded(api, admin_user, fake_pdf):
    deal = make_deal_with_lines()
    template = make_template(user=admin_user)
    from okno.documents.services import document_generate

    document = document_generate(deal=deal, template=template, user=admin_user, pdf_inline=False)
    assert document.pdf_status == Document.PdfStatus.PENDING
    r = api.client.get(f"/api/v1/documents/{document.pk}/pdf", headers=api.headers)
    assert r.status_code == 200
    document.refresh_from_db()
    assert document.pdf_status == Document.PdfStatus.DONE


def test_bad_input_is_named(api, admin_user, fake_pdf):
    deal = make_deal_with_lines()
    r = api.post(f"/api/v1/deals/{deal.pk}/documents", {"template_id": 999999})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "template_id"
    r = api.post(f"/api/v1/deals/{deal.pk}/documents", {})
    assert r.status_code in (400, 422)
    r = api.post("/api/v1/deals/999999/documents", {"template_id": make_template(user=admin_user).pk})
    assert r.status_code == 404
    assert not Document.objects.exists()


def test_who_may_not_see_the_deal_gets_404(api, api_as, admin_user, fake_pdf):
    # given a deal of one manager and a manager of another department
    owner = UserFactory()
    stranger = UserFactory()
    deal = make_deal_with_lines(responsible=owner)
    body = _create(api, deal, make_template(user=admin_user)).json()
    # then the stranger gets 404 for the files and for making one; the owner downloads in the browser
    them = api_as(stranger)
    assert them.client.get(body["docx_url"], headers=them.headers).status_code == 404
    assert them.post(f"/api/v1/deals/{deal.pk}/documents", {"template_id": body["template_id"]}).status_code == 404
    browser = Client()
    browser.force_login(owner)
    assert browser.get(body["docx_url"]).status_code == 200
    assert browser.get(f"/documents/{body['id']}/pdf/").status_code == 200
    outsider = Client()
    outsider.force_login(stranger)
    assert outsider.get(f"/documents/{body['id']}/docx/").status_code == 404
    assert Client().get(body["docx_url"]).status_code == 401
