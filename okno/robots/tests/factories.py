"""Robots' test data: a store pipeline on a Mon-Fri 09:00-18:00 calendar, robots made through
the service (as an administrator's form makes them), time passed in by moving rows' clocks."""

from datetime import timedelta

from django.utils import timezone

from okno.core.models import Calendar
from okno.deals.tests.factories import PipelineFactory
from okno.people.models import User
from okno.people.tests.factories import UserFactory
from okno.robots.models import Deadline, RobotRun
from okno.robots.services import robot_create

WEEK = {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00",
        "fri": "09:00-18:00"}


def make_admin() -> User:
    return UserFactory(role=User.Role.ADMIN, username=f"admin{User.objects.count()}")


def store_pipeline(*, wall_clock: bool = False):
    """The store's pipeline; its calendar Mon-Fri 09-18 Moscow, no holidays (country "")."""
    calendar = Calendar.objects.create(name="Офис", timezone="Europe/Moscow", hours=WEEK, country="")
    pipeline = PipelineFactory()
    pipeline.calendar = calendar
    pipeline.save()
    return pipeline


def stages(pipeline):
    return list(pipeline.stages.order_by("position", "id"))


def make_robot(**data):
    return robot_create(actor=make_admin(), data=data)


def fall_due(qs=None, *, ago: float = 1) -> None:
    """Time passes: the deadlines (or runs) given fell due `ago` seconds ago."""
    past = timezone.now() - timedelta(seconds=ago)
    if qs is None:
        qs = Deadline.objects.filter(status=Deadline.Status.OPEN)
    qs.update(due_at=past, run_after=past)


def runs_due(qs=None) -> None:
    qs = qs if qs is not None else RobotRun.objects.filter(status=RobotRun.Status.PENDING)
    qs.update(run_after=timezone.now() - timedelta(seconds=1))
