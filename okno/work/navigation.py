"""The sidebar's "My work": open items of mine and my department's queue, red when some are late."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.core import navigation
from okno.core.navigation import Counter
from okno.work.selectors import work_items_open_count


def open_counter(user) -> Counter | None:
    count, overdue = work_items_open_count(user)
    if not count:
        return None
    title = gettext("%(n)s overdue") % {"n": overdue} if overdue else gettext("open")
    return Counter(count, alert=bool(overdue), title=title)


def register() -> None:
    navigation.register_item(navigation.WORK, "my_work", _("My work"), "work:mine", order=15, counter=open_counter)
    register_board()
    register_screen()
    register_queue()


def register_board() -> None:
    """The supervisor board (issue 18): heads and administrators."""
    navigation.register_item(navigation.WORK, "work_board", _("Supervisor board"), "work:board", order=16,
                             visible=navigation.heads_and_admins)


def register_screen() -> None:
    """The manager screen (issue 18): Next, the call, the outcome, for everyone who works a queue."""
    navigation.register_item(navigation.WORK, "work_screen", _("Manager screen"), "work:screen", order=10)


def register_queue() -> None:
    """The head's queue (issue 18): what waits, assigned by hand; heads and administrators."""
    navigation.register_item(navigation.WORK, "work_queue", _("Queue"), "work:queue", order=17,
                             visible=navigation.heads_and_admins)
