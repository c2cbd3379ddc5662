"""Three months of deals that already happened, written in bulk as the services would have left them.

Each deal is first told as a story (`Plan`): when it arrived and every move after it, with
the times a real team takes (an order processed in minutes of working time, a pause settled
the same day or sent back to Новый by the robot at the end of the day, a delivery within days;
a B2B deal qualified, proposed and negotiated over weeks). The story is cut at "now": what is
left open is on the board today. Then `history_write` derives, per stay in a stage, what the
robots of that stage did — deadlines met or missed (computed on the business calendar with
the robots' own `deadline_due`), escalations, level-2 deadlines, runs of actions and their
results, register entries, work items — and writes all of it with bulk inserts: the
DealStageChange rows, the timeline's activities, the line items. A stay still open at "now"
keeps its open deadlines and pending runs, so the worker carries on with them live.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from okno.core.bulk import insert_rows
from okno.deals.models import Deal, DealLineItem, DealStageChange, Lead
from okno.demo.deal_outbox import sent_messages_write
from okno.robots.models import Deadline, RegisterEntry, Robot, RobotRun
from okno.robots.schedule import action_run_at, deadline_due
from okno.timeline.models import Activity
from okno.work.models import WorkItem

SECOND = timedelta(seconds=1)


@dataclass
class Customer:
    id: int
    responsible_id: int
    department_id: int
    company_id: int | None
    company_name: str
    phone: str
    email: str
    first_name: str = ""
    last_name: str = ""
    middle_name: str = ""


@dataclass
class Move:
    at: datetime
    stage: int  # index in the pipeline's stages
    via: str = "user"
    reason: str = ""  # a lost reason's name


@dataclass
class Plan:
    pipeline: str  # "store" or "b2b"
    customer: Customer
    responsible_id: int
    title: str
    lines: list[dict]
    moves: list[Move]
    source: str = ""
    external_id: str = ""
    custom: dict = field(default_factory=dict)
    from_lead: bool = False
    lead_id: int | None = None
    deal: Deal | None = None
    overdue: bool = False


@dataclass
class Rows:
    """What `history_write` inserts, gathered per table."""

    deadlines: list[tuple[Plan, Deadline, list]] = field(default_factory=list)  # (plan, row, its runs)
    runs: list[tuple[Plan, dict]] = field(default_factory=list)
    work_items: list[tuple[Plan, WorkItem, dict | None]] = field(default_factory=list)
    registers: list[tuple[Plan, dict]] = field(default_factory=list)


class Context:
    """What the stories need: the stages, robots, calendar, people, and "now"."""

    def __init__(self, *, process, cal, now: datetime, users: dict, heads: dict, retail_ids: list[int]):
        self.process, self.cal, self.now = process, cal, now
        self.users, self.heads, self.retail_ids = users, heads, retail_ids
        self.robots = process.robots
        self.stages = process.stages
        self.by_stage: dict[int, list[Robot]] = {}
        self.children: dict[int, list[Robot]] = {}
        for robot in self.robots.values():
            self.by_stage.setdefault(robot.stage_id, []).append(robot)
            if robot.parent_id:
                self.children.setdefault(robot.parent_id, []).append(robot)

    def working(self, start: datetime, minutes: float) -> datetime:
        return self.cal.add(start, timedelta(minutes=minutes), working=True)


# ---- stories ---------------------------------------------------------------------------------

def _new_stay_minutes(rng: random.Random) -> float:
    """Working minutes an order waits in Новый: mostly minutes, sometimes past the 30-minute deadline."""
    r = rng.random()
    if r < 0.86:
        return rng.uniform(2, 25)
    if r < 0.96:
        return rng.uniform(32, 85)  # level 1 missed, the head notified, then processed
    return rng.uniform(95, 300)  # level 2 missed too: handed to another manager


def store_moves(rng: random.Random, ctx: Context, created: datetime, *, stuck: bool) -> list[Move]:
    """An order's path through Новый → (Пауза) → Подтверждён → Выполнен / Отменён."""
    pause_robot = ctx.robots["pause_deadline"]
    moves = [Move(created, 0, via="api")]
    at = created
    while True:
        if stuck:  # nobody took it: it is still in Новый
            return moves
        at = ctx.working(at, _new_stay_minutes(rng))
        r = rng.random()
        if r < 0.08:
            moves.append(Move(at, 4, reason=_pick(rng, "store")))
            return moves
        if r < 0.20:
            moves.append(Move(at, 1))
            due = deadline_due(pause_robot, at, ctx.cal)
            leave = ctx.working(at, rng.uniform(15, 300))
            if leave > due:  # still paused at the end of the day: the robot sends it back to Новый
                at = due + timedelta(seconds=rng.randint(5, 40))
                moves.append(Move(at, 0, via="robot"))
                continue
            at = leave
            if rng.random() < 0.3:
                moves.append(Move(at, 4, reason=_pick(rng, "store")))
                return moves
        break
    moves.append(Move(at, 2))
    at += timedelta(days=rng.uniform(0.6, 5), minutes=rng.randint(0, 300))
    moves.append(Move(at, 3) if rng.random() < 0.94 else Move(at, 4, reason=_pick(rng, "store")))
    return moves


def b2b_moves(rng: random.Random, ctx: Context, created: datetime) -> list[Move]:
    """Квалификация → Коммерческое предложение → Переговоры → Успешно / Проиграно, over weeks."""
    moves = [Move(created, 0)]
    at = created
    for stage, hours, lose in ((1, (2, 24), 0.25), (2, (6, 70), 0.3), (3, (12, 110), 0.45)):
        at = ctx.working(at, rng.uniform(*hours) * 60)
        if rng.random() < lose:
            moves.append(Move(at, 4, reason=_pick(rng, "b2b")))
            return moves
        moves.append(Move(at, stage))
    return moves


def _pick(rng: random.Random, pipeline: str) -> str:
    from okno.demo.deal_data import B2B_LOST, STORE_LOST, weighted

    return weighted(rng, STORE_LOST if pipeline == "store" else B2B_LOST)


def cut_at(moves: list[Move], now: datetime) -> list[Move]:
    return [m for m in moves if m.at <= now] or moves[:1]


# ---- what the robots did in each stay --------------------------------------------------------

def _run(plan: Plan, robot: Robot, *, entry: str, at: datetime, status: str, result: str = "",
         finished: datetime | None = None, purpose: str = "action", error: str = "", attempts: int = 1,
         stage_id: int | None = None) -> dict:
    return {"robot_id": robot.pk, "stage_id": stage_id or robot.stage_id, "entry": entry[:100], "purpose": purpose,
            "status": status, "due_at": at, "run_after": at, "attempts": attempts if status != "pending" else 0,
            "result": result[:500], "error": error, "created_at": at, "finished_at": finished}


def _entry(stage_id: int, enter: datetime) -> str:
    return f"{stage_id}:{enter.timestamp():.6f}"


def _action_result(ctx: Context, plan: Plan, robot: Robot, at: datetime, rows: Rows, leave: datetime | None) -> str:
    customer = plan.customer
    action = robot.action
    if action == Robot.Action.SMS_CUSTOMER:
        return f"SMS queued to {customer.phone}"
    if action == Robot.Action.EMAIL_CUSTOMER:
        return f"e-mail queued to {customer.email}"
    if action == Robot.Action.NOTIFY_RESPONSIBLE:
        return f"notified {ctx.users[plan.responsible_id].username}"
    if action == Robot.Action.REGISTER:
        rows.registers.append((plan, {"name": robot.action_params["register_name"], "at": at}))
        return f"recorded in {robot.action_params['register_name']}"
    if action == Robot.Action.CREATE_WORK_ITEM:
        p = robot.action_params
        due = ctx.cal.add(at, timedelta(hours=4), working=True)
        user = ctx.users[plan.responsible_id]
        done_at = min(x for x in (leave, due - timedelta(minutes=30), ctx.now) if x is not None)
        is_open = leave is None and done_at >= ctx.now - timedelta(minutes=1)
        item = WorkItem(kind=WorkItem.Kind.TASK, title=p["title"][:300], contact_id=plan.customer.id,
                        assignee_id=user.pk, department_id=user.department_id, due_at=due, created_at=at,
                        status=WorkItem.Status.OPEN if is_open else WorkItem.Status.DONE,
                        closed_at=None if is_open else max(done_at, at + timedelta(minutes=5)),
                        closed_reason="" if is_open else "done")
        rows.work_items.append((plan, item, None))  # the run's result names the item's id, once inserted
        return ""
    return "done"


def stay_rows(ctx: Context, plan: Plan, stage_id: int, enter: datetime, leave: datetime | None, rows: Rows) -> None:
    """Deadlines and runs of one stay of a deal in a stage, as the subscribers and drains write them."""
    now = ctx.now
    entry = _entry(stage_id, enter)
    for robot in ctx.by_stage.get(stage_id, []):
        if robot.kind == Robot.Kind.DEADLINE:
            if not robot.parent_id:
                _deadline(ctx, plan, robot, stage_id, enter, enter, leave, rows, level=1)
            continue
        run_at = action_run_at(robot, enter, ctx.cal)
        if run_at is None:
            continue
        if leave is not None and leave < run_at:
            rows.runs.append((plan, _run(plan, robot, entry=entry, at=run_at, status="skipped",
                                         result="the deal left the stage", finished=leave)))
        elif run_at > now:
            rows.runs.append((plan, _run(plan, robot, entry=entry, at=run_at, status="pending")))
        else:
            result = _action_result(ctx, plan, robot, run_at, rows, leave)
            run = _run(plan, robot, entry=entry, at=run_at, status="done", result=result,
                       finished=run_at + timedelta(seconds=2))
            if robot.action == Robot.Action.CREATE_WORK_ITEM:
                rows.work_items[-1] = (plan, rows.work_items[-1][1], run)
            rows.runs.append((plan, run))


def _deadline(ctx: Context, plan: Plan, robot: Robot, stage_id: int, start: datetime, created: datetime,
              leave: datetime | None, rows: Rows, *, level: int) -> None:
    due = deadline_due(robot, start, ctx.cal)
    row = Deadline(robot_id=robot.pk, stage_id=stage_id, level=level, due_at=due, run_after=due, created_at=created)
    runs: list = []
    if leave is not None and leave <= due:
        row.status, row.closed_at = Deadline.Status.MET, leave
    elif due > ctx.now:
        row.status = Deadline.Status.OPEN
    else:
        settled = due + timedelta(seconds=3)
        row.status, row.closed_at, row.attempts = Deadline.Status.MISSED, settled, 1
        if leave is None:
            plan.overdue = True
        if robot.escalation:
            row.escalated_at = settled + SECOND
            runs.append(_run(plan, robot, entry="deadline:", at=settled, status="done", purpose="escalation",
                             result=_escalation_result(ctx, plan, robot), finished=row.escalated_at,
                             stage_id=stage_id))
        for child in ctx.children.get(robot.pk, []) if level == 1 else ():
            _deadline(ctx, plan, child, stage_id, due, settled, leave, rows, level=2)
    rows.deadlines.append((plan, row, runs))


def _escalation_result(ctx: Context, plan: Plan, robot: Robot) -> str:
    if robot.escalation == Robot.Escalation.NOTIFY_HEAD:
        department_id = ctx.users[plan.responsible_id].department_id
        heads = ctx.heads.get(department_id) or []
        return "notified " + ", ".join(heads) if heads else "nobody to notify"
    if robot.escalation == Robot.Escalation.REASSIGN:
        others = [pk for pk in ctx.retail_ids if pk != plan.responsible_id] or [plan.responsible_id]
        plan.responsible_id = others[(plan.customer.id + len(plan.moves)) % len(others)]
        return f"responsible: {ctx.users[plan.responsible_id].username}"
    if robot.escalation == Robot.Escalation.MOVE:
        stage = next(s for s in ctx.stages["store"] + ctx.stages["b2b"] if s.pk == robot.escalation_params["stage_id"])
        return f"moved to {stage.name}"
    return "no escalation"


# ---- writing ---------------------------------------------------------------------------------

def history_write(ctx: Context, plans: list[Plan]) -> Rows:
    """Inserts the deals of `plans` with everything that happened to them. Returns the rows written."""
    from okno.demo.company import _own_timestamps

    rows = Rows()
    deal_type = ContentType.objects.get_for_model(Deal)
    changes, activities, lines = [], [], []
    for plan in plans:
        stages = ctx.stages[plan.pipeline]
        for i, move in enumerate(plan.moves):
            leave = plan.moves[i + 1].at if i + 1 < len(plan.moves) else None
            stay_rows(ctx, plan, stages[move.stage].pk, move.at, leave, rows)
        last = plan.moves[-1]
        stage = stages[last.stage]
        user = ctx.users[plan.responsible_id]
        closed = stage.kind in ("won", "lost")
        plan.deal = Deal(
            pipeline_id=stage.pipeline_id, stage=stage, contact_id=plan.customer.id,
            company_id=plan.customer.company_id,
            title=plan.title, amount=_total(plan.lines), responsible_id=user.pk, department_id=user.department_id,
            source=plan.source, custom=plan.custom, external_id=plan.external_id,
            lost_reason=ctx.process.reasons[last.reason] if last.reason else None,
            is_overdue=plan.overdue and not closed, stage_entered_at=last.at, closed_at=last.at if closed else None,
            lead_id=plan.lead_id, created_at=plan.moves[0].at, updated_at=last.at)
    with _own_timestamps(Deal._meta.get_field("updated_at")):
        Deal.objects.bulk_create([p.deal for p in plans], batch_size=1000)
    for plan in plans:
        deal, stages = plan.deal, ctx.stages[plan.pipeline]
        previous = None
        for move in plan.moves:
            stage = stages[move.stage]
            actor_id = None if move.via in ("robot", "api") else plan.responsible_id
            changes.append({"deal_id": deal.pk, "from_stage_id": previous.pk if previous else None,
                            "to_stage_id": stage.pk, "actor_id": actor_id, "via": move.via, "at": move.at})
            if previous is None:
                summary = _("Deal “%(title)s” created at the stage “%(stage)s”") % {"title": deal.title,
                                                                                  "stage": stage.name}
            else:
                summary = _("Deal “%(title)s” moved: %(from)s → %(to)s") % {
                    "title": deal.title, "from": previous.name, "to": stage.name}
                if move.reason:
                    summary += f" ({move.reason})"
            activities.append({"contact_id": deal.contact_id, "kind": Activity.Kind.DEAL, "occurred_at": move.at,
                               "author_id": actor_id, "summary": summary[:500], "detail_type_id": deal_type.pk,
                               "detail_id": deal.pk, "created_at": move.at})
            previous = stage
        lines += [{"deal_id": deal.pk, "position": i, **line} for i, line in enumerate(plan.lines)]
    insert_rows(DealStageChange, changes)
    insert_rows(Activity, activities)
    insert_rows(DealLineItem, lines)
    _write_robot_rows(ctx, rows)
    sent_messages_write(ctx, rows.runs)
    return rows


def _total(lines: list[dict]):
    from okno.demo.deal_data import lines_total

    return lines_total(lines)


def _write_robot_rows(ctx: Context, rows: Rows) -> None:
    from okno.demo.company import _own_timestamps

    for plan, row, _runs in rows.deadlines:
        row.deal_id = plan.deal.pk
    Deadline.objects.bulk_create([row for _p, row, _r in rows.deadlines], batch_size=1000)
    for plan, row, runs in rows.deadlines:
        for run in runs:
            run["entry"] = f"deadline:{row.pk}"
            rows.runs.append((plan, run))
    for plan, item, _run in rows.work_items:
        item.deal_id = plan.deal.pk
    with _own_timestamps(WorkItem._meta.get_field("created_at")):
        WorkItem.objects.bulk_create([item for _p, item, _r in rows.work_items], batch_size=1000)
    for _plan, item, run in rows.work_items:
        if run is not None:
            run["result"] = f"work item #{item.pk} due {item.due_at.isoformat()}"
    insert_rows(RobotRun, [{**run, "deal_id": plan.deal.pk} for plan, run in rows.runs])
    entries = []
    for plan, reg in rows.registers:
        deal = plan.deal
        entries.append({"name": reg["name"], "deal_id": deal.pk, "at": reg["at"], "snapshot": {
            "deal_id": deal.pk, "title": deal.title, "amount": str(deal.amount), "currency": deal.currency,
            "stage": ctx.stages["store"][2].name, "responsible": ctx.users[plan.responsible_id].username,
            "contact_id": deal.contact_id, "external_id": deal.external_id, "custom": deal.custom}})
    insert_rows(RegisterEntry, entries, ignore_conflicts=True)


def leads_write(ctx: Context, plans: list[Plan], lost: list[tuple[Customer, datetime, str]],
                rng: random.Random) -> int:
    """The converted leads behind the plans marked `from_lead` (before their deals are written:
    `plan.lead_id` links them), and leads lost with a reason."""
    from okno.demo.company import _own_timestamps

    leads, owners = [], []
    for plan in plans:
        if not plan.from_lead:
            continue
        created = plan.moves[0].at - timedelta(minutes=rng.randint(2, 40))
        user = ctx.users[plan.responsible_id]
        leads.append(Lead(contact_id=plan.customer.id, title=f"Заявка: {plan.title}", source=plan.source,
                          status=Lead.Status.CONVERTED, assignee_id=user.pk, department_id=user.department_id,
                          routed_by="responsible", created_at=created, updated_at=plan.moves[0].at,
                          read_at=created + timedelta(minutes=1), closed_at=plan.moves[0].at, reminded_at=created))
        owners.append(plan)
    for customer, created, reason in lost:
        user = ctx.users[customer.responsible_id]
        closed = ctx.working(created, rng.uniform(5, 600))
        leads.append(Lead(contact_id=customer.id, title="Заявка с сайта", source="Сайт", status=Lead.Status.LOST,
                          assignee_id=user.pk, department_id=user.department_id, routed_by="responsible",
                          created_at=created, updated_at=closed, read_at=created + timedelta(minutes=2),
                          closed_at=closed, reminded_at=created, lost_reason=ctx.process.reasons[reason]))
    fields = [Lead._meta.get_field(name) for name in ("created_at", "updated_at")]
    with _own_timestamps(*fields):
        Lead.objects.bulk_create(leads, batch_size=1000)
    for plan, lead in zip(owners, leads, strict=False):
        plan.lead_id = lead.pk
    return len(leads)
