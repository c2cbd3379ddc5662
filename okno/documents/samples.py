"""Two ready templates, built with python-docx: an invoice and a supplier order form.

Used by the demo (okno/demo/documents.py), the tests and the benchmark, and a starting point
for an administrator (download from the templates page, edit in Word, upload). Table rows
repeat with docxtpl's `{%tr for ... %}` row tags.
"""

import io

from docx import Document as Docx
from docx.shared import Pt


def _table(doc, header: list[str], row: list[str], footer: list[str] | None = None):
    table = doc.add_table(rows=0, cols=len(header))
    table.style = "Table Grid"
    for values in (header, ["{%tr for l in deal.lines %}"] + [""] * (len(header) - 1), row,
                   ["{%tr endfor %}"] + [""] * (len(header) - 1)) + ((footer,) if footer else ()):
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
    return table


def _save(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _base():
    doc = Docx()
    style = doc.styles["Normal"]
    style.font.name = "Liberation Sans"
    style.font.size = Pt(10)
    return doc


def invoice_docx() -> bytes:
    doc = _base()
    doc.add_paragraph("{{ our.name }}, ИНН {{ our.inn }}, КПП {{ our.kpp }}")
    doc.add_paragraph("{{ our.bank_name }}, БИК {{ our.bik }}, р/с {{ our.settlement_account }}, "
                      "к/с {{ our.correspondent_account }}")
    doc.add_heading("Счёт на оплату № {{ document.number }} от {{ date }}", level=1)
    doc.add_paragraph("Покупатель: {{ company.name or contact.full_name }}{% if company.inn %}, "
                      "ИНН {{ company.inn }}{% endif %}; тел. {{ contact.phone }}, {{ contact.email }}")
    doc.add_paragraph("Основание: заказ № {{ deal.number }} ({{ deal.title }})")
    _table(doc, ["№", "Товар", "Артикул", "Кол-во", "Цена", "Сумма"],
           ["{{ l.n }}", "{{ l.name }}", "{{ l.sku }}", "{{ l.quantity }}", "{{ l.price }}", "{{ l.total }}"],
           ["", "", "", "", "Итого:", "{{ deal.amount }}"])
    doc.add_paragraph("Всего к оплате: {{ deal.amount }} ({{ deal.amount_in_words }}). Без НДС.")
    doc.add_paragraph("Руководитель ______________   Бухгалтер ______________")
    return _save(doc)


def supplier_order_docx() -> bytes:
    doc = _base()
    doc.add_heading("Заказ поставщику № {{ document.number }} от {{ date }}", level=1)
    doc.add_paragraph("Поставщик: {{ supplier.name }}, {{ supplier.email }}, {{ supplier.phone }}")
    doc.add_paragraph("Заказчик: {{ our.name }}, ИНН {{ our.inn }}, {{ our.actual_address or our.legal_address }}")
    doc.add_paragraph("По заказу клиента № {{ deal.number }}")
    _table(doc, ["№", "Наименование", "Артикул", "Кол-во", "Цена", "Сумма"],
           ["{{ l.n }}", "{{ l.name }}", "{{ l.sku }}", "{{ l.quantity }}", "{{ l.price }}", "{{ l.total }}"],
           ["", "", "", "", "Итого:", "{{ deal.lines_total }}"])
    doc.add_paragraph("Итого: {{ deal.lines_total }} ({{ deal.lines_total_in_words }}).")
    doc.add_paragraph("Условия: {{ supplier.terms }}")
    return _save(doc)
