"""The demo's documents: our requisites, an invoice and a supplier order form, suppliers named
on the store's order lines, and the rule that makes supplier orders when an order is confirmed.

Two orders get their invoice at once; their PDFs are left to the worker's `documents_pdf` drain
(the seed never starts LibreOffice), so the first minute of `make demo` shows that path too.
"""

import random

from okno.contacts.models import Company
from okno.core import requisites
from okno.core.text import fold
from okno.deals.models import DealLineItem, Pipeline, Supplier
from okno.demo.process import STORE
from okno.documents import samples
from okno.documents.models import DocumentKind, DocumentRule, DocumentSettings
from okno.documents.services import Upload, document_generate, document_template_upload
from okno.people.models import User

SUPPLIERS = [
    ("ООО «Мебельная фабрика Север»", "orders@sever-mebel.example", "+74951230001", "Отсрочка 14 дней, доставка 3 дня"),
    ("ИП Кузнецов А. В. (фурнитура)", "kuznetsov@furnitura.example", "+78123450002", "Предоплата 100%"),
    ("ООО «ТекстильОпт»", "zakaz@textilopt.example", "+73432100003", "Минимальный заказ 10 000 ₽"),
    ("АО «Светлые решения»", "sales@svet.example", "+74957700004", "Поставка со склада в Подольске"),
]


def _our_company() -> Company:
    bik = "044525225"
    inn = requisites.with_check_digit_inn10("770708389")
    return Company.objects.create(
        name="ООО «Окно-Демо»", search_name=fold("ООО «Окно-Демо»"), inn=inn, kpp="770701001",
        ogrn=requisites.with_check_digit_ogrn("102770013219"), legal_address="Москва, ул. Тверская, д. 1",
        phones=[{"e164": "+74951230000", "extension": ""}], emails=["office@okno-demo.example"],
        bank_name="ПАО Сбербанк", bik=bik,
        settlement_account=requisites.with_key_account(bik, "40702810" + "0" * 11 + "1"),
        correspondent_account="30101810400000000225")


def documents_seed(*, admin: User, seed: int | None, say) -> int:
    """Templates, suppliers, the confirmed-stage rule; returns how many documents were made."""
    rng = random.Random(seed)
    DocumentSettings.objects.update_or_create(pk=1, defaults={"our_company": _our_company()})
    invoice = document_template_upload(name="Счёт на оплату", kind=DocumentKind.INVOICE,
                                       upload=Upload(name="invoice.docx", data=samples.invoice_docx()), user=admin)
    order_form = document_template_upload(name="Заказ поставщику", kind=DocumentKind.SUPPLIER_ORDER,
                                          upload=Upload(name="supplier-order.docx",
                                                        data=samples.supplier_order_docx()), user=admin)
    suppliers = [Supplier.objects.create(name=n, search_name=fold(n), emails=[e],
                                         phones=[{"e164": p, "extension": ""}], terms=t, created_by=admin,
                                         custom={"менеджер": rng.choice(["Ирина", "Олег", "Марина"])})
                 for n, e, p, t in SUPPLIERS]
    pipeline = Pipeline.objects.filter(name=STORE).first()
    made = 0
    if pipeline is not None:
        lines = list(DealLineItem.objects.filter(deal__pipeline=pipeline))
        for line in lines:
            line.supplier = rng.choice(suppliers)
        DealLineItem.objects.bulk_update(lines, ["supplier"])
        confirmed = pipeline.stages.filter(name="Подтверждён").first()
        if confirmed is not None:
            # Made, not sent: the demo's supplier addresses are invented.
            DocumentRule.objects.create(stage=confirmed, template=order_form, send=False)
        for deal in pipeline.deals.select_related("contact", "company", "stage", "pipeline").order_by("id")[:2]:
            document_generate(deal=deal, template=invoice, user=admin, pdf_inline=False)
            made += 1
    say(f"{len(suppliers)} suppliers, 2 document templates, {made} invoices")
    return made
