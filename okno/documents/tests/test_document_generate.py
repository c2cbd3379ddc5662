"""document_generate: numbered per kind and year, DOCX filled with the deal, PDF made, drawn on
the customer's timeline; a supplier order holds only its supplier's lines."""

import io
import threading
from decimal import Decimal

import pytest
from django.db import connection
from docx import Document as Docx

from okno.contacts.tests.factories import make_contact
from okno.documents.context import amount_in_words
from okno.documents.models import Document, DocumentKind, DocumentSettings
from okno.documents.services import document_generate, document_number_next
from okno.documents.tests.factories import make_deal_with_lines, make_our_company, make_supplier, make_template
from okno.timeline.models import Activity


def _text(document: Document) -> str:
    with document.docx.open("rb") as f:
        doc = Docx(io.BytesIO(f.read()))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_amount_in_words_is_russian_roubles_and_kopecks():
    assert amount_in_words(Decimal("1234.56")) == "Одна тысяча двести тридцать четыре рубля 56 копеек"
    assert amount_in_words(Decimal("21.01")) == "Двадцать один рубль 01 копейка"
    assert amount_in_words(Decimal("0")) == "Ноль рублей 00 копеек"


def test_a_document_is_numbered_filled_and_drawn_on_the_timeline(admin_user, fake_pdf):
    # given a deal with a customer and lines, our company's requisites and an invoice template
    contact = make_contact(first_name="Иван", last_name="Петров", phones=["+79161234567"], emails=["ivan@example.ru"])
    deal = make_deal_with_lines(contact=contact)
    DocumentSettings.objects.create(pk=1, our_company=make_our_company())
    template = make_template(user=admin_user)
    # when two invoices are generated
    first = document_generate(deal=deal, template=template, user=admin_user)
    second = document_generate(deal=deal, template=template, user=admin_user)
    # then they are numbered 1 and 2 of this year, with DOCX and PDF
    assert (first.number, second.number) == (1, 2)
    assert first.year == second.year and first.kind == DocumentKind.INVOICE
    assert first.pdf_status == Document.PdfStatus.DONE and first.pdf.open("rb").read().startswith(b"%PDF")
    text = _text(first)
    assert "Счёт на оплату № 1" in text
    assert "ООО Окно, ИНН 7707083893" in text
    assert "Одна тысяча двести тридцать четыре рубля 56 копеек" in text
    assert "Петров Иван" in text and "ivan@example.ru" in text
    assert "Товар 1" in text and "SKU-1" in text
    # and each is on the customer's timeline
    assert Activity.objects.filter(contact=contact, kind="document").count() == 2


def test_numbers_are_per_kind_and_per_year(admin_user, fake_pdf):
    deal = make_deal_with_lines()
    invoice = make_template(user=admin_user)
    contract = make_template(kind=DocumentKind.CONTRACT, user=admin_user, name="Договор")
    assert document_generate(deal=deal, template=invoice, user=admin_user).number == 1
    assert document_generate(deal=deal, template=contract, user=admin_user).number == 1
    assert document_number_next(kind="invoice", year=2001) == 1
    assert document_generate(deal=deal, template=invoice, user=admin_user).number == 2


def test_a_supplier_order_holds_only_its_suppliers_lines(admin_user, fake_pdf):
    a, b = make_supplier("Альфа"), make_supplier("Бета", "b@example.ru")
    deal = make_deal_with_lines(suppliers=[a, b, a])
    template = make_template(kind=DocumentKind.SUPPLIER_ORDER, user=admin_user, name="Заказ")
    document = document_generate(deal=deal, template=template, user=admin_user, supplier=a)
    text = _text(document)
    assert "Поставщик: Альфа" in text
    assert "Товар 1" in text and "Товар 3" in text and "Товар 2" not in text
    assert "Четыреста два рубля 00 копеек" in text  # 2 × 100.50 twice


def test_an_inactive_template_is_refused(admin_user, fake_pdf):
    from okno.core.errors import FieldError

    template = make_template(user=admin_user)
    template.is_active = False
    template.save()
    with pytest.raises(FieldError) as e:
        document_generate(deal=make_deal_with_lines(), template=template, user=admin_user)
    assert e.value.by_field == {"template_id": "this template is switched off"}


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_when_taken_at_once():
    # given several threads taking numbers of one kind and year at the same time
    taken, errors = [], []

    def take():
        try:
            for _ in range(10):
                taken.append(document_number_next(kind="invoice", year=2030))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every number was given once, none skipped
    assert not errors
    assert sorted(taken) == list(range(1, 41))
