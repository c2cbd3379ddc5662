"""The kanban board of a pipeline holding 100,000 deals: server time p50/p95 (target p95 < 300 ms).

One pipeline of the online store's five stages ("bench-kanban-<n>-v1"), 100,000 deals spread
over the stages (40/10/20/20/10 %) and the past 90 days, 5 % overdue, each with a responsible
of one of two departments (20 managers, one head each) and, for 90 % of them, a contact of that
department (10,000 cards of this benchmark's own). Seeded with bulk inserts; a database that
already holds the set is reused.

Timed through Django's test client (URL routing, session, middleware, the selectors, template
rendering: all the server does for the page), one persona after another:
- an administrator (every deal: the aggregate walks the whole pipeline),
- a head of department (the subtree's deals, through the contact's visibility rule),
- a manager whose department shares contacts,
- a manager with "my deals" and a search,
- "load more" of a column (the next 20 cards),
- a drop (POST move, the move service and the columns' new sums).
The commit measured is recorded as a row (`git rev-parse HEAD`, "+dirty" when bench/ or
okno/deals/ had uncommitted changes to tracked files).
"""

import gc
import os
import random
import subprocess
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from okno.contacts.models import Contact
from okno.deals.models import Deal, DealStageChange, Pipeline, Stage
from okno.people.models import Department, User

SIZES = {"full": 100_000, "small": 5_000}
SAMPLES = {"full": 100, "small": 20}
WARMUP = 5
TARGET_MS = 300
STAGE_SHARES = [0.4, 0.1, 0.2, 0.2, 0.1]
STAGES = [("Новый", Stage.Kind.OPEN), ("Пауза", Stage.Kind.PAUSED), ("Подтверждён", Stage.Kind.OPEN),
          ("Выполнен", Stage.Kind.WON), ("Отменён", Stage.Kind.LOST)]
ROOT = Path(__file__).resolve().parent.parent
TITLES = ["Заказ", "Диван", "Кухня", "Шкаф", "Доставка", "Монтаж", "Поставка", "Комплект"]


def commit_measured() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bench", "okno/deals")
    return head + ("+dirty" if dirty else "")


def _people(tag: str) -> dict:
    """Two departments (the first shares contacts), a head and ten managers each, an admin."""
    out = {"departments": [], "managers": [], "heads": []}
    for d in range(2):
        dept, _ = Department.objects.get_or_create(name=f"{tag} отдел {d}", defaults={"share_contacts": d == 0})
        out["departments"].append(dept)
        head, _ = User.objects.get_or_create(username=f"{tag}-head-{d}", defaults={
            "role": User.Role.HEAD, "department": dept, "first_name": "Руководитель", "last_name": str(d)})
        out["heads"].append(head)
        for m in range(10):
            user, _ = User.objects.get_or_create(username=f"{tag}-m{d}-{m}", defaults={
                "role": User.Role.MANAGER, "department": dept, "first_name": "Менеджер", "last_name": f"{d}-{m}"})
            out["managers"].append(user)
    out["admin"], _ = User.objects.get_or_create(username=f"{tag}-admin", defaults={"role": User.Role.ADMIN})
    return out


def _seed(n: int, tag: str, people: dict) -> tuple[Pipeline, bool]:
    name = f"{tag}-{n}-v1"
    pipeline = Pipeline.objects.filter(name=name).first()
    if pipeline is not None and Deal.objects.filter(pipeline=pipeline).count() == n:
        return pipeline, True
    if pipeline is not None:  # a run killed while loading: start again
        DealStageChange.objects.filter(deal__pipeline=pipeline).delete()
        Deal.objects.filter(pipeline=pipeline).delete()
        pipeline.stages.all().delete()
        pipeline.delete()
    rng = random.Random(12)
    with transaction.atomic():
        pipeline = Pipeline.objects.create(name=name)
        Stage.objects.bulk_create([Stage(pipeline=pipeline, name=s, kind=k, position=i)
                                   for i, (s, k) in enumerate(STAGES)])
    stages = list(pipeline.stages.order_by("position"))
    Contact.objects.filter(source=name).delete()
    managers = people["managers"]
    contacts = Contact.objects.bulk_create([
        Contact(first_name=f"Клиент {i}", last_name="Бенчмарков", source=name,
                responsible=managers[i % len(managers)], department_id=managers[i % len(managers)].department_id)
        for i in range(max(1, n // 10))], batch_size=2000)
    by_department: dict[int, list[int]] = {}
    for c in contacts:
        by_department.setdefault(c.department_id, []).append(c.pk)
    now = timezone.now()
    cumulative = [sum(STAGE_SHARES[: i + 1]) for i in range(len(STAGE_SHARES))]
    batch = []
    for i in range(n):
        r = rng.random()
        stage = stages[next(k for k, edge in enumerate(cumulative) if r <= edge or k == len(cumulative) - 1)]
        owner = managers[rng.randrange(len(managers))]
        created = now - timedelta(seconds=rng.randrange(90 * 86400))
        batch.append(Deal(
            pipeline=pipeline, stage=stage, title=f"{rng.choice(TITLES)} №{i}",
            amount=Decimal(rng.randrange(100, 5_000_000)) / 100, responsible=owner,
            department_id=owner.department_id,
            contact_id=rng.choice(by_department[owner.department_id]) if rng.random() < 0.9 else None,
            is_overdue=stage.kind in (Stage.Kind.OPEN, Stage.Kind.PAUSED) and rng.random() < 0.05,
            created_at=created, stage_entered_at=created + timedelta(seconds=rng.randrange(3600)),
            closed_at=created if stage.kind in Stage.CLOSED else None,
        ))
        if len(batch) == 5000:
            Deal.objects.bulk_create(batch)
            batch = []
    if batch:
        Deal.objects.bulk_create(batch)
    return pipeline, False


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)


def _time(client: Client, samples: int, request, cpu: list[float] | None = None) -> list[float]:
    """Wall time per request; `cpu` collects this process's CPU time per request too (on SQLite
    that includes the database's work, on PostgreSQL not): on a machine shared with other work,
    wall time counts the waits for a core, CPU time does not."""
    out = []
    for i in range(samples + WARMUP):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = request(client)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        if response.status_code not in (200, 400):
            raise RuntimeError(f"reply {response.status_code}: {response.content[:300]!r}")
        if i >= WARMUP:
            out.append(elapsed)
            if cpu is not None:
                cpu.append(elapsed_cpu)
    return out


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run(*, db: str, scale: str) -> list[dict]:
    n, samples = SIZES[scale], SAMPLES[scale]
    tag = "bench-kanban"
    t0 = time.monotonic()
    people = _people(tag)
    pipeline, reused = _seed(n, tag, people)
    seed_seconds = time.monotonic() - t0
    if connection.vendor == "postgresql":
        # As autovacuum would after a load of this size: a fresh table's statistics say "empty".
        with connection.cursor() as cur:
            for table in ("deals_deal", "contacts_contact", "deals_stage", "people_user"):
                cur.execute(f"ANALYZE {table}")
    board = reverse("deals:board", args=[pipeline.pk])
    first_stage = pipeline.stages.order_by("position").first()
    manager = people["managers"][0]
    gc.collect()
    gc.freeze()
    rows = [
        {"metric": "commit", "value": commit_measured(), "target": "", "ok": None},
        {"metric": "deals in the pipeline", "value": Deal.objects.filter(pipeline=pipeline).count(), "target": "",
         "ok": None},
        {"metric": "seed seconds", "value": round(seed_seconds, 1), "target": "reused" if reused else "bulk",
         "ok": None},
    ]
    personas = [
        ("board, administrator (all deals)", people["admin"], lambda c: c.get(board)),
        ("board, head of department", people["heads"][0], lambda c: c.get(board)),
        ("board, manager (department shares contacts)", manager, lambda c: c.get(board)),
        ("board, manager, my deals + search", manager, lambda c: c.get(board, {"mine": "1", "q": "Диван"})),
        ("board, administrator, period filter", people["admin"],
         lambda c: c.get(board, {"from": (timezone.localdate() - timedelta(days=30)).isoformat()})),
    ]
    for label, user, request in personas:
        client = _client(user)
        cpu: list[float] = []
        times = _time(client, samples, request, cpu)
        p95 = pct(times, 0.95)
        rows.append({"metric": f"{label} p50 ms", "value": pct(times, 0.5), "target": "", "ok": None})
        rows.append({"metric": f"{label} p95 ms", "value": p95, "target": f"< {TARGET_MS}", "ok": p95 < TARGET_MS})
        rows.append({"metric": f"{label} p95 CPU ms (web process)", "value": pct(cpu, 0.95), "target": "",
                     "ok": None})
    # "Load more" from deep in the biggest column: a cursor, not an offset.
    admin = _client(people["admin"])
    anchor = (Deal.objects.filter(stage=first_stage).order_by("-created_at", "-id")
              .values_list("pk", flat=True)[n // 10])
    column = reverse("deals:column", args=[pipeline.pk, first_stage.pk])
    times = _time(admin, samples, lambda c: c.get(column, {"after": anchor}))
    rows.append({"metric": "load more (20 cards, deep in a column) p95 ms", "value": pct(times, 0.95),
                 "target": f"< {TARGET_MS}", "ok": pct(times, 0.95) < TARGET_MS})
    # A drop: move a deal between the two open stages and back (the move, its history row, the
    # activity when it has a contact, the columns' sums answered).
    stages = list(pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position"))
    deal = Deal.objects.filter(pipeline=pipeline, stage=stages[0]).order_by("-created_at").first()
    flip = {"i": 0}

    def move(c: Client):
        flip["i"] += 1
        return c.post(reverse("deals:move", args=[deal.pk]), {"stage": stages[flip["i"] % 2].pk},
                      HTTP_ACCEPT="application/json")

    times = _time(admin, samples, move)
    rows.append({"metric": "drop a card (POST move + new sums) p95 ms", "value": pct(times, 0.95), "target": "",
                 "ok": None})
    gc.unfreeze()
    rows.append({"metric": "load average during run", "value": round(os.getloadavg()[0], 1), "target": "2 cores",
                 "ok": None})
    rows.append({"metric": "nice of the benchmark process", "value": os.nice(0), "target": "", "ok": None})
    return rows
