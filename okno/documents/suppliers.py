"""The suppliers directory: create and update, every refused value named with its reason.

Suppliers are a company-wide list (any signed-in person reads it to pick a line's supplier);
only administrators and heads change it, as they do other shared lists.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from okno.core.emails import normalize_email
from okno.core.errors import FieldError
from okno.core.phones import InvalidPhone, normalize_phone
from okno.core.text import fold
from okno.deals.models import Supplier
from okno.people.models import User

MAX_CUSTOM_FIELDS = 30


@dataclass
class SupplierData:
    name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    terms: str = ""
    custom: dict = field(default_factory=dict)
    is_active: bool = True


def may_edit_suppliers(user: User) -> bool:
    return bool(getattr(user, "is_admin", False) or getattr(user, "role", "") == User.Role.HEAD)


def _clean(data: SupplierData) -> dict:
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = "a supplier needs a name"
    elif len(name) > 300:
        errors["name"] = "at most 300 characters"
    emails = []
    for i, raw in enumerate(e for e in data.emails if str(e).strip()):
        try:
            emails.append(normalize_email(str(raw)))
        except Exception:
            errors[f"emails[{i}]"] = "not a valid e-mail address"
    phones = []
    for i, raw in enumerate(p for p in data.phones if str(p).strip()):
        try:
            phones.append({"e164": normalize_phone(str(raw)).e164, "extension": ""})
        except InvalidPhone:
            errors[f"phones[{i}]"] = "a phone number in international format, e.g. +79161234567"
    if not isinstance(data.custom, dict):
        errors["custom"] = "must be an object of names and values"
        custom = {}
    else:
        custom = {str(k).strip()[:100]: str(v)[:1000] for k, v in data.custom.items() if str(k).strip()}
        if len(custom) > MAX_CUSTOM_FIELDS:
            errors["custom"] = f"at most {MAX_CUSTOM_FIELDS} fields"
    if len(data.terms or "") > 10000:
        errors["terms"] = "at most 10000 characters"
    if errors:
        raise FieldError(errors)
    return {"name": name, "search_name": fold(name), "emails": list(dict.fromkeys(emails)),
            "phones": phones, "terms": (data.terms or "").strip(), "custom": custom,
            "is_active": bool(data.is_active)}


def supplier_create(*, data: SupplierData, actor: User) -> Supplier:
    """A new supplier of the directory (administrators and heads)."""
    if not may_edit_suppliers(actor):
        raise PermissionDenied("Only an administrator or a head may change suppliers")
    return Supplier.objects.create(created_by=actor, **_clean(data))


def supplier_update(*, supplier: Supplier, data: SupplierData, actor: User) -> Supplier:
    """Replaces a supplier's fields (the lines and documents naming it keep pointing at it)."""
    if not may_edit_suppliers(actor):
        raise PermissionDenied("Only an administrator or a head may change suppliers")
    for key, value in _clean(data).items():
        setattr(supplier, key, value)
    supplier.save()
    return supplier


def suppliers_list(*, q: str = "", include_inactive: bool = False) -> QuerySet[Supplier]:
    qs = Supplier.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if q.strip():
        qs = qs.filter(search_name__contains=fold(q.strip()))
    return qs.order_by("name", "id")


def deal_line_supplier_set(*, line, supplier: Supplier | None, actor: User):
    """Names (or clears) the supplier of one of a deal's lines: who the supplier order for it
    goes to. The caller has read the deal through the visibility check."""
    if supplier is not None and not supplier.is_active:
        raise FieldError({"supplier_id": "this supplier is archived"})
    line.supplier = supplier
    line.save(update_fields=["supplier"])
    return line
