"""Message templates: Django template syntax over the documented fields of a deal, contact and company.

Sandboxed. The context holds plain values only (strings, numbers, Decimal, dates, lists and
`Fields`, a dict that answers no attribute but items/keys/values), built from the documented
fields: a template cannot walk from `deal` to its responsible's password hash, or call a
model's method. It is rendered by its own Engine whose only built-ins are
okno/outbox/template_library.py (no `load`, `include`, `url`, `debug`), with autoescaping off,
since e-mails are plain text and SMS are not HTML.

Fields (docs/outbox.md):
  deal: title, amount, currency, stage, pipeline, responsible, number, external_id, custom
  contact: first_name, last_name, middle_name, full_name, phone, email
  company: name
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal

from django.template import Context, Engine, TemplateSyntaxError

from okno.core.errors import FieldError

MAX_SOURCE_CHARS = 20_000
MAX_OUTPUT_CHARS = {"sms": 1000, "email": 100_000}
_ALLOWED_METHODS = frozenset({"items", "keys", "values"})


class Fields(dict):
    """A template's record: keys only, no attributes (so no method a template could reach)."""

    def __getattribute__(self, name):
        if name.startswith("__") or name in _ALLOWED_METHODS:
            return super().__getattribute__(name)
        raise AttributeError(name)

    def __dir__(self):
        # Django re-raises a failed lookup of a name the object lists; a dict's own methods are no field.
        return sorted(_ALLOWED_METHODS)


def plain(value, depth: int = 0):
    """A JSON-like copy of `value` with every mapping a Fields; anything else becomes its text."""
    if depth > 6:
        return ""
    if value is None or isinstance(value, bool | int | float | Decimal | str | date | datetime):
        return value
    if isinstance(value, Mapping):
        return Fields({str(k): plain(v, depth + 1) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value[:1000]]
    return str(value)


class _SandboxEngine(Engine):
    default_builtins = ["okno.outbox.template_library"]


_engine = _SandboxEngine(dirs=[], app_dirs=False, libraries={}, autoescape=False, string_if_invalid="", debug=False,
                         loaders=[])


def _get(obj, name: str, default=""):
    if obj is None:
        return default
    value = obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)
    return default if value is None else value


def _name(obj, *attrs) -> str:
    for attr in attrs:
        value = _get(obj, attr, "")
        if value:
            return str(value)
    return "" if obj is None else str(obj)


def _first(related, attr: str) -> str:
    """The first related row's attribute (a contact's phone or e-mail), or the value itself."""
    if related is None or isinstance(related, str):
        return related or ""
    rows = related.all()[:1] if hasattr(related, "all") else list(related)[:1]
    return str(_get(rows[0], attr, "")) if rows else ""


def template_context(*, deal=None, contact=None, company=None) -> dict:
    """The documented fields of a deal, contact and company (any objects or dicts with those names).

    The contact and company default to the deal's; the company to the contact's."""
    if contact is None and deal is not None:
        contact = _get(deal, "contact", None)
    if company is None:
        company = _get(deal, "company", None) or _get(contact, "company", None)
    context = {}
    if deal is not None:
        amount = _get(deal, "amount", Decimal("0"))
        context["deal"] = {
            "title": str(_get(deal, "title")),
            "amount": amount if isinstance(amount, Decimal) else Decimal(str(amount)),
            "currency": str(_get(deal, "currency")), "stage": _name(_get(deal, "stage", None), "name"),
            "pipeline": _name(_get(deal, "pipeline", None), "name"),
            "responsible": _name(_get(deal, "responsible", None), "display_name", "name") if _get(
                deal, "responsible", None) else "",
            "number": _get(deal, "number", None) or _get(deal, "pk", None) or _get(deal, "id", ""),
            "external_id": str(_get(deal, "external_id")), "custom": dict(_get(deal, "custom", {}) or {}),
        }
    if contact is not None:
        first, last, middle = (str(_get(contact, f)) for f in ("first_name", "last_name", "middle_name"))
        phone = _get(contact, "phone", None) or _first(_get(contact, "phones", None), "e164")
        email = _get(contact, "email", None) or _first(_get(contact, "emails", None), "email")
        context["contact"] = {
            "first_name": first, "last_name": last, "middle_name": middle,
            "full_name": str(_get(contact, "full_name", "") or " ".join(p for p in (last, first, middle) if p)),
            "phone": str(phone or ""), "email": str(email or ""),
        }
    if company is not None:
        context["company"] = {"name": _name(company, "name")}
    return context


def _render_one(field: str, source: str, context: dict, limit: int) -> str:
    if len(source) > MAX_SOURCE_CHARS:
        raise FieldError({field: f"at most {MAX_SOURCE_CHARS} characters"})
    try:
        text = _engine.from_string(source).render(Context(plain(context), autoescape=False))
    except TemplateSyntaxError as exc:
        raise FieldError({field: f"does not parse: {exc}"}) from exc
    except Exception as exc:  # a filter that failed on a value: the person sees which field
        raise FieldError({field: f"does not render: {type(exc).__name__}: {exc}"}) from exc
    if len(text) > limit:
        raise FieldError({field: f"renders to more than {limit} characters"})
    return text


def template_render(*, template, context: dict) -> tuple[str, str]:
    """(subject, body) of a template (an object or dict with channel, subject, body) over `context`.

    Raises FieldError({"subject"|"body": reason}) when either does not parse or render."""
    channel = str(_get(template, "channel", "email") or "email")
    limit = MAX_OUTPUT_CHARS.get(channel, MAX_OUTPUT_CHARS["email"])
    subject = _render_one("subject", str(_get(template, "subject")), context, 500).strip()
    body = _render_one("body", str(_get(template, "body")), context, limit)
    return subject, body


# What a template is checked against when saved, and previewed with when no deal is given.
SAMPLE_CONTEXT = {
    "deal": {"title": "Заказ №1024", "amount": Decimal("15900.00"), "currency": "RUB", "stage": "Новый",
             "pipeline": "Заказы", "responsible": "Анна Менеджерова", "number": 1024, "external_id": "A-1024",
             "custom": {}},
    "contact": {"first_name": "Иван", "last_name": "Петров", "middle_name": "Сергеевич",
                "full_name": "Петров Иван Сергеевич", "phone": "+79161234567", "email": "ivan@example.ru"},
    "company": {"name": "ООО Ромашка"},
}


# Filled by the app that owns deals: (user, deal_id) -> template_context(...) of a deal that user
# may see, or None. Lets the preview use a real deal without the outbox importing deals.
_deal_context: Callable | None = None


def register_deal_context(fn: Callable) -> None:
    global _deal_context
    _deal_context = fn


def deal_context(*, user, deal_id: int) -> dict:
    if _deal_context is None:
        raise FieldError({"deal_id": "previews with a deal are not available yet"})
    context = _deal_context(user, deal_id)
    if context is None:
        raise FieldError({"deal_id": "no such deal"})
    return context
