"""What a document template may print: the deal, its lines, the customer, the companies, the
supplier and the date, as plain dicts of strings (the allowed names are checked on upload).

Every name is always present (an empty string when the deal has no company, a customer
document has no supplier), so a template renders the same way for every deal; an unknown name
is refused when the template is uploaded, never discovered when a manager clicks "send".
"""

from datetime import date
from decimal import Decimal

from django.utils import formats, translation
from num2words import num2words

from okno.core.phones import format_phone
from okno.deals.models import Deal, DealLineItem, Supplier
from okno.deals.templatetags.deals_ui import money_text

LINE_KEYS = ("n", "name", "sku", "quantity", "unit_price", "price", "total", "supplier")
DEAL_KEYS = ("id", "number", "title", "amount", "amount_value", "amount_in_words", "currency", "lines",
             "lines_total", "lines_total_in_words", "created", "stage", "pipeline", "external_id")
CONTACT_KEYS = ("full_name", "first_name", "last_name", "phone", "email")
COMPANY_KEYS = ("name", "inn", "kpp", "ogrn", "legal_address", "actual_address", "bank_name", "bik",
                "settlement_account", "correspondent_account", "phone", "email")
SUPPLIER_KEYS = ("name", "email", "phone", "terms", "custom")
DOCUMENT_KEYS = ("number", "year", "title", "kind")
# The top-level names a template may use (issue 17's contract, plus `document`: its own number).
ALLOWED = ("deal", "contact", "company", "our", "supplier", "date", "document")


class FreeFields(dict):
    """A supplier's custom fields: any name the administrator chose, empty when not filled."""

    def __missing__(self, key: str) -> str:
        return ""


def _plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def amount_in_words(amount: Decimal, currency: str = "RUB") -> str:
    """`Decimal("1234.56")` -> "Одна тысяча двести тридцать четыре рубля 56 копеек": roubles in
    words, kopecks in figures, as Russian invoices write the sum (num2words does the words)."""
    amount = Decimal(amount or 0).quantize(Decimal("0.01"))
    rubles, kopecks = int(amount), int((amount - int(amount)) * 100)
    words = num2words(rubles, lang="ru")
    if currency == "RUB":
        unit = _plural(rubles, "рубль", "рубля", "рублей")
        cents = _plural(kopecks, "копейка", "копейки", "копеек")
    else:
        unit, cents = currency, ""
    text = f"{words} {unit} {kopecks:02d} {cents}".strip()
    return text[:1].upper() + text[1:]


def _number(value: Decimal) -> str:
    text = formats.number_format(value.normalize() if value == value.to_integral() else value, use_l10n=True)
    return text


def line_dict(i: int, line: DealLineItem, currency: str) -> dict:
    return {"n": i, "name": line.name, "sku": line.sku, "quantity": _number(line.quantity),
            "unit_price": money_text(line.price, currency), "price": money_text(line.price, currency),
            "total": money_text(line.total, currency), "supplier": line.supplier.name if line.supplier_id else ""}


def company_dict(company) -> dict:
    if company is None:
        return dict.fromkeys(COMPANY_KEYS, "")
    phones = company.phones or []
    emails = company.emails or []
    data = {k: getattr(company, k, "") or "" for k in COMPANY_KEYS if k not in ("phone", "email")}
    data["phone"] = format_phone(phones[0]["e164"], phones[0].get("extension", "")) if phones else ""
    data["email"] = (emails[0]["email"] if isinstance(emails[0], dict) else emails[0]) if emails else ""
    return data


def contact_dict(contact) -> dict:
    if contact is None:
        return dict.fromkeys(CONTACT_KEYS, "")
    phone = contact.phones.order_by("id").first()
    email = contact.emails.order_by("id").first()
    full = getattr(contact, "full_name", None) or str(contact)
    return {"full_name": full, "first_name": getattr(contact, "first_name", "") or "",
            "last_name": getattr(contact, "last_name", "") or "",
            "phone": format_phone(phone.e164, phone.extension) if phone else "",
            "email": email.email if email else ""}


def supplier_dict(supplier: Supplier | None) -> dict:
    if supplier is None:
        return {**dict.fromkeys(SUPPLIER_KEYS, ""), "custom": FreeFields()}
    phones = supplier.phones or []
    return {"name": supplier.name, "email": (supplier.emails or [""])[0],
            "phone": format_phone(phones[0]["e164"], phones[0].get("extension", "")) if phones else "",
            "terms": supplier.terms, "custom": FreeFields(supplier.custom or {})}


def document_context(*, deal: Deal, supplier: Supplier | None = None, our=None, number: int | None = None,
                     year: int | None = None, title: str = "", kind: str = "", today: date | None = None) -> dict:
    """The context of one document of `deal`; a supplier order holds only that supplier's lines."""
    with translation.override("ru"):
        lines = list(deal.lines.select_related("supplier").order_by("position", "id"))
        if supplier is not None:
            lines = [ln for ln in lines if ln.supplier_id == supplier.pk]
        total = sum((ln.total for ln in lines), Decimal("0"))
        currency = deal.currency or "RUB"
        today = today or date.today()
        return {
            "deal": {"id": deal.pk, "number": deal.external_id or str(deal.pk), "title": deal.title,
                     "amount": money_text(deal.amount, currency), "amount_value": str(deal.amount),
                     "amount_in_words": amount_in_words(deal.amount, currency), "currency": currency,
                     "lines": [line_dict(i, ln, currency) for i, ln in enumerate(lines, 1)],
                     "lines_total": money_text(total, currency),
                     "lines_total_in_words": amount_in_words(total, currency),
                     "created": formats.date_format(deal.created_at.date(), "SHORT_DATE_FORMAT"),
                     "stage": deal.stage.name, "pipeline": deal.pipeline.name, "external_id": deal.external_id},
            "contact": contact_dict(deal.contact),
            "company": company_dict(deal.company),
            "our": company_dict(our),
            "supplier": supplier_dict(supplier),
            "date": formats.date_format(today, "SHORT_DATE_FORMAT"),
            "document": {"number": str(number or ""), "year": str(year or ""), "title": title, "kind": kind},
        }


def _sample_line() -> dict:
    return {k: "1" for k in LINE_KEYS} | {"n": 1}


# What an uploaded template is rendered with to prove every name it uses exists.
SAMPLE_CONTEXT = {
    "deal": {**dict.fromkeys(DEAL_KEYS, "1"), "lines": [_sample_line()]},
    "contact": dict.fromkeys(CONTACT_KEYS, "x"),
    "company": dict.fromkeys(COMPANY_KEYS, "x"),
    "our": dict.fromkeys(COMPANY_KEYS, "x"),
    "supplier": {**dict.fromkeys(SUPPLIER_KEYS, "x"), "custom": FreeFields()},
    "date": "01.01.2026",
    "document": dict.fromkeys(DOCUMENT_KEYS, "1"),
}
