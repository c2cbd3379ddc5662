"""The work queue (issue 18): managers working a day through Next, the raw claim beside it, and
the supervisor board's live updates.

1. A day: 500 and 5,000 simulated managers (50 a department), each looping Next -> think (open
   the item, talk) -> outcome (done 75 %, no answer 15 %, call back 10 %) -> think, with the
   state changes the screen makes (on a call, wrap-up, idle), compressed into `day_seconds`.
   `threads` threads (one database connection each) run whichever manager's step is due next,
   so a slow step delays the others (their lateness is reported too). Measured: Next's service
   time (the service call, no HTTP) p50/p99; items handed to two managers (must be 0); items
   lost (seeded - done - open, plus failed steps; must be 0).
2. Beside it, in the same run, on its own department's items: the raw claim, one SQL statement
   per claim (`UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id`
   on PostgreSQL, the same without SKIP LOCKED on SQLite), and Next in a closed loop, claims/s
   with the same threads.
3. The board: `watchers` heads hold a Server-Sent Events stream open on one push process
   (granian, okno.push.asgi); a manager's state changes `board_rate` times a second; latency =
   the change's time -> its `work_board` frame read on each watcher's connection. Target p99 < 1 s.

Run: `make bench` or `.venv/bin/python -m bench bench_work --db postgres --scale small`.
"""

import heapq
import random
import threading
import time
import uuid
from contextlib import nullcontext
from datetime import timedelta

from django.db import connection, connections

from bench.ingest.scenarios import _pct

SCALES = {
    "full": {"managers": [500, 5000], "items_per_manager": 6, "day_seconds": 60, "threads": 24, "processes": 4,
             "raw_seconds": 5,
             "watchers": 500, "board_rate": 2, "board_seconds": 20},
    "small": {"managers": [60], "items_per_manager": 4, "day_seconds": 6, "threads": 6, "processes": 2,
              "raw_seconds": 2,
              "watchers": 40, "board_rate": 2, "board_seconds": 3},
}
# SQLite has one writer: the day is run smaller there, and its figures carry no target.
SQLITE_MANAGERS = [60]
PER_DEPARTMENT = 50
NEXT_P99_TARGET = 0.100
BOARD_P99_TARGET = 1.0


def _row(metric: str, value, target: str = "", ok: bool | None = None) -> dict:
    return {"metric": metric, "value": value, "target": target, "ok": ok}


class World:
    """This run's departments, managers and items, made through the ORM."""

    def __init__(self) -> None:
        from okno.people.models import Department

        self.run = uuid.uuid4().hex[:8]
        self.root, _ = Department.objects.get_or_create(name="bench work")

    def managers(self, count: int, tag: str) -> tuple[list, list[int]]:
        from django.contrib.auth.hashers import make_password

        from okno.people.models import Department, User
        from okno.work.models import ManagerShift

        departments = []
        for d in range((count + PER_DEPARTMENT - 1) // PER_DEPARTMENT):
            dept, _ = Department.objects.get_or_create(name=f"bench work {tag} {d}", defaults={"parent": self.root})
            departments.append(dept)
        password = make_password(None)
        existing = {u.username: u for u in User.objects.filter(username__startswith=f"bench-work-{tag}-")}
        fresh = [User(username=f"bench-work-{tag}-{i}", password=password, role=User.Role.MANAGER,
                      department=departments[i // PER_DEPARTMENT], first_name=f"Менеджер {i}")
                 for i in range(count) if f"bench-work-{tag}-{i}" not in existing]
        User.objects.bulk_create(fresh, batch_size=1000)
        users = list(User.objects.filter(username__startswith=f"bench-work-{tag}-").order_by("pk"))[:count]
        # Just closed an item: the day is the queue's (the dormant stack is bench_duplicates' cards' business).
        from django.utils import timezone

        ManagerShift.objects.filter(user__in=users).delete()
        ManagerShift.objects.bulk_create([ManagerShift(user=u, last_closed_at=timezone.now()) for u in users],
                                         batch_size=1000)
        return users, [d.pk for d in departments]

    def items(self, department_ids: list[int], per_department: int) -> list[int]:
        from django.utils import timezone

        from okno.work.models import WorkItem

        now = timezone.now()
        kinds = ["callback", "new_lead", "task", "follow_up", "payment_control"]
        rng = random.Random(7)
        rows = [WorkItem(kind=rng.choice(kinds), department_id=d, title=f"bench {self.run}",
                         due_at=now - timedelta(minutes=rng.randrange(1, 600)))
                for d in department_ids for _ in range(per_department)]
        WorkItem.objects.bulk_create(rows, batch_size=2000)
        return list(WorkItem.objects.filter(title=f"bench {self.run}", department_id__in=department_ids)
                    .values_list("pk", flat=True))

    def close(self) -> None:
        from okno.push.models import Push
        from okno.work.models import AgentState, AgentStateEvent, WorkItem

        AgentStateEvent.objects.filter(user__username__startswith="bench-work-").delete()
        AgentState.objects.filter(user__username__startswith="bench-work-").delete()
        WorkItem.objects.filter(title=f"bench {self.run}").delete()
        Push.objects.filter(kind="work_board", user__username__startswith="bench-work-").delete()


def run(*, db: str, scale: str) -> list[dict]:
    cfg = SCALES[scale]
    if db != "postgres":  # one writer at a time: more threads only queue on its lock
        cfg = {**cfg, "threads": min(cfg["threads"], 4)}
    world = World()
    rows: list[dict] = []
    try:
        sizes = cfg["managers"] if db == "postgres" else SQLITE_MANAGERS
        for count in sizes:
            rows += _day(world, cfg, count, db)
        rows += _raw_and_next(world, cfg, db)
        rows += _board(world, cfg)
    finally:
        world.close()
    return rows


# -- 1. the day --------------------------------------------------------------------------------------

def _day(world: World, cfg: dict, count: int, db: str) -> list[dict]:
    from django.db.models import Count

    from okno.work.models import WorkItem

    users, departments = world.managers(count, tag=str(count))
    items = world.items(departments, PER_DEPARTMENT * cfg["items_per_manager"])
    _analyze(db)
    day = cfg["day_seconds"]
    think = day / (cfg["items_per_manager"] * 2) * 0.8
    start = time.monotonic() + 2.0
    # The managers are shared out among `processes` processes (as a site's managers are among its
    # web processes), each with its share of the threads: in one process the threads' Python
    # work queued on one interpreter lock, and that queue, not Okno, was most of Next's time.
    processes = max(1, min(cfg.get("processes", 1), cfg["threads"]))
    shares = [[u.pk for u in users[n::processes]] for n in range(processes)]
    args = [(share, max(1, cfg["threads"] // processes), think, day, start, count * 100 + n)
            for n, share in enumerate(shares)]
    wall = time.monotonic()
    if processes == 1:
        parts = [_day_part(*args[0])]
    else:
        import multiprocessing

        connections.close_all()  # the children open their own
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.starmap(_day_part, args)
    wall = time.monotonic() - wall
    handed: dict[int, set[int]] = {}
    next_times: list[float] = []
    late: list[float] = []
    errors: list[str] = []
    for part in parts:
        next_times += part["next_times"]
        late += part["late"]
        errors += part["errors"]
        for item_pk, user_pk in part["handed"]:
            handed.setdefault(item_pk, set()).add(user_pk)
    twice = sum(1 for managers in handed.values() if len(managers) > 1)
    states = dict(WorkItem.objects.filter(pk__in=items).order_by().values("status").annotate(n=Count("id"))
                  .values_list("status", "n"))
    lost = len(items) - states.get("done", 0) - states.get("open", 0) + len(errors)
    p99 = _pct(next_times, 0.99)
    target = NEXT_P99_TARGET if db == "postgres" and count <= 500 else None
    label = f"{count} managers, {cfg['threads']} threads in {processes} processes, {day:g} s day"
    return [
        _row(f"Next p50/p99 s ({label})", f"{_pct(next_times, 0.5)}/{p99}",
             f"p99 < {NEXT_P99_TARGET:g}" if target else "reported",
             (p99 is not None and p99 < target) if target else None),
        _row(f"items handed / done / handed twice / lost ({count} managers)",
             f"{len(handed)} / {states.get('done', 0)} / {twice} / {lost}", "0 twice, 0 lost",
             twice == 0 and lost == 0),
        _row(f"Next calls, claims/s over the day, steps late p99 s ({count} managers)",
             f"{len(next_times)}, {len(handed) / wall:.0f}, {_pct(late, 0.99)}"),
    ] + ([_row("errors (first)", errors[0])] if errors else [])


def _day_part(user_pks: list[int], threads: int, think: float, day: float, start: float, seed: int) -> dict:
    """One process's share of the day: its managers' steps run by `threads` threads (one database
    connection each). Next -> on a call -> think -> wrap-up, outcome -> think -> Next, the state
    changes the screen makes (idle only when Next brings nothing)."""
    from django.utils import timezone

    from okno.people.models import User
    from okno.work import queue
    from okno.work.states import agent_state_set

    rng = random.Random(seed)
    by_pk = {u.pk: u for u in User.objects.filter(pk__in=user_pks).select_related("department")}
    heap = [(start + rng.random() * think, pk, "next", None) for pk in user_pks]
    heapq.heapify(heap)
    lock = threading.Lock()
    out: dict = {"next_times": [], "late": [], "errors": [], "handed": []}
    ends = start + day

    def step(due: float, pk: int, phase: str, item) -> tuple | None:
        user = by_pk[pk]
        if phase == "next":
            if due > ends:
                return None
            t0 = time.perf_counter()
            got = queue.workitem_next(actor=user)
            took = time.perf_counter() - t0
            with lock:
                out["next_times"].append(took)
            if got is None:
                agent_state_set(user=user, state="idle")
                return (time.monotonic() + think, pk, "next", None)
            with lock:
                out["handed"].append((got.pk, user.pk))
            agent_state_set(user=user, state="on_call", item=got)
            return (time.monotonic() + think * rng.uniform(0.5, 1.5), pk, "close", got)
        roll = rng.random()
        if roll < 0.75:
            queue.workitem_close(actor=user, item=item, outcome="done")
        elif roll < 0.9:
            queue.workitem_close(actor=user, item=item, outcome="no_answer")
        else:
            queue.workitem_close(actor=user, item=item, outcome="call_back",
                                 next_at=timezone.now() + timedelta(hours=rng.randrange(1, 6)))
        agent_state_set(user=user, state="wrap_up", item=item)
        return (time.monotonic() + think * rng.uniform(0.2, 0.6), pk, "next", None)

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not heap:
                        return
                    due, pk, phase, item = heapq.heappop(heap)
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                else:
                    with lock:
                        out["late"].append(-wait)
                try:
                    follow = step(due, pk, phase, item)
                except Exception as exc:  # noqa: BLE001 - counted: a failed step may lose an item
                    with lock:
                        out["errors"].append(repr(exc)[:200])
                    follow = (time.monotonic() + think, pk, "next", None) if phase == "next" else None
                if follow is not None:
                    with lock:
                        heapq.heappush(heap, follow)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return out


def _analyze(db: str) -> None:
    """Fresh statistics for the seeded queue, as a live table has (autovacuum's ANALYZE): without
    them the planner reads the queue through the wrong index for the first minutes."""
    if db == "postgres":
        with connection.cursor() as cur:
            cur.execute("ANALYZE work_workitem")


# -- 2. the raw claim beside Next ----------------------------------------------------------------------

# One kind, so that the statement walks the queue index (department, kind, due_at) in order, as
# each of Next's rank probes does: without it every claim sorted the department's 20,000 due items
# and the "raw" figure measured that sort (half Next's rate), not the claim.
RAW_PG = """UPDATE work_workitem SET assignee_id = %s WHERE id = (
  SELECT id FROM work_workitem WHERE status = 'open' AND assignee_id IS NULL AND department_id = %s
  AND kind = 'callback' AND due_at <= now() ORDER BY due_at, id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id"""
RAW_SQLITE = """UPDATE work_workitem SET assignee_id = %s WHERE id = (
  SELECT id FROM work_workitem WHERE status = 'open' AND assignee_id IS NULL AND department_id = %s
  AND kind = 'callback' AND due_at <= %s ORDER BY due_at, id LIMIT 1) AND assignee_id IS NULL RETURNING id"""


def _closed_loop(seconds: float, threads: int, fn) -> tuple[int, set[int], int]:
    claimed: list[int] = []
    dupes = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(n: int) -> None:
        try:
            while time.monotonic() < stop:
                pk = fn(n)
                if pk is None:
                    return
                with lock:
                    claimed.append(pk)
        finally:
            connections.close_all()

    ts = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dupes = len(claimed) - len(set(claimed))
    return len(claimed), set(claimed), dupes


def _raw_and_next(world: World, cfg: dict, db: str) -> list[dict]:
    from django.db import transaction
    from django.utils import timezone

    from okno.people.models import User
    from okno.work import queue

    users, departments = world.managers(cfg["threads"], tag="raw")
    dept = departments[0]
    world.items([dept], 20000 if db == "postgres" else 5000)
    _analyze(db)
    seconds = cfg["raw_seconds"]
    sql = RAW_PG if db == "postgres" else RAW_SQLITE

    def raw(n: int):
        params = [users[n].pk, dept] + ([] if db == "postgres" else [timezone.now()])
        # PostgreSQL: the one statement in autocommit, as Next's claim runs; SQLite: IMMEDIATE.
        with (transaction.atomic() if db != "postgres" else nullcontext()), connection.cursor() as cur:
            cur.execute(sql, params)
            got = cur.fetchone()
        return got[0] if got else None

    raw_n, _ids, raw_dupes = _closed_loop(seconds, cfg["threads"], raw)
    actors = {u.pk: u for u in User.objects.filter(pk__in=[u.pk for u in users]).select_related("department")}

    def nxt(n: int):
        from okno.work.models import WorkItem

        actor = actors[users[n].pk]
        item = queue.workitem_next(actor=actor)
        if item is None:
            return None
        # Closed at once so the next call claims a new one (Next returns an item still held).
        WorkItem.objects.filter(pk=item.pk).update(status="done", closed_at=timezone.now())
        return item.pk

    next_n, _ids2, next_dupes = _closed_loop(seconds, cfg["threads"], nxt)
    raw_rate, next_rate = raw_n / seconds, next_n / seconds
    name = "SKIP LOCKED" if db == "postgres" else "conditional"
    return [
        _row(f"raw {name} claim/s ({cfg['threads']} threads)", round(raw_rate), "0 claimed twice", raw_dupes == 0),
        _row(f"Next claim/s, closed loop ({cfg['threads']} threads), share of raw",
             f"{next_rate:.0f} ({next_rate / raw_rate:.0%})" if raw_rate else f"{next_rate:.0f}",
             "0 claimed twice", next_dupes == 0),
    ]


# -- 3. the board's live updates ---------------------------------------------------------------------

def _board(world: World, cfg: dict) -> list[dict]:
    from datetime import datetime

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from bench.ingest.procs import Procs, free_port
    from bench.work_listeners import BoardListenersProcess
    from okno.people.models import Department, User
    from okno.work.states import agent_state_set

    dept, _ = Department.objects.get_or_create(name="bench work board", defaults={"parent": None})
    watchers, sessions = [], []
    for i in range(cfg["watchers"]):
        user, _ = User.objects.get_or_create(username=f"bench-work-head-{i}", defaults={
            "department": dept, "role": User.Role.HEAD, "first_name": f"Руководитель {i}"})
        watchers.append(user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    manager, _ = User.objects.get_or_create(username="bench-work-board-manager", defaults={
        "department": dept, "role": User.Role.MANAGER, "first_name": "Оператор"})
    others = User.objects.filter(is_active=True).exclude(department=dept).filter(role=User.Role.ADMIN).count()
    procs = Procs()
    port = free_port()
    procs.push(port=port)
    listeners = BoardListenersProcess(port=port, sessions=sessions, user_id=manager.pk)
    try:
        listeners.start()
        states = ["on_call", "wrap_up", "idle", "break"]
        count = int(cfg["board_rate"] * cfg["board_seconds"])
        sent: list[str] = []
        for n in range(count):
            row = agent_state_set(user=manager, state=states[n % len(states)])
            sent.append(row.since.isoformat())
            time.sleep(1 / cfg["board_rate"])
        deadline = time.monotonic() + 10
        expected = count * listeners.connected
        while time.monotonic() < deadline and listeners.received() < expected:
            time.sleep(0.1)
        listeners.close()  # hands over what arrived, and when
        lat = [arrived - datetime.fromisoformat(since).timestamp()
               for since in sent for arrived in listeners.arrivals.get(since, [])]
        lost = expected - len(lat)
    finally:
        listeners.close()
        procs.close()
    p99 = _pct(lat, 0.99)
    return [_row(f"board update p50/p99 s, {listeners.connected}/{len(sessions)} boards open on one push process, "
                 f"{cfg['board_rate']} changes/s (+{others} administrators pushed too)",
                 f"{_pct(lat, 0.5)}/{p99}" + (f" lost {lost}" if lost else ""), f"p99 < {BOARD_P99_TARGET:g}",
                 p99 is not None and p99 < BOARD_P99_TARGET and lost == 0)]
