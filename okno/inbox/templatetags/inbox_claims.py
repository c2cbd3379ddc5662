"""The card's view of phones a customer claimed in a chat (okno.inbox.claims), for the person looking."""

from django import template

from okno.inbox.claims import phone_claims_for_viewer

register = template.Library()


@register.simple_tag(takes_context=True)
def phone_claims_of(context, message) -> list:
    """The message's claims as the viewer may see them; [] (no query) for a message without any."""
    meta = message.meta if isinstance(message.meta, dict) else {}
    user = context.get("user")
    if not meta.get("phone_claims") or user is None:
        return []
    return phone_claims_for_viewer(user=user, message=message)
