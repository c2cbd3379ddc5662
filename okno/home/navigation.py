"""The sidebar's "My day" item: its counter is what is overdue for the user."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.core import navigation
from okno.core.navigation import Counter
from okno.home import selectors


def overdue_counter(user) -> Counter | None:
    """What is overdue for me: my deals marked overdue (a deadline of their stage missed), missed
    deadlines of my open leads, my overdue work items; one indexed COUNT each."""
    count = (selectors.overdue_deals_count(user=user) + selectors.lead_deadlines_missed_count(user=user)
             + selectors.work_items_overdue_count(user=user))
    return Counter(count, alert=True, title=gettext("overdue")) if count else None


def register() -> None:
    navigation.register_item(navigation.WORK, "my_day", _("My day"), "home:index", order=10, counter=overdue_counter)
    register_settings_pages()


def register_settings_pages() -> None:
    """Pages of apps built alongside the shell (issue 12) that do not register themselves yet.
    By URL name only (no import): an item whose page is not there is simply not shown. The
    owning app may move its lines into its own apps.py; the keys stay the same."""
    S, C = navigation.SETTINGS, navigation.COMMUNICATIONS
    admins = navigation.admins_only
    navigation.register_item(S, "calendars", _("Business calendars"), "calendars:index", order=40, visible=admins,
                             match=("/settings/calendars/",))
    navigation.register_item(S, "webhooks", _("Webhooks"), "outbox:endpoints", order=70, visible=admins)
    navigation.register_item(S, "templates", _("Templates"), "outbox:templates", order=80, visible=admins)
    navigation.register_item(S, "sms_providers", _("SMS providers"), "outbox:sms_providers", order=85, visible=admins)
    navigation.register_item(C, "outbox_problems", _("Sending problems"), "outbox:problems", order=30, visible=admins)
