"""Robots react to domain events in the publisher's transaction (okno.core.events).

A deal entering a stage (`deal.created`, `deal.stage_changed`) closes the open deadlines of the
stage it left as met, opens the new stage's deadlines and queues its robots' runs; all of it
commits or rolls back with the move. `deal.updated` fires condition robots whose condition
became true; `lead.created` starts lead robots; a customer's message, a call answered or missed
and a work item done fire the event robots of the deal's current stage. Nothing here runs an
action: the `robot_runs` drain does, so a slow action never slows a move.
"""

from django.utils import timezone

from okno.core.bulk import insert_rows
from okno.core.events import Event, subscribe
from okno.robots import rule_cache
from okno.robots.models import Deadline, Robot, RobotRun
from okno.robots.rules import EVENTS
from okno.robots.schedule import (
    action_run_at,
    calendar_for_department,
    calendar_for_pipeline,
    condition_holds,
    deadline_due,
    stage_entry,
)

LEAD_TAKEN_EVENTS = ("lead.converted", "lead.lost", "lead.taken", "lead.updated")


def _deadline_row(robot: Robot, *, due, now, deal=None, lead=None, stage_id=None, level=1) -> dict:
    return {"robot_id": robot.pk, "deal_id": deal.pk if deal else None, "lead_id": lead.pk if lead else None,
            "stage_id": stage_id, "level": level, "due_at": due, "run_after": due, "status": Deadline.Status.OPEN,
            "created_at": now}


def _run_row(robot: Robot, *, entry: str, run_after, now, deal=None, lead=None, stage_id=None,
             purpose: str = "action") -> dict:
    return {"robot_id": robot.pk, "deal_id": deal.pk if deal else None, "lead_id": lead.pk if lead else None,
            "stage_id": stage_id, "entry": entry[:100], "purpose": purpose, "status": RobotRun.Status.PENDING,
            "due_at": run_after, "run_after": run_after, "created_at": now}


def deadlines_met(*, deal=None, lead=None, at=None) -> int:
    """Closes the open deadlines of a deal leaving its stage (or a lead taken) as met."""
    qs = Deadline.objects.filter(status=Deadline.Status.OPEN)
    qs = qs.filter(deal=deal) if deal is not None else qs.filter(lead=lead)
    return qs.update(status=Deadline.Status.MET, closed_at=at or timezone.now(), locked_until=None)


def on_deal_entered(event: Event) -> None:
    """deal.created / deal.stage_changed: the stage left is done with, the stage entered starts."""
    deal = event.subject
    now = timezone.now()
    entered = deal.stage_entered_at or event.at
    deadlines_met(deal=deal, at=entered)
    # Runs still waiting for the stage left (a delayed robot) will not run: say so now.
    RobotRun.objects.filter(deal=deal, status=RobotRun.Status.PENDING, purpose="action").exclude(
        stage_id=deal.stage_id).update(status=RobotRun.Status.SKIPPED, result="the deal left the stage",
                                       finished_at=now, locked_until=None)
    robots = [r for r in Robot.objects.filter(stage_id=deal.stage_id, is_active=True) if not r.parent_id]
    if not robots:
        return
    cal = calendar_for_pipeline(deal.pipeline)
    entry = stage_entry(deal)
    deadlines, runs = [], []
    for robot in robots:
        if robot.kind == Robot.Kind.DEADLINE:
            deadlines.append(_deadline_row(robot, due=deadline_due(robot, entered, cal), now=now, deal=deal,
                                           stage_id=deal.stage_id))
            continue
        if robot.trigger == Robot.Trigger.WHEN:
            run_after = entered if condition_holds(deal, robot.trigger_params) else None
        else:
            run_after = action_run_at(robot, entered, cal)
        if run_after is not None:
            runs.append(_run_row(robot, entry=entry, run_after=run_after, now=now, deal=deal,
                                 stage_id=deal.stage_id))
    insert_rows(Deadline, deadlines)
    insert_rows(RobotRun, runs, ignore_conflicts=True)


def on_deal_updated(event: Event) -> None:
    """deal.updated: condition robots of the current stage whose condition holds now run once per
    stay in the stage (the run's key is the stay)."""
    deal = event.subject
    robots = list(Robot.objects.filter(stage_id=deal.stage_id, is_active=True, kind=Robot.Kind.ACTION,
                                       trigger=Robot.Trigger.WHEN))
    now = timezone.now()
    entry = stage_entry(deal)
    runs = [_run_row(r, entry=entry, run_after=now, now=now, deal=deal, stage_id=deal.stage_id)
            for r in robots if condition_holds(deal, r.trigger_params)]
    insert_rows(RobotRun, runs, ignore_conflicts=True)


def _deals_of_event(event: Event):
    from okno.deals.models import Deal, Stage

    data = event.data or {}
    ids = [data["deal_id"]] if data.get("deal_id") else list(data.get("deal_ids") or [])
    if ids:
        return list(Deal.objects.filter(pk__in=ids).exclude(stage__kind__in=Stage.CLOSED))
    if data.get("contact_id"):
        return list(Deal.objects.filter(contact_id=data["contact_id"]).exclude(stage__kind__in=Stage.CLOSED))
    return []


def on_outside_event(event: Event) -> None:
    """message.received, call.answered, call.missed, workitem.done: the event robots of each
    open deal's current stage (deal_id / deal_ids in the data, else the contact's open deals)."""
    listening = [r for r in _event_robots() if (r.trigger_params or {}).get("event") == event.name]
    if not listening:
        return  # most companies have none: no look-up of the customer's deals at all
    deals = _deals_of_event(event)
    if not deals:
        return
    stage_ids = {d.stage_id for d in deals}
    robots = [r for r in listening if r.stage_id in stage_ids]
    if not robots:
        return
    now = timezone.now()
    subject_id = getattr(event.subject, "pk", None) or (event.data or {}).get("id") or event.at.timestamp()
    runs = [_run_row(r, entry=f"{event.name}:{subject_id}", run_after=now, now=now, deal=d, stage_id=d.stage_id)
            for d in deals for r in robots if r.stage_id == d.stage_id]
    insert_rows(RobotRun, runs, ignore_conflicts=True)


def _event_robots() -> list[Robot]:
    return rule_cache.cached("event", lambda: list(Robot.objects.filter(
        is_active=True, kind=Robot.Kind.ACTION, trigger=Robot.Trigger.EVENT)))


def _lead_robots(lead) -> list[Robot]:
    robots = rule_cache.cached("lead", lambda: [
        r for r in Robot.objects.filter(for_leads=True, is_active=True).order_by("position", "pk") if not r.parent_id])
    return [r for r in robots if r.department_id is None or r.department_id == lead.department_id]


def on_lead_created(event: Event) -> None:
    """lead.created: lead deadlines ("taken within PT15M") and lead action robots start."""
    lead = event.subject
    robots = _lead_robots(lead)
    if not robots:
        return
    now = timezone.now()
    start = lead.created_at or event.at
    cal = calendar_for_department(lead.department if lead.department_id else None)
    deadlines, runs = [], []
    for robot in robots:
        if robot.kind == Robot.Kind.DEADLINE:
            deadlines.append(_deadline_row(robot, due=deadline_due(robot, start, cal), now=now, lead=lead))
        else:
            run_after = action_run_at(robot, start, cal)
            if run_after is not None:
                runs.append(_run_row(robot, entry="created", run_after=run_after, now=now, lead=lead))
    insert_rows(Deadline, deadlines)
    insert_rows(RobotRun, runs, ignore_conflicts=True)


def on_lead_changed(event: Event) -> None:
    """A lead taken (in work), converted or lost has met its "taken within" deadlines."""
    lead = event.subject
    if getattr(lead, "status", "new") != "new":
        deadlines_met(lead=lead, at=event.at)


def register() -> None:
    subscribe("deal.created", on_deal_entered, key="robots.deal_entered")
    subscribe("deal.stage_changed", on_deal_entered, key="robots.deal_entered")
    subscribe("deal.updated", on_deal_updated, key="robots.deal_updated")
    subscribe("lead.created", on_lead_created, key="robots.lead_created")
    for name in LEAD_TAKEN_EVENTS:
        subscribe(name, on_lead_changed, key="robots.lead_changed")
    for name in EVENTS:
        subscribe(name, on_outside_event, key="robots.outside_event")
