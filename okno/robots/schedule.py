"""When a robot's deadline falls due and when its action runs, counted on the business calendar.

One place computes both for the subscribers (which write the rows) and for the dry run (which
writes nothing), so what the settings page promises is what the drain does.
"""

import logging
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from okno.core.calendar import NoWorkingTime, WorkCalendar, work_calendar_for
from okno.core.durations import parse_iso_duration
from okno.robots.models import Robot
from okno.robots.rules import trigger_time

log = logging.getLogger(__name__)


def calendar_for_pipeline(pipeline) -> WorkCalendar:
    """The pipeline's calendar, else its department's, else the company's default."""
    department = pipeline.department if pipeline.department_id else None
    return work_calendar_for(pipeline.calendar if pipeline.calendar_id else None,
                             department.calendar if department is not None and department.calendar_id else None)


def calendar_for_department(department) -> WorkCalendar:
    return work_calendar_for(department.calendar if department is not None and department.calendar_id else None)


def deadline_due(robot: Robot, start: datetime, cal: WorkCalendar) -> datetime:
    """A deadline robot's due time for a clock started at `start` (entering the stage; for a
    level-2 deadline, the level-1 miss).

    A calendar with no working time at all (every day off) counts in wall time instead, so that
    a move never fails on a calendar's settings: by the end of the day is then local midnight."""
    try:
        if robot.until == Robot.Until.END_OF_WORKING_DAY:
            return cal.end_of_working_day(start)
        return cal.add(start, parse_iso_duration(robot.within), working=robot.time == Robot.Time.WORKING)
    except NoWorkingTime:
        log.warning("robot %s: the calendar has no working time; counted in wall time", robot.pk)
        if robot.until:
            local = start.astimezone(cal.zone)
            return datetime.combine(local.date() + timedelta(days=1), time.min, cal.zone)
        return start + parse_iso_duration(robot.within)


def action_run_at(robot: Robot, start: datetime, cal: WorkCalendar) -> datetime | None:
    """When an action robot runs for a deal entering its stage at `start`; None: not on entry
    (an event robot, or a condition that does not hold yet)."""
    p = robot.trigger_params or {}
    if robot.trigger == Robot.Trigger.ENTER:
        return start
    try:
        if robot.trigger == Robot.Trigger.AFTER:
            return cal.add(start, parse_iso_duration(p["after"]),
                           working=p.get("time", "working") == Robot.Time.WORKING)
        if robot.trigger == Robot.Trigger.AT:
            return cal.next_time_of_day(start, trigger_time(p))
    except NoWorkingTime:  # as deadline_due: wall time rather than a failed move
        log.warning("robot %s: the calendar has no working time; counted in wall time", robot.pk)
        if robot.trigger == Robot.Trigger.AFTER:
            return start + parse_iso_duration(p["after"])
        return cal.next_time_of_day(start, trigger_time(p), working_days_only=False)
    return None


def due_after(cal: WorkCalendar, start: datetime, duration: str, *, working: bool) -> datetime:
    try:
        return cal.add(start, parse_iso_duration(duration), working=working)
    except NoWorkingTime:
        return start + parse_iso_duration(duration)


# ---- conditions on a deal's fields ---------------------------------------------------------

def _value_of(deal, field: str):
    if field.startswith("custom."):
        return (deal.custom or {}).get(field.removeprefix("custom."))
    return getattr(deal, field, None)


def _number(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None and value != "" and not isinstance(value, bool) else None
    except InvalidOperation:
        return None


def condition_holds(deal, params: dict) -> bool:
    """{field, op, value} on the deal as it is now. Numbers compare as Decimal; text as text."""
    actual, op, wanted = _value_of(deal, params.get("field") or ""), params.get("op"), params.get("value")
    if op == "empty":
        return actual is None or actual == "" or actual == [] or (isinstance(actual, Decimal) and not actual)
    if op == "not_empty":
        return not condition_holds(deal, {**params, "op": "empty"})
    if op == "contains":
        return actual is not None and str(wanted).casefold() in str(actual).casefold()
    a, w = _number(actual), _number(wanted)
    if a is None or w is None:  # text: only equality makes sense
        a, w = ("" if actual is None else str(actual)), str(wanted)
    if op == "eq":
        return a == w
    if op == "ne":
        return a != w
    if isinstance(a, str) != isinstance(w, str):
        return False
    try:
        return {"gt": a > w, "gte": a >= w, "lt": a < w, "lte": a <= w}.get(op, False)
    except TypeError:
        return False


def stage_entry(deal) -> str:
    """The key of the deal's current stay in its stage: a re-entry is a new stay."""
    return f"{deal.stage_id}:{deal.stage_entered_at.timestamp():.6f}"


def describe(robot: Robot) -> str:
    """A short line for the dry run and the settings page (English; pages translate labels)."""
    if robot.kind == Robot.Kind.DEADLINE:
        what = f"leave within {robot.within} ({robot.time})" if robot.within else "leave by the end of the working day"
        if robot.escalation:
            what += f"; when missed: {robot.escalation}"
        return what
    p = robot.trigger_params or {}
    trigger = {Robot.Trigger.ENTER: "on enter", Robot.Trigger.AFTER: f"after {p.get('after')} ({p.get('time')})",
               Robot.Trigger.AT: f"at {p.get('at')}", Robot.Trigger.WHEN:
               f"when {p.get('field')} {p.get('op')} {p.get('value')}",
               Robot.Trigger.EVENT: f"on {p.get('event')}"}.get(robot.trigger, robot.trigger)
    return f"{robot.action} {trigger}"


def dry_run(*, pipeline, stage, at: datetime) -> dict:
    """What a deal entering `stage` at `at` would get, computed without writing anything."""
    cal = calendar_for_pipeline(pipeline)
    robots = list(Robot.objects.filter(stage=stage, is_active=True).order_by("position", "id"))
    deadlines, actions = [], []
    by_parent: dict[int, list[Robot]] = {}
    for r in robots:
        if r.kind == Robot.Kind.DEADLINE and r.parent_id:
            by_parent.setdefault(r.parent_id, []).append(r)
    for r in robots:
        if r.kind == Robot.Kind.DEADLINE and not r.parent_id:
            due = deadline_due(r, at, cal)
            deadlines.append({"robot_id": r.pk, "name": r.name, "level": 1, "due_at": due,
                              "escalate": r.escalation or None, "description": describe(r)})
            for child in by_parent.get(r.pk, []):
                deadlines.append({"robot_id": child.pk, "name": child.name, "level": 2,
                                  "due_at": deadline_due(child, due, cal), "escalate": child.escalation or None,
                                  "description": describe(child)})
        elif r.kind == Robot.Kind.ACTION:
            run_at = action_run_at(r, at, cal)
            actions.append({"robot_id": r.pk, "name": r.name, "type": r.action, "trigger": r.trigger,
                            "run_at": run_at, "description": describe(r)})
    return {"at": at, "deadlines": deadlines, "actions": actions}


