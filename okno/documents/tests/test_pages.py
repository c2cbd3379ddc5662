"""The templates page (upload, refusal with its reason, preview against a deal) and the deal
page's documents panel with its one-click "Send"."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from okno.contacts.tests.factories import make_contact
from okno.documents import samples
from okno.documents.models import Document, DocumentTemplate
from okno.documents.tests.factories import docx_of, make_deal_with_lines, make_template
from okno.outbox.models import OutboxMessage
from okno.people.tests.factories import UserFactory


def _browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_templates_page_uploads_and_refuses_with_the_reason(admin_user):
    browser = _browser(admin_user)
    r = browser.post("/documents/templates/", {"name": "Счёт", "kind": "invoice",
                                               "file": SimpleUploadedFile("s.docx", samples.invoice_docx())})
    assert r.status_code == 302 and DocumentTemplate.objects.count() == 1
    r = browser.post("/documents/templates/", {"name": "Плохой", "kind": "invoice",
                                               "file": SimpleUploadedFile("b.docx", docx_of("{{ client.name }}"))})
    assert r.status_code == 200 and "client" in r.content.decode()
    assert DocumentTemplate.objects.count() == 1
    assert browser.get("/documents/templates/").status_code == 200


def test_a_manager_may_not_open_the_templates_page(db):
    assert _browser(UserFactory()).get("/documents/templates/").status_code == 403


def test_preview_against_a_real_deal_downloads_a_docx(admin_user):
    template = make_template(user=admin_user)
    deal = make_deal_with_lines()
    r = _browser(admin_user).get(f"/documents/templates/{template.pk}/preview/", {"deal": deal.pk, "format": "docx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert not Document.objects.exists()


def test_the_deal_page_draws_the_panel_and_send_is_one_click(admin_user, fake_pdf):
    # given a deal of a customer with an e-mail and an invoice template
    contact = make_contact(first_name="Иван", emails=["ivan@example.ru"])
    deal = make_deal_with_lines(contact=contact)
    template = make_template(user=admin_user)
    browser = _browser(admin_user)
    page = browser.get(f"/deals/{deal.pk}/").content.decode()
    assert f"/documents/deal/{deal.pk}/" in page
    panel = browser.get(f"/documents/deal/{deal.pk}/").content.decode()
    assert "ivan@example.ru" in panel
    # when the manager clicks "Send"
    with translation.override("en"):
        r = browser.post(f"/documents/deal/{deal.pk}/send/", {"template_id": template.pk, "to": "",
                                                              "action": "send"}, headers={"HX-Request": "true"})
    # then the invoice is made and queued to the customer
    assert r.status_code == 200
    document = Document.objects.get()
    assert OutboxMessage.objects.get().payload["to"] == "ivan@example.ru"
    assert document.title in r.content.decode() and document.sent_to == "ivan@example.ru"


def test_a_stranger_gets_404_for_the_panel(db, admin_user):
    deal = make_deal_with_lines(responsible=UserFactory())
    assert _browser(UserFactory()).get(f"/documents/deal/{deal.pk}/").status_code == 404
