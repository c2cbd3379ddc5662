"""The sidebar's robot items (registered from RobotsConfig.ready)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.core import navigation
from okno.core.navigation import Counter
from okno.robots.models import RobotRun


def problems_counter(user) -> Counter | None:
    # One COUNT on the partial index of failed and waiting runs.
    count = RobotRun.objects.filter(status__in=RobotRun.PROBLEMS).count()
    return Counter(count, alert=True, title=gettext("robot runs waiting for a person")) if count else None


def register() -> None:
    admins = navigation.admins_only
    navigation.register_item(navigation.SETTINGS, "robots", _("Robots"), "robots:index", order=50, visible=admins,
                             match=("/robots/pipelines/", "/robots/leads/", "/robots/new/"))
    navigation.register_item(navigation.COMMUNICATIONS, "robot_problems", _("Robot problems"), "robots:problems",
                             order=35, counter=problems_counter, visible=admins)
