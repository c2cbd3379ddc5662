"""bench_robots' set: seeded once with bulk inserts, put back before each part.

"bench-robots-<n>-v1" (reused when present): n open deals in the "New" stage of one pipeline, 20
managers and a head (each with an e-mail) in one department; five deadline robots ("leave within
1-5 h", the miss notifies the head: a push and an e-mail through the outbox) and five delayed
action robots (after 2-6 h: three notify the responsible, a push and an e-mail; two call a
webhook endpoint on 127.0.0.1). Each deal has five open deadlines and five pending delayed runs,
due 5-6 days ahead: 10 n rows waiting (1,000,000 at n = 100,000).
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

PER_DEAL = 5  # deadlines and delayed runs per deal, each
FAR = timedelta(days=5)


def _people(tag: str):
    from okno.people.models import Department, User

    dept, _ = Department.objects.get_or_create(name=f"{tag} отдел")
    User.objects.get_or_create(username=f"{tag}-head", defaults={
        "role": User.Role.HEAD, "department": dept, "email": "head@bench.example", "first_name": "Руководитель"})
    managers = []
    for m in range(20):
        user, _ = User.objects.get_or_create(username=f"{tag}-m{m}", defaults={
            "role": User.Role.MANAGER, "department": dept, "email": f"m{m}@bench.example", "first_name": "Менеджер"})
        managers.append(user)
    return dept, managers


def seed(n: int, tag: str = "bench-robots") -> tuple:
    """The pipeline of the set, and whether it was already there."""
    from okno.core.bulk import insert_rows
    from okno.deals.models import Deal, Pipeline, Stage
    from okno.outbox.models import WebhookEndpoint
    from okno.robots.models import Deadline, Robot, RobotRun

    name = f"{tag}-{n}-v1"
    dept, managers = _people(tag)
    pipeline = Pipeline.objects.filter(name=name).first()
    if pipeline is not None and Deadline.objects.filter(robot__pipeline=pipeline).count() == n * PER_DEAL \
            and RobotRun.objects.filter(robot__pipeline=pipeline, purpose="action").count() == n * PER_DEAL:
        return pipeline, True
    # A run killed while loading: start again (its endpoint too, or two would carry the name).
    WebhookEndpoint.objects.filter(description=name).delete()
    if pipeline is not None:
        Robot.objects.filter(pipeline=pipeline).delete()
        Deal.objects.filter(pipeline=pipeline).delete()
        pipeline.stages.all().delete()
        pipeline.delete()
    with transaction.atomic():
        pipeline = Pipeline.objects.create(name=name, department=dept)
        Stage.objects.bulk_create([Stage(pipeline=pipeline, name=s, kind=k, position=i) for i, (s, k) in enumerate(
            [("Новый", "open"), ("Пауза", "paused"), ("Подтверждён", "open"), ("Выполнен", "won")])])
        new = pipeline.stages.order_by("position").first()
        endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/bench-robots", events=[],
                                                  allow_private_network=True, description=name)
        deadline_robots = [Robot.objects.create(
            pipeline=pipeline, stage=new, kind="deadline", name=f"Обработать {i}", within=f"PT{i + 1}H",
            time="wall", escalation="notify_head", position=i) for i in range(PER_DEAL)]
        action_robots = [Robot.objects.create(
            pipeline=pipeline, stage=new, kind="action", name=f"Робот {i}", trigger="after",
            trigger_params={"after": f"PT{i + 2}H", "time": "wall"},
            action="notify_responsible" if i % 2 == 0 else "webhook",
            action_params={"text": ""} if i % 2 == 0 else {"endpoint_id": endpoint.pk},
            position=10 + i) for i in range(PER_DEAL)]
    rng = random.Random(7)
    now = timezone.now()
    deals = []
    for i in range(n):
        owner = managers[i % len(managers)]
        entered = now - timedelta(seconds=rng.randrange(3600))
        deals.append({"pipeline_id": pipeline.pk, "stage_id": new.pk, "title": f"Заказ №{i}",
                      "amount": Decimal(rng.randrange(100, 500_000)), "currency": "RUB", "responsible_id": owner.pk,
                      "department_id": dept.pk, "stage_entered_at": entered, "created_at": entered,
                      "utm": {}, "custom": {}})
        if len(deals) >= 20_000:
            insert_rows(Deal, deals)
            deals = []
    insert_rows(Deal, deals)
    ids = list(Deal.objects.filter(pipeline=pipeline).order_by("pk").values_list("pk", "stage_entered_at"))
    deadlines, runs = [], []
    for deal_id, entered in ids:
        entry = f"{new.pk}:{entered.timestamp():.6f}"  # okno.robots.schedule.stage_entry
        for robot in deadline_robots:
            due = now + FAR + timedelta(seconds=rng.randrange(86400))
            deadlines.append({"robot_id": robot.pk, "deal_id": deal_id, "stage_id": new.pk, "level": 1,
                              "due_at": due, "run_after": due, "status": "open", "created_at": now})
        for robot in action_robots:
            due = now + FAR + timedelta(seconds=rng.randrange(86400))
            runs.append({"robot_id": robot.pk, "deal_id": deal_id, "stage_id": new.pk, "entry": entry,
                         "purpose": "action", "status": "pending", "due_at": due, "run_after": due,
                         "created_at": now})
        if len(deadlines) >= 50_000:
            with transaction.atomic():
                insert_rows(Deadline, deadlines)
                insert_rows(RobotRun, runs)
            deadlines, runs = [], []
    with transaction.atomic():
        insert_rows(Deadline, deadlines)
        insert_rows(RobotRun, runs)
    return pipeline, False


def reset(pipeline) -> None:
    """Puts back what an earlier part touched: every row waits days ahead again."""
    from okno.deals.models import Deal
    from okno.outbox.models import OutboxMessage
    from okno.push.models import Push
    from okno.robots.models import Deadline, RobotRun

    now = timezone.now()
    RobotRun.objects.filter(robot__pipeline=pipeline, purpose="escalation").delete()
    RobotRun.objects.filter(robot__pipeline=pipeline, purpose="action").filter(
        ~Q(status="pending") | Q(run_after__lt=now + timedelta(days=1))).update(
        status="pending", due_at=now + FAR, run_after=now + FAR, attempts=0, locked_until=None, result="", error="",
        finished_at=None)
    Deadline.objects.filter(robot__pipeline=pipeline, level=2).delete()
    Deadline.objects.filter(robot__pipeline=pipeline).filter(
        ~Q(status="open") | Q(run_after__lt=now + timedelta(days=1))).update(
        status="open", due_at=now + FAR, run_after=now + FAR, attempts=0, locked_until=None, closed_at=None,
        escalated_at=None)
    Deal.objects.filter(pipeline=pipeline, is_overdue=True).update(is_overdue=False)
    OutboxMessage.objects.filter(key__startswith="robotrun-").delete()
    Push.objects.filter(kind="robot").delete()


def analyze() -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for table in ("robots_deadline", "robots_robotrun", "deals_deal", "outbox_outboxmessage",
                          "outbox_deliveryattempt", "push_push"):
                cur.execute(f"ANALYZE {table}")
        else:
            cur.execute("ANALYZE")


def set_due(model, items: list[tuple[int, object]]) -> None:
    """due_at = run_after = the given time for each id, in one transaction (executemany)."""
    table = model._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"UPDATE {table} SET due_at = %s, run_after = %s WHERE id = %s",
                        [(adapt(due), adapt(due), pk) for pk, due in items])
