"""Reads of robots: a pipeline's robots, a deal's deadlines and robot log, the problems list."""

from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from okno.core.reasons import reason_text
from okno.robots.models import Deadline, RegisterEntry, Robot, RobotRun

# Fixed results and errors of runs, offered for translation (pages show them via reason_text).
KNOWN_RESULTS = [
    gettext_noop("the deal left the stage"), gettext_noop("the robot is switched off"),
    gettext_noop("the deal left the stage and came back: the new stay has its own run"),
    gettext_noop("the robot is gone"), gettext_noop("the deal is gone"), gettext_noop("nobody to notify"),
    gettext_noop("already in the stage"), gettext_noop("webhook queued"), gettext_noop("the lead is closed"),
    gettext_noop("the deal left the stage: not reassigned"), gettext_noop("the deal left the stage: not moved"),
    gettext_noop("no escalation"), gettext_noop("the customer has no e-mail address"),
    gettext_noop("the customer has no phone number"), gettext_noop("the template is gone"),
    gettext_noop("the stage to move to is gone"), gettext_noop("the webhook endpoint is gone"),
    gettext_noop("the person to assign is gone or inactive"),
    gettext_noop("nobody of the department is at work to take it"),
]


def _iso(value):
    return value.isoformat() if value is not None else None


def deal_deadlines(deal) -> list[dict]:
    """The deal's deadlines for its GET and page: open ones first, then the history."""
    rows = Deadline.objects.filter(deal_id=deal.pk).select_related("robot").order_by("-created_at", "-id")[:50]
    return [{"id": d.id, "robot_id": d.robot_id, "name": d.robot.name, "level": d.level, "due_at": _iso(d.due_at),
             "status": d.status, "closed_at": _iso(d.closed_at), "escalated_at": _iso(d.escalated_at)}
            for d in rows]


def deal_robot_log(deal) -> list[dict]:
    """The deal's last robot runs for its page and GET (`robot_runs`)."""
    return [run_as_data(r) for r in deal_robot_runs(deal=deal, limit=50)]


def deal_robot_runs(*, deal, limit: int = 200) -> QuerySet[RobotRun]:
    """The deal's robot log, newest first (the caller checked that the deal is visible)."""
    return RobotRun.objects.filter(deal_id=deal.pk).select_related("robot").order_by("-created_at", "-id")[:limit]


def robots_of_pipeline(*, pipeline_id: int | None) -> QuerySet[Robot]:
    qs = Robot.objects.select_related("stage").order_by("stage__position", "position", "id")
    return qs.filter(pipeline_id=pipeline_id) if pipeline_id is not None else qs.filter(for_leads=True)


def robot_problems(*, status: str = "") -> QuerySet[RobotRun]:
    statuses = [status] if status in RobotRun.PROBLEMS else list(RobotRun.PROBLEMS)
    return (RobotRun.objects.filter(status__in=statuses)
            .select_related("robot", "deal", "lead", "robot__stage", "robot__pipeline").order_by("-id"))


def register_entries(*, name: str) -> QuerySet[RegisterEntry]:
    return RegisterEntry.objects.filter(name=name).select_related("deal").order_by("at", "id")


def run_as_data(run: RobotRun) -> dict:
    robot = run.robot
    what = robot.get_escalation_display() if run.purpose == "escalation" else robot.get_action_display()
    return {"id": run.pk, "robot_id": run.robot_id, "robot": str(robot), "purpose": run.purpose,
            "summary": f"{robot.name or what}: {reason_text(run.result)}" if run.result else str(robot.name or what),
            "action": run.robot.action or run.robot.escalation, "deal_id": run.deal_id, "lead_id": run.lead_id,
            "status": run.status, "due_at": _iso(run.due_at), "run_after": _iso(run.run_after),
            "attempts": run.attempts, "result": run.result, "error": run.error.split("\n\n")[0],
            "created_at": _iso(run.created_at), "finished_at": _iso(run.finished_at)}
