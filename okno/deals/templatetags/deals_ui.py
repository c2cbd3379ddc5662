"""Template filters of the deal pages: money in the reader's language, a deal's age, the
kanban card and its quick fields."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils import numberformat, timezone
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from okno.deals.quick_fields import quick_value_text

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


@register.simple_tag(takes_context=True)
def deal_card(context, deal) -> str:
    """One kanban card. Built here rather than in a template: the board draws 100 of them, and a
    template include per card (with every value localised on the way out) cost 25 ms of a ~75 ms
    page on the benchmark's machine; this costs a fifth of that. deals/_card.html calls it too,
    so the board, "load more" and a drop's answer draw the same card."""
    base = context.get("deal_base") or reverse("deals:list")
    currency_format = money_text(deal.amount, deal.currency)
    overdue = format_html('<span class="badge badge-off overdue-mark" title="{}">{}</span>',
                          _("A deadline of this stage was missed"), _("overdue")) if deal.is_overdue else ""
    contact = format_html('<div class="deal-contact">{}</div>', str(deal.contact)) if deal.contact_id else ""
    responsible = format_html('<span class="deal-responsible">{}</span> · ', deal.responsible.display_name) \
        if deal.responsible_id else ""
    # The pipeline's quick fields, read once per board by the view (okno.deals.quick_fields).
    quick = format_html_join("", "{}", ((quick_field_html(deal, spec, "card", base),)
                                        for spec in context.get("quick_fields") or ()))
    return format_html(
        '<article class="deal-card{}" id="deal-card-{}" draggable="true" data-deal-id="{}" data-move-url="{}{}/move/">'
        '<a class="deal-title" href="{}{}/" draggable="false">{}</a>{}{}'
        '<div class="deal-amount">{}</div>{}'
        '<div class="deal-meta small muted">{}<span class="deal-age">{}</span></div></article>',
        " is-overdue" if deal.is_overdue else "", deal.pk, deal.pk, base, deal.pk, base, deal.pk, deal.title,
        overdue, contact, currency_format, quick, responsible, age_text(deal.created_at),
    )


def quick_field_html(deal, spec, place: str, base: str | None = None) -> str:
    """One quick field shown (its label and value); a click asks for its small form in place
    (okno.deals.views_quick). `place` is "card" (the board) or "page" (the deal page): the
    element's id holds it, so both could be on one screen."""
    base = base or reverse("deals:list")
    text = quick_value_text(spec, (deal.custom or {}).get(spec.key))
    url = f"{base}{deal.pk}/quick/{spec.key}/?place={place}"
    return format_html(
        '<div class="quick-field quick-{}" id="quick-{}-{}-{}"><span class="quick-label">{}</span> '
        '<button type="button" class="btn-link quick-value{}" hx-get="{}&amp;edit=1" hx-target="closest .quick-field" '
        'hx-swap="outerHTML" title="{}">{}</button></div>',
        spec.key, place, deal.pk, spec.key, spec.label, "" if text else " is-empty", url,
        _("Edit: %(field)s") % {"field": spec.label}, text or "—",
    )


@register.simple_tag
def quick_field(deal, spec, place: str = "page") -> str:
    return quick_field_html(deal, spec, place)
