"""Writes of robots: set them up (administrators), retry a run that waits for a person."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from okno.core.access import require_admin
from okno.people.models import User
from okno.robots.models import Robot, RobotRun
from okno.robots.rules import robot_data_clean

ADMIN_ONLY = "Only an administrator sets up robots"


def _webhook_endpoint(fields: dict, *, actor: User) -> None:
    """A robot calling a URL gets its own endpoint (signed, retried, listed like the others)."""
    from okno.robots.outbound import robot_webhook_endpoint

    params = fields.get("action_params") or {}
    if fields.get("action") == Robot.Action.WEBHOOK and params.get("url") and not params.get("endpoint_id"):
        endpoint = robot_webhook_endpoint(url=params["url"], allow_private_network=params["allow_private_network"],
                                          actor=actor, description=f"robot: {fields.get('name') or params['url']}")
        params["endpoint_id"] = endpoint.pk


@transaction.atomic
def robot_create(*, actor: User, data: dict) -> Robot:
    """A new robot of a stage (or of leads), last in its list. Every bad value is named.

    A robot starts with the deals that enter its stage from now on; deals already there are
    not touched (Bitrix24 does the same: a robot is a rule for arrivals)."""
    require_admin(actor, ADMIN_ONLY)
    fields = robot_data_clean(data, actor=actor)
    _webhook_endpoint(fields, actor=actor)
    scope = Robot.objects.filter(stage_id=fields["stage_id"]) if fields["stage_id"] else \
        Robot.objects.filter(for_leads=True)
    fields["position"] = (scope.aggregate(m=Max("position"))["m"] or 0) + 1
    return Robot.objects.create(**fields)


@transaction.atomic
def robot_update(*, actor: User, robot: Robot, data: dict) -> Robot:
    """Changes what is given; open deadlines and queued runs keep the times they were given."""
    require_admin(actor, ADMIN_ONLY)
    fields = robot_data_clean(data, robot=robot, actor=actor)
    _webhook_endpoint(fields, actor=actor)
    if "position" in data and isinstance(data["position"], int) and not isinstance(data["position"], bool):
        fields["position"] = max(0, data["position"])
    for name, value in fields.items():
        setattr(robot, name, value)
    robot.save()
    return robot


@transaction.atomic
def robot_delete(*, actor: User, robot: Robot) -> None:
    """Deletes the robot with its open deadlines and queued runs (its log goes with it)."""
    require_admin(actor, ADMIN_ONLY)
    robot.delete()


def robot_run_retry(*, actor: User, run: RobotRun) -> RobotRun:
    """"Run again" for a failed or waiting run: pending now, attempts counted afresh."""
    require_admin(actor, "Only an administrator retries robots")
    if run.status in RobotRun.PROBLEMS:
        RobotRun.objects.filter(pk=run.pk, status__in=RobotRun.PROBLEMS).update(
            status=RobotRun.Status.PENDING, attempts=0, run_after=timezone.now(), locked_until=None,
            finished_at=None)
        run.refresh_from_db()
    return run
