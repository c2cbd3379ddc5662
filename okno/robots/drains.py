"""The worker's robot drains: deadlines falling due, and runs of robots' actions.

`deadlines_drain` claims due open deadlines by lease and settles a batch in one transaction: a
deadline whose deal already left its stage (or whose lead was taken) is met, the rest are
missed (a conditional UPDATE on `status = 'open'`: a deadline is missed exactly once, and a
move racing the drain either closes it first or finds it missed), their deals are marked
overdue, escalations are queued as runs, and level-2 deadlines open, counted from the miss.
The work per deadline is a few rows written in bulk: 10,000 falling due in one minute settle
in seconds (bench/bench_robots.py).

`robot_runs_drain` claims pending runs and executes each in its own transaction, which first
takes the run's row (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction has one writer)
and checks that it is still pending: a run whose lease ran out while its first worker was
still busy is not done twice. A failure is retried with back-off, then waits on the "Robot
problems" page.
"""

import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from okno.core.bulk import chunks, insert_rows
from okno.core.leases import claim_batch
from okno.deals.models import Deal, Lead
from okno.robots.actions import DEAL_ACTIONS, RunRefused, escalate, lead_action
from okno.robots.models import Deadline, Robot, RobotRun
from okno.robots.schedule import calendar_for_department, calendar_for_pipeline, deadline_due, stage_entry

log = logging.getLogger(__name__)

DEADLINE_BATCH = 1000
RUN_BATCH = 100
# A batch takes about a second (100 runs, or 1,000 deadlines in one transaction); a killed
# worker's rows come back after this. A lease that runs out while its worker is still busy
# doubles nothing: the rows are locked (PostgreSQL: SKIP LOCKED passes them by) and read back
# as still pending/open before anything is done.
LEASE_SECONDS = 30
# After the n-th failed attempt the run waits this long; after the last it waits for a person.
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
           timedelta(hours=6))


def _robots(ids) -> dict[int, Robot]:
    return {r.pk: r for r in Robot.objects.filter(pk__in=set(ids)).prefetch_related("children")}


def deadlines_drain(batch: int = DEADLINE_BATCH) -> int:
    """Settles one batch of due deadlines; returns how many were claimed."""
    ids = claim_batch(Deadline, ready=Q(status=Deadline.Status.OPEN), limit=batch, lease_seconds=LEASE_SECONDS,
                      order_by="run_after")
    if ids:
        deadlines_settle(ids)
    return len(ids)


@transaction.atomic
def deadlines_settle(ids: list[int]) -> tuple[int, int]:
    """Met or missed, for the claimed deadlines still open; returns (met, missed)."""
    now = timezone.now()
    qs = Deadline.objects.filter(pk__in=ids, status=Deadline.Status.OPEN).order_by("pk")
    if settings.IS_POSTGRES:
        qs = qs.select_for_update()  # a move closing them waits, then finds them settled
    rows = list(qs.values("pk", "robot_id", "deal_id", "lead_id", "stage_id", "due_at", "level"))
    if not rows:
        return 0, 0
    deal_ids = [r["deal_id"] for r in rows if r["deal_id"]]
    lead_ids = [r["lead_id"] for r in rows if r["lead_id"]]
    deals = {d.pk: d for d in Deal.objects.filter(pk__in=deal_ids).select_related(
        "pipeline__calendar", "pipeline__department__calendar")} if deal_ids else {}
    leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=lead_ids).select_related(
        "department__calendar")} if lead_ids else {}
    met, missed = [], []
    for r in rows:
        if r["deal_id"]:
            deal = deals.get(r["deal_id"])
            (missed if deal is not None and deal.stage_id == r["stage_id"] else met).append(r)
        else:
            lead = leads.get(r["lead_id"])
            (missed if lead is not None and lead.status == Lead.Status.NEW else met).append(r)
    if met:  # the move's subscriber would have closed them; a deal changed behind its back did not
        Deadline.objects.filter(pk__in=[r["pk"] for r in met], status=Deadline.Status.OPEN).update(
            status=Deadline.Status.MET, closed_at=now, locked_until=None)
    if missed:
        _missed(missed, deals=deals, leads=leads, now=now)
    return len(met), len(missed)


def _missed(rows: list[dict], *, deals: dict, leads: dict, now) -> None:
    for part in chunks([r["pk"] for r in rows]):
        Deadline.objects.filter(pk__in=part, status=Deadline.Status.OPEN).update(
            status=Deadline.Status.MISSED, closed_at=now, locked_until=None)
    missed_leads = [leads[r["lead_id"]] for r in rows if r["lead_id"] in leads]
    if missed_leads:  # the process report counts a lead late by its missed deadline
        from okno.deals.lead_services import lead_updated_publish

        lead_updated_publish(leads=missed_leads)
    overdue = [r["deal_id"] for r in rows if r["deal_id"]]
    for part in chunks(overdue):
        Deal.objects.filter(pk__in=part, is_overdue=False).update(is_overdue=True)
    robots = _robots(r["robot_id"] for r in rows)
    runs, level2 = [], []
    calendars: dict = {}
    for r in rows:
        robot = robots[r["robot_id"]]
        deal, lead = deals.get(r["deal_id"]), leads.get(r["lead_id"])
        if robot.escalation:
            runs.append({"robot_id": robot.pk, "deal_id": r["deal_id"], "lead_id": r["lead_id"],
                         "stage_id": r["stage_id"], "entry": f"deadline:{r['pk']}", "purpose": "escalation",
                         "status": RobotRun.Status.PENDING, "due_at": now, "run_after": now, "created_at": now})
        if r["level"] == 1:
            for child in robot.children.all():
                if not child.is_active:
                    continue
                cal_key = ("p", deal.pipeline_id) if deal is not None else ("d", lead.department_id)
                cal = calendars.get(cal_key)
                if cal is None:
                    cal = calendars[cal_key] = calendar_for_pipeline(deal.pipeline) if deal is not None \
                        else calendar_for_department(lead.department if lead.department_id else None)
                due = deadline_due(child, r["due_at"], cal)
                level2.append({"robot_id": child.pk, "deal_id": r["deal_id"], "lead_id": r["lead_id"],
                               "stage_id": r["stage_id"], "level": 2, "due_at": due, "run_after": due,
                               "status": Deadline.Status.OPEN, "created_at": now})
    insert_rows(RobotRun, runs, ignore_conflicts=True)
    insert_rows(Deadline, level2)


# ---- runs ----------------------------------------------------------------------------------

# Actions that change the deal's row: the batch's next run of that deal reads it again.
CHANGES_DEAL = (Robot.Action.MOVE_TO_STAGE, Robot.Action.CHANGE_RESPONSIBLE, Robot.Escalation.MOVE,
                Robot.Escalation.REASSIGN)
_DEAL_RELATED = ("pipeline", "stage", "contact", "company", "responsible", "department")


class _Batch:
    """What the runs of one batch read: their robots and deals, loaded once for all of them.

    A deal a run has acted on is read again by the next run of the same deal (a move changes
    its stage, which the next run's checks read)."""

    def __init__(self, runs: list[RobotRun]):
        self.robots = {r.pk: r for r in Robot.objects.filter(pk__in={run.robot_id for run in runs})}
        deal_ids = {run.deal_id for run in runs if run.deal_id}
        self.deals = {d.pk: d for d in Deal.objects.filter(pk__in=deal_ids).select_related(*_DEAL_RELATED)}

    def deal(self, pk: int | None) -> Deal | None:
        if pk is None:
            return None
        if pk not in self.deals:
            found = Deal.objects.select_related(*_DEAL_RELATED).filter(pk=pk).first()
            if found is None:
                return None
            self.deals[pk] = found
        return self.deals[pk]

    def touched(self, pk: int | None) -> None:
        self.deals.pop(pk, None)


def robot_runs_drain(batch: int = RUN_BATCH) -> int:
    """Claims pending runs and executes them; returns how many were claimed.

    One transaction per batch (one commit instead of a hundred: on SQLite the commit and the
    IMMEDIATE lock were most of a run's cost), a savepoint per run, so one run's failure rolls
    back that run alone. The batch's rows are taken FOR UPDATE on PostgreSQL and read back as
    still pending: a second worker that claimed them after a lost lease waits, then finds them
    done. A worker killed mid-batch loses the whole batch's work, which the lease gives to
    another worker; the outbox's idempotency keys keep its sends single."""
    ids = claim_batch(RobotRun, ready=Q(status=RobotRun.Status.PENDING), limit=batch, lease_seconds=LEASE_SECONDS,
                      order_by="run_after")
    if ids:
        robot_runs_execute(ids)
    return len(ids)


def robot_run_execute(pk: int) -> str | None:
    """One run by id (tests, a retry from a page); the status it ended in, or None."""
    return robot_runs_execute([pk]).get(pk)


@transaction.atomic
def robot_runs_execute(ids: list[int]) -> dict[int, str]:
    qs = RobotRun.objects.filter(pk__in=ids, status=RobotRun.Status.PENDING).order_by("run_after", "pk")
    if settings.IS_POSTGRES:
        qs = qs.select_for_update()
    runs = list(qs)
    if not runs:
        return {}
    batch = _Batch(runs)
    return {run.pk: _run_one(run, batch) for run in runs}


def _finish(pk: int, **fields) -> None:
    RobotRun.objects.filter(pk=pk).update(locked_until=None, finished_at=timezone.now(), **fields)


def _run_one(run: RobotRun, batch: _Batch) -> str:
    """Executes one run in a savepoint; its failure is recorded, never raised."""
    try:
        with transaction.atomic():
            status, result = _execute(run, batch)
            _finish(run.pk, status=status, result=result[:500], error="")
            return status
    except RunRefused as exc:
        _finish(run.pk, status=RobotRun.Status.FAILED, error=str(exc))
        return RobotRun.Status.FAILED
    except Exception as exc:  # anything else: count the attempt, retry with back-off
        error = f"{exc.__class__.__name__}: {exc}\n\n{traceback.format_exc(limit=6)}"
        log.warning("robot run %s failed: %s", run.pk, error)
        if run.attempts > len(BACKOFF):
            _finish(run.pk, status=RobotRun.Status.WAITING, error=error)
            return RobotRun.Status.WAITING
        RobotRun.objects.filter(pk=run.pk).update(error=error, locked_until=None,
                                                  run_after=timezone.now() + BACKOFF[max(run.attempts, 1) - 1])
        return RobotRun.Status.PENDING
    finally:
        robot = batch.robots.get(run.robot_id)
        if robot is not None and (robot.action in CHANGES_DEAL or (
                run.purpose == "escalation" and robot.escalation in CHANGES_DEAL)):
            batch.touched(run.deal_id)


def _why_skip(run: RobotRun, robot: Robot, deal: Deal | None) -> str:
    if not robot.is_active:
        return "the robot is switched off"
    if deal is None or run.purpose != "action":
        return ""
    if run.stage_id and deal.stage_id != run.stage_id:
        return "the deal left the stage"
    if robot.trigger != Robot.Trigger.EVENT and run.entry != stage_entry(deal):
        return "the deal left the stage and came back: the new stay has its own run"
    return ""


def _execute(run: RobotRun, batch: _Batch) -> tuple[str, str]:
    robot = batch.robots.get(run.robot_id)
    deal = batch.deal(run.deal_id)
    lead = Lead.objects.select_related("department", "assignee").filter(pk=run.lead_id).first() \
        if run.lead_id else None
    if robot is None:
        return RobotRun.Status.SKIPPED, "the robot is gone"
    if deal is None and lead is None:
        return RobotRun.Status.SKIPPED, "the deal is gone"
    if run.purpose == "escalation":
        return RobotRun.Status.DONE, escalate(run, robot, deal=deal, lead=lead)
    why = _why_skip(run, robot, deal)
    if why:
        return RobotRun.Status.SKIPPED, why
    if lead is not None:
        return RobotRun.Status.DONE, lead_action(run, robot, lead)
    return RobotRun.Status.DONE, DEAL_ACTIONS[robot.action](run, robot, deal)
