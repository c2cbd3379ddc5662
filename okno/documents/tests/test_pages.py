"""The templates page (upload, refusal with its reason, preview against a deal) and the deal
page's documents panel with its one-click "Send"."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from docx import Document as Docx

from okno.contacts.tests.factories import make_contact
from okno.documents import office, samples
from okno.documents.models import Document, DocumentKind, DocumentTemplate
from okno.documents.tests.factories import docx_of, make_deal_with_lines, make_supplier, make_template
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


def test_send_of_a_supplier_order_goes_to_each_supplier_not_to_the_customer(admin_user, fake_pdf):
    # given an order of two suppliers' lines, of a customer with an e-mail, and a supplier-order template
    a, b = make_supplier("Альфа", "a@supplier.ru"), make_supplier("Бета", "b@supplier.ru")
    deal = make_deal_with_lines(suppliers=[a, b], contact=make_contact(first_name="Иван", emails=["ivan@example.ru"]))
    template = make_template(kind=DocumentKind.SUPPLIER_ORDER, user=admin_user, name="Заказ поставщику")
    browser = _browser(admin_user)
    # when the panel is opened: the address is left empty, the customer's shown as what empty means
    panel = browser.get(f"/documents/deal/{deal.pk}/").content.decode()
    assert 'name="to" type="email" value=""' in panel and "ivan@example.ru" in panel
    # and "Send" is clicked with the address left empty
    r = browser.post(f"/documents/deal/{deal.pk}/send/", {"template_id": template.pk, "to": "", "action": "send"},
                     headers={"HX-Request": "true"})
    # then one supplier order per supplier, each to its supplier, none to the customer
    assert r.status_code == 200
    sent = {d.supplier.name: d.sent_to for d in Document.objects.all()}
    assert sent == {"Альфа": "a@supplier.ru", "Бета": "b@supplier.ru"}
    assert sorted(m.payload["to"] for m in OutboxMessage.objects.all()) == ["a@supplier.ru", "b@supplier.ru"]


def test_send_with_no_address_says_so_in_the_panel(admin_user, fake_pdf):
    # given a customer without an e-mail
    deal = make_deal_with_lines(contact=make_contact(first_name="Иван", phones=["+79161234567"]))
    template = make_template(user=admin_user)
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    browser = _browser(admin_user)
    # when "Send" is clicked with no address, and then with a bad one
    r = browser.post(f"/documents/deal/{deal.pk}/send/", {"template_id": template.pk, "to": "", "action": "send"},
                     headers={"HX-Request": "true"})
    bad = browser.post(f"/documents/deal/{deal.pk}/send/", {"template_id": template.pk, "to": "ivan@",
                                                            "action": "send"}, headers={"HX-Request": "true"})
    # then the panel comes back as a 400 that htmx swaps in, naming the reason; nothing is queued
    html = r.content.decode()
    assert r.status_code == 400 and "made, not sent: there is no e-mail address to send it to" in html
    assert "hx-on::before-swap" in html
    assert bad.status_code == 400 and "E-mail: not an e-mail address." in bad.content.decode()
    assert Document.objects.count() == 1 and not OutboxMessage.objects.exists()


@pytest.mark.skipif(not office.office_available(), reason="LibreOffice not installed (scripts/office-deps.sh)")
def test_preview_as_pdf_against_a_real_deal_with_the_real_libreoffice(admin_user):
    # given the sample invoice and a real deal
    template = make_template(user=admin_user)
    deal = make_deal_with_lines(contact=make_contact(first_name="Иван", last_name="Петров"))
    # when the administrator previews it as PDF and as DOCX
    browser = _browser(admin_user)
    pdf = browser.get(f"/documents/templates/{template.pk}/preview/", {"deal": f"#{deal.pk}", "format": "pdf"})
    docx = browser.get(f"/documents/templates/{template.pk}/preview/", {"deal": deal.pk, "format": "docx"})
    # then a real PDF and the DOCX filled with that deal, with no number taken, nothing stored
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-" and pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.text for p in Docx(io.BytesIO(docx.content)).paragraphs)
    assert "Покупатель: Петров Иван" in text and "Счёт на оплату №  от" in text
    assert not Document.objects.exists()
