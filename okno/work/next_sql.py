"""Next's hot path in plain SQL: the rules-and-break read (both databases) and, on PostgreSQL, the
whole claim in one statement; and the screen's state changes on PostgreSQL (two statements).

Why not the ORM here: at 500 managers (bench/bench_work.py) Next's time went to building its
queries, not to running them: the ORM spent several milliseconds of CPU compiling the four or
five statements of each Next, and on a shared 2-core machine every millisecond of CPU under load
became tens of milliseconds of waiting. These statements are built once per shape and only
executed; each is proven equal to the ORM path it replaces (okno/work/tests/test_queue_next_sql.py).
"""

import json
from datetime import UTC, datetime
from functools import lru_cache

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from okno.work.models import DepartmentWorkSettings, ManagerShift, WorkItem
from okno.work.models_states import AgentState, AgentStateEvent

SETTINGS_FIELDS = ("priorities", "daily_capacity", "max_break_minutes", "dormant_after_days", "retry_minutes",
                   "wrap_up_seconds")


def _aware(value) -> datetime | None:
    """A datetime as the raw cursor gives it (PostgreSQL: aware; SQLite: naive UTC, or text) made aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value


@lru_cache(maxsize=1)
def _rules_sql() -> str:
    rules = DepartmentWorkSettings._meta.db_table
    shift, state = ManagerShift._meta.db_table, AgentState._meta.db_table
    columns = ", ".join(f"s.{DepartmentWorkSettings._meta.get_field(f).column}" for f in SETTINGS_FIELDS)
    return (f"SELECT s.id, {columns}, "
            f"(SELECT last_closed_at FROM {shift} WHERE user_id = %s), "
            f"(SELECT state FROM {state} WHERE user_id = %s), "
            f"(SELECT since FROM {state} WHERE user_id = %s) "
            f"FROM (SELECT 1 AS one) AS one LEFT JOIN {rules} s ON s.department_id = %s")


def rules_and_state(*, user_id: int, department_id: int) -> tuple[DepartmentWorkSettings, datetime | None,
                                                                    str | None, datetime | None]:
    """The department's rules (its row, or the defaults unsaved), the person's last close, state
    and since when: one statement, one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(_rules_sql(), [user_id, user_id, user_id, department_id])
        row = cursor.fetchone()
    pk, values, (last, state, since) = row[0], row[1:1 + len(SETTINGS_FIELDS)], row[1 + len(SETTINGS_FIELDS):]
    if pk is None:
        rules = DepartmentWorkSettings(department_id=department_id)
    else:
        fields = dict(zip(SETTINGS_FIELDS, values, strict=True))
        raw = fields["priorities"]
        fields["priorities"] = json.loads(raw) if isinstance(raw, str | bytes) else raw
        rules = DepartmentWorkSettings(id=pk, department_id=department_id, **fields)
    return rules, _aware(last), state, _aware(since)


@lru_cache(maxsize=64)
def _claim_sql(groups: tuple[tuple[str, ...], ...]) -> str:
    """One statement for the ranked claim (PostgreSQL). Per rank group, in rank order: the
    department's first unassigned due item of the group's kinds that is due before every own item
    of those kinds (an indexed LIMIT 1 on `work_item_queue`, locked with SKIP LOCKED, so that
    concurrent managers lock different rows and never wait), else the caller's own first item of
    the group. The groups are one COALESCE: it stops at the first group with an item, so the
    groups below it are not read and none of their rows locked. The pick is claimed by a
    conditional UPDATE; `picked` tells "nothing due" (null) from "lost a race" (picked, but the
    UPDATE changed nothing: read again)."""
    table = WorkItem._meta.db_table
    columns = ", ".join(f"u.{f.column}" for f in WorkItem._meta.concrete_fields)
    ctes = [f"own AS MATERIALIZED (SELECT id, kind, due_at FROM {table} "
            f"WHERE assignee_id = %(me)s AND status = 'open' AND due_at <= %(now)s)"]
    picks = []
    for n, kinds in enumerate(groups):
        in_kinds = ", ".join(f"%(k{n}_{i})s" for i in range(len(kinds)))
        ctes.append(
            f"q{n} AS MATERIALIZED (SELECT w.id FROM {table} w WHERE w.status = 'open' AND w.assignee_id IS NULL "
            f"AND w.department_id = %(dept)s AND w.kind IN ({in_kinds}) AND w.due_at <= %(now)s "
            f"AND NOT EXISTS (SELECT 1 FROM own o WHERE o.kind IN ({in_kinds}) "
            f"AND (o.due_at < w.due_at OR (o.due_at = w.due_at AND o.id < w.id))) "
            f"ORDER BY w.due_at, w.id LIMIT 1 FOR UPDATE SKIP LOCKED)")
        picks.append(f"(SELECT id FROM q{n})")
        picks.append(f"(SELECT id FROM own WHERE kind IN ({in_kinds}) ORDER BY due_at, id LIMIT 1)")
    ctes.append(f"pick AS (SELECT COALESCE({', '.join(picks)}) AS id)")
    ctes.append(f"upd AS (UPDATE {table} SET assignee_id = %(me)s WHERE id = (SELECT id FROM pick) "
                f"AND status = 'open' AND (assignee_id IS NULL OR assignee_id = %(me)s) RETURNING *)")
    return (f"WITH {', '.join(ctes)} SELECT (SELECT id FROM pick), {columns} "
            f"FROM (SELECT 1 AS one) AS one LEFT JOIN upd u ON true")


class LostRace(Exception):
    """The picked item was taken (or given away) between the pick and the UPDATE: read again."""


def claim_postgres(*, user_id: int, department_id: int, groups: list[list[str]], now: datetime) -> WorkItem | None:
    """The ranked claim in one statement (autocommit: no transaction round trips): the item now
    the caller's, None when nothing is due; LostRace when the pick was taken meanwhile."""
    key = tuple(tuple(kinds) for kinds in groups)
    params: dict = {"me": user_id, "dept": department_id, "now": now}
    for n, kinds in enumerate(key):
        params.update({f"k{n}_{i}": kind for i, kind in enumerate(kinds)})
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(key), params)
        row = cursor.fetchone()
    picked, values = row[0], row[1:]
    if picked is None:
        return None
    if values[0] is None:
        raise LostRace
    names = [f.attname for f in WorkItem._meta.concrete_fields]
    return WorkItem.from_db(connection.alias, names, values)


# -- the screen's state changes (okno/work/states.py), two per item: on a call, wrap-up ----------

@lru_cache(maxsize=1)
def _state_sql() -> tuple[str, str]:
    state, events = AgentState._meta.db_table, AgentStateEvent._meta.db_table
    locked = f"SELECT state, since, item_id FROM {state} WHERE user_id = %s FOR UPDATE"
    move = (f"WITH ended AS (UPDATE {events} SET ended_at = %(at)s WHERE user_id = %(user)s AND ended_at IS NULL), "
            f"started AS (INSERT INTO {events} (user_id, state, item_id, started_at, ended_at) "
            f"VALUES (%(user)s, %(state)s, %(item)s, %(at)s, NULL)) "
            f"UPDATE {state} SET state = %(state)s, since = %(at)s, item_id = %(item)s WHERE user_id = %(user)s")
    return locked, move


def state_locked_postgres(*, user_id: int) -> tuple[str, datetime, int | None] | None:
    """The person's state row (state, since, item), locked for the transaction."""
    with connection.cursor() as cursor:
        cursor.execute(_state_sql()[0], [user_id])
        return cursor.fetchone()


def state_move_postgres(*, user_id: int, state: str, item_id: int | None, at: datetime) -> None:
    """The open stretch ended at `at`, the new one started, the current row moved: one statement
    (after `state_locked_postgres`, in the same transaction, so that it sees every committed stretch)."""
    with connection.cursor() as cursor:
        cursor.execute(_state_sql()[1], {"user": user_id, "state": state, "item": item_id, "at": at})
