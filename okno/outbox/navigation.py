"""The outbox's sidebar counter (the items themselves are registered by okno.home.navigation)."""

from django.utils.translation import gettext as _

from okno.core.navigation import Counter
from okno.outbox.models import OutboxMessage


def problems_counter(user) -> Counter | None:
    """Messages that gave up after every retry: one indexed count (outbox_status), administrators only."""
    n = OutboxMessage.objects.filter(status=OutboxMessage.Status.GAVE_UP).count()
    return Counter(n, alert=True, title=_("messages not sent")) if n else None
