"""A template's preview over a real deal, looked up through deals' visibility rule.

Deals must not import the outbox (the outbox reacts to deals), so the outbox registers this
look-up itself (from its apps.py) instead of deals registering with it."""

from django.http import Http404

from okno.deals.selectors import deal_get
from okno.outbox.templating import template_context


def deal_preview_context(user, deal_id: int) -> dict | None:
    """The template fields of a deal the user may see, or None (no such deal, or not theirs)."""
    try:
        deal = deal_get(user=user, pk=deal_id)
    except Http404:
        return None
    return template_context(deal=deal, contact=deal.contact, company=deal.company)
