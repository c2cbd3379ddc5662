"""`{{ text|reason }}`: a service's stored English reason (a run's error, a refusal) in the reader's language."""

from django import template

from okno.core.reasons import reason_text

register = template.Library()


@register.filter
def reason(text: str) -> str:
    return reason_text(text) if text else text


@register.filter
def reasons(items, separator: str = ", ") -> str:
    """`{{ d.reasons|reasons:", " }}`: a list of stored English reasons (a duplicate's evidence),
    each in the reader's language."""
    return separator.join(reason_text(str(item)) for item in (items or []) if item)
