"""Documents' test data: templates from the sample DOCX files, suppliers, a deal with lines."""

import io
from decimal import Decimal

from docx import Document as Docx

from okno.contacts.models import Company
from okno.deals.models import DealLineItem, Supplier
from okno.deals.tests.factories import DealFactory
from okno.documents import samples
from okno.documents.models import DocumentKind, DocumentTemplate
from okno.documents.services import Upload, document_template_upload


def docx_of(*paragraphs: str) -> bytes:
    doc = Docx()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def make_template(*, kind: str = DocumentKind.INVOICE, data: bytes | None = None, user=None,
                  name: str = "Счёт") -> DocumentTemplate:
    if data is None:
        data = samples.supplier_order_docx() if kind == DocumentKind.SUPPLIER_ORDER else samples.invoice_docx()
    return document_template_upload(name=name, kind=kind, upload=Upload(name="t.docx", data=data), user=user)


def make_supplier(name: str = "ООО Поставщик", email: str = "orders@supplier.example") -> Supplier:
    return Supplier.objects.create(name=name, search_name=name.lower(), emails=[email] if email else [],
                                   terms="Оплата по факту, доставка 3 дня")


def make_deal_with_lines(*, suppliers: list[Supplier | None] | None = None, contact=None, **fields):
    deal = DealFactory(contact=contact, amount=Decimal("1234.56"), **fields)
    for i, supplier in enumerate(suppliers or [None]):
        DealLineItem.objects.create(deal=deal, name=f"Товар {i + 1}", sku=f"SKU-{i + 1}", quantity=Decimal("2"),
                                    price=Decimal("100.50"), position=i, supplier=supplier)
    return deal


def make_our_company() -> Company:
    return Company.objects.create(name="ООО Окно", search_name="ооо окно", inn="7707083893", kpp="773601001",
                                  bank_name="ПАО Сбербанк", bik="044525225",
                                  settlement_account="40702810400000000001")
