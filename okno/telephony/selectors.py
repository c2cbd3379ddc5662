"""Calls as a user may see them: those on the cards the user sees (okno.people.visibility)."""

from django.db.models import QuerySet

from okno.people.models import User
from okno.people.visibility import contact_visibility_q
from okno.telephony.models import Call


def calls_visible(*, user: User) -> QuerySet:
    """Calls on cards the user may see; a call with no card (a hidden number) only administrators see."""
    return Call.objects.filter(contact_visibility_q(user, prefix="contact__"))
