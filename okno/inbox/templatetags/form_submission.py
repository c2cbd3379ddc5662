"""A web form's submission as the customer filled it in: labelled fields, the page once, UTM in one line.

Reads what the form adapters store (okno/inbox/adapters/form.py): the submitted fields in the
message's `meta["fields"]`, the page and UTM tags on the conversation. Field names are matched
as loosely as the adapter matches them (name/имя, phone/телефон...), so a site's own input names
get our translated labels; any other field keeps its own name.
"""

from urllib.parse import urlsplit

from django import template
from django.utils.translation import gettext_lazy as _

from okno.inbox.adapters.form import (
    EMAIL_FIELDS,
    NAME_FIELDS,
    PAGE_FIELDS,
    PHONE_FIELDS,
    SERVICE_FIELDS,
    TEXT_FIELDS,
    UTM_FIELDS,
)

register = template.Library()

# (label, the field names it covers, lower case), in the order a form usually asks.
KNOWN = [
    (_("Name"), NAME_FIELDS + ("last_name", "surname", "фамилия")),
    (_("Phone"), PHONE_FIELDS),
    (_("E-mail"), EMAIL_FIELDS),
    (_("Company"), ("company", "company_name", "organization", "organisation", "компания", "организация")),
    (_("City"), ("city", "город")),
    (_("Message"), TEXT_FIELDS),
]
# Our bookkeeping and the spam trap, never what the customer wrote (the subject shows formname).
HIDDEN = {*SERVICE_FIELDS, "formname", "website", "cookies", "_honeypot", "csrfmiddlewaretoken"}
UTM_NAMES = {name: name[4:] for name in UTM_FIELDS}


def _safe_url(url: str) -> str:
    """A page to link to: http(s) only (a `javascript:` "page" is shown as text by the caller)."""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else ""


@register.simple_tag
def form_submission(conv) -> dict:
    """{"fields": [(label, value)], "page": str, "page_link": str, "utm": [(tag, value)]} of a FORM conversation."""
    messages = getattr(conv, "message_list", None)
    if messages is None:
        messages = list(conv.messages.all())
    fields = (messages[0].meta.get("fields") if messages else None) or {}
    if not isinstance(fields, dict):
        fields = {}
    by_lower = {str(k).lower(): (str(k), "" if v is None else str(v).strip()) for k, v in fields.items()}
    shown: list[tuple[str, str]] = []
    used: set[str] = set()
    for label, names in KNOWN:
        values = [by_lower[n][1] for n in names if n in by_lower and by_lower[n][1]]
        used.update(n for n in names if n in by_lower)
        if values:
            shown.append((label, " ".join(dict.fromkeys(values))))
    page = (conv.page_url or "").strip()
    for name in PAGE_FIELDS:
        if name in by_lower:
            used.add(name)
            page = page or by_lower[name][1]
    utm = dict((conv.utm or {}).items()) if isinstance(conv.utm, dict) else {}
    for name, tag in UTM_NAMES.items():
        if name in by_lower:
            used.add(name)
            if by_lower[name][1]:
                utm.setdefault(tag, by_lower[name][1])
    for lower, (name, value) in by_lower.items():
        if lower in used or lower in HIDDEN or not value:
            continue
        shown.append((name, value))
    order = [name[4:] for name in UTM_FIELDS]
    utm_list = sorted(((str(k), str(v)) for k, v in utm.items() if v),
                      key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))
    return {"fields": shown, "page": page, "page_link": _safe_url(page), "utm": utm_list}
