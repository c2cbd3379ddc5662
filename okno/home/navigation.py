"""The sidebar's "My day" item: its counter is what is overdue for the user."""

from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from okno.core import navigation
from okno.core.navigation import Counter
from okno.home import selectors


def overdue_counter(user) -> Counter | None:
    """Missed deadlines of my deals plus my overdue work items: one indexed COUNT each."""
    count = selectors.deadlines_missed_count(user=user) + selectors.work_items_overdue_count(user=user)
    return Counter(count, alert=True, title=_gettext("overdue")) if count else None


def register() -> None:
    navigation.register_item(navigation.WORK, "my_day", _("My day"), "home:index", order=10, counter=overdue_counter)
