"""The sidebar's inbox items (registered from InboxConfig.ready)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.core import navigation
from okno.core.navigation import Counter
from okno.inbox.models import InboundEvent


def failed_events_counter(user) -> Counter | None:
    """Failed inbound events: one indexed count (the (status, run_after) index), administrators only."""
    failed = InboundEvent.objects.filter(status=InboundEvent.Status.FAILED).count()
    return Counter(failed, alert=True, title=gettext("failed events")) if failed else None


def register() -> None:
    navigation.register_item(navigation.COMMUNICATIONS, "inbox_problems", _("Inbox problems"), "inbox:problems",
                             order=20, counter=failed_events_counter, visible=navigation.admins_only)
    navigation.register_item(navigation.SETTINGS, "channels", _("Channels"), "inbox:channels", order=20,
                             visible=navigation.admins_only)
