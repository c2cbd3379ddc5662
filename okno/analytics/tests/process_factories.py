"""The process report's rows written directly, with their times: deals and their stage changes,
leads (and a missed deadline), callback work items. A report test needs many, fast."""

from datetime import datetime, timedelta

from okno.deals.models import Deal, DealStageChange, Lead, Stage
from okno.deals.tests.factories import DealFactory
from okno.robots.models import Robot
from okno.robots.models_runs import Deadline
from okno.work.models import WorkItem


def deal_path(*, pipeline, at: datetime, moves: list[tuple[int, int]] = (), responsible=None, source: str = "",
              department=None) -> Deal:
    """A deal created at `at` in the pipeline's first stage, then moved: (seconds after the
    previous move, the stage's position) each."""
    stages = list(pipeline.stages.order_by("position", "id"))
    deal = DealFactory(pipeline=pipeline, stage=stages[0], responsible=responsible, source=source, created_at=at,
                       department=department if department is not None else getattr(responsible, "department", None))
    changes = [DealStageChange(deal=deal, from_stage=None, to_stage=stages[0], at=at)]
    current, t = stages[0], at
    for seconds, position in moves:
        t += timedelta(seconds=seconds)
        changes.append(DealStageChange(deal=deal, from_stage=current, to_stage=stages[position], at=t))
        current = stages[position]
    DealStageChange.objects.bulk_create(changes)
    Deal.objects.filter(pk=deal.pk).update(stage=current, closed_at=t if current.kind in Stage.CLOSED else None)
    return deal


def make_lead(*, contact, at: datetime, source: str = "", assignee=None, department=None,
              status: str = Lead.Status.NEW, late: bool = False) -> Lead:
    lead = Lead.objects.create(contact=contact, source=source, assignee=assignee, status=status,
                               department=department if department is not None else getattr(assignee, "department",
                                                                                            None))
    Lead.objects.filter(pk=lead.pk).update(created_at=at)
    if late:
        robot = Robot.objects.filter(for_leads=True).first() or Robot.objects.create(
            kind=Robot.Kind.DEADLINE, for_leads=True, within="PT15M")
        Deadline.objects.create(robot=robot, lead=lead, due_at=at + timedelta(minutes=15),
                                run_after=at + timedelta(minutes=15), status=Deadline.Status.MISSED)
    return lead


def make_callback(*, at: datetime, due_minutes: int = 10, closed_minutes: int | None = None, assignee=None,
                  department=None) -> WorkItem:
    item = WorkItem.objects.create(kind=WorkItem.Kind.CALLBACK, number="+74950000001", assignee=assignee,
                                   department=department if department is not None else getattr(
                                       assignee, "department", None), due_at=at + timedelta(minutes=due_minutes),
                                   status=WorkItem.Status.OPEN if closed_minutes is None else WorkItem.Status.DONE,
                                   closed_at=None if closed_minutes is None else at + timedelta(minutes=closed_minutes))
    WorkItem.objects.filter(pk=item.pk).update(created_at=at)
    return item
