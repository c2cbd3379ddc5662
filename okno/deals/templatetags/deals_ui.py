"""Template filters of the deal pages: money in the reader's language, a deal's age."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import numberformat, timezone
from django.utils.formats import get_format
from django.utils.translation import ngettext

register = template.Library()

# Currency signs written after the amount, as Russian and most of the CIS write them; the
# code itself for a currency not listed here.
SIGNS = {"RUB": "₽", "KZT": "₸", "BYN": "Br", "UZS": "сўм", "USD": "$", "EUR": "€"}


def money_text(amount: Decimal | None, currency: str = "RUB") -> str:
    """`Decimal("1500")` -> "1 500,00 ₽" in Russian, "1,500.00 ₽" in English (Django's locale
    formats, grouping forced: money is grouped even where USE_THOUSAND_SEPARATOR is off)."""
    if amount is None:
        amount = Decimal("0")
    number = numberformat.format(
        amount, get_format("DECIMAL_SEPARATOR"), decimal_pos=2, grouping=get_format("NUMBER_GROUPING"),
        thousand_sep=get_format("THOUSAND_SEPARATOR"), force_grouping=True,
    )
    return f"{number}\xa0{SIGNS.get(currency, currency)}"


@register.filter
def money(amount, currency: str = "RUB") -> str:
    return money_text(amount, currency or "RUB")


def age_text(since: datetime | None, now: datetime | None = None) -> str:
    """A deal's age for a card: minutes, hours or days, short."""
    if since is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - since).total_seconds()))
    if seconds < 3600:
        minutes = seconds // 60
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    if seconds < 86400:
        hours = seconds // 3600
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = seconds // 86400
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@register.filter
def age(since) -> str:
    return age_text(since)
