"""bench_analytics' year of calls, written by the database itself: one INSERT ... SELECT over a
series (PostgreSQL's generate_series, SQLite's recursive CTE) per million calls, no ORM and no
Python per row, so 10,000,000 calls take minutes, not an hour.

Every value is a function of the row number i (no random(): the same set on both databases):
- day i // per_day of the 365 up to today, spread evenly over 9:00-20:00 in the company's zone;
- 70 % inbound (15 % of them missed, a third of those abandoned in the IVR), 25 % outbound (30 %
  not answered), 5 % internal; wait 0-59 s, talk 0-599 s;
- 500 employees in 20 departments, each department with its own line;
- 300,000 customer numbers; every fifth outbound call dials the number of the call 20 rows
  (about 30 s) earlier, so the missed ones among those are called back within the window.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

NUMBERS = 300_000
CHUNK = 1_000_000
DAY_START, DAY_SECONDS = 9 * 3600, 11 * 3600

COLUMNS = ("channel_id, pbx_call_id, direction, customer_number, line, contact_id, employee_id, department_id, "
           "unmatched_extension, started_at, answered_at, ended_at, wait_seconds, talk_seconds, outcome, "
           "recording_id, callback_id, callback_due, facts, created_at, updated_at")


def _select(vendor: str, *, per_day: int) -> str:
    """The SELECT of one chunk; parameters: channel, base epoch, now, first i, last i."""
    pg = vendor == "postgresql"
    at = ("to_timestamp(%s + {secs})" if pg else "strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s + {secs}, 'unixepoch')")
    num = "'+7495' || lpad(({x})::text, 7, '0')" if pg else "'+7495' || printf('%%07d', {x})"
    series = ("generate_series(%s::bigint, %s::bigint) AS g(i)" if pg else "s")
    started = f"(d.day * 86400 + {DAY_START} + (d.i % {per_day}) * {DAY_SECONDS} / {per_day})"
    return f"""
        SELECT %s, 'ba-' || d.i, d.dir,
          {num.format(x=f"(CASE WHEN d.dir = 'out' AND d.i % 5 = 0 AND d.i >= 20 THEN d.i - 20 ELSE d.i END"
                         f" * 48271) % {NUMBERS}")},
          e.line, NULL, e.user_id, e.department_id, '',
          {at.format(secs=started)},
          CASE WHEN d.ans = 1 THEN {at.format(secs=f"{started} + d.wait")} END,
          {at.format(secs=f"{started} + d.wait + d.talk")},
          d.wait, d.talk,
          CASE WHEN d.ans = 1 THEN 'answered' WHEN d.dir = 'in' AND d.i % 3 = 0 THEN 'abandoned' ELSE 'missed' END,
          '', NULL, {"false" if pg else "0"}, '[]', %s, %s
        FROM (
          SELECT i, i / {per_day} AS day, dir, ans, (i * 3) % 60 AS wait,
                 CASE WHEN ans = 1 THEN (i * 11) % 600 ELSE 0 END AS talk, (i * 104729) % 500 AS eidx
          FROM (
            SELECT i, dir, CASE WHEN dir = 'in' THEN (CASE WHEN (i * 13) % 100 >= 15 THEN 1 ELSE 0 END)
                                WHEN dir = 'out' THEN (CASE WHEN (i * 17) % 100 >= 30 THEN 1 ELSE 0 END)
                                ELSE 1 END AS ans
            FROM (SELECT i, CASE WHEN (i * 7919) % 1000 < 700 THEN 'in' WHEN (i * 7919) % 1000 < 950 THEN 'out'
                                 ELSE 'internal' END AS dir FROM {series}) a
          ) b
        ) d JOIN bench_emp e ON e.idx = d.eidx"""


def _drop_indexes(cur) -> list[str]:
    """Drops telephony_call's plain indexes (not those behind its primary key and unique
    constraint) and returns their definitions, to be built again after the load."""
    cur.execute("""SELECT i.indexname, i.indexdef FROM pg_indexes i
                   WHERE i.tablename = 'telephony_call' AND i.schemaname = current_schema()
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""")
    found = cur.fetchall()
    for name, _definition in found:
        cur.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def seed_calls(*, n: int, channel_id: int, employees: list[tuple[int, int, str]], progress=None) -> None:
    """Inserts calls 0..n-1 of the channel. `employees`: (user id, department id, line), 500 of them."""
    vendor = connection.vendor
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(timezone=tz)
    first = today - timedelta(days=364)
    base = int(datetime(first.year, first.month, first.day, tzinfo=tz).timestamp())
    per_day = -(-n // 365)
    # Written a day ago: the rollup's worker then takes the set as history, not as calls just changed.
    now = timezone.now() - timedelta(days=1)
    select = _select(vendor, per_day=per_day).replace(" % ", " %% ")  # modulo, not a parameter
    if vendor != "postgresql":  # SQLite keeps UTC as text, as Django writes it
        now = now.astimezone(UTC).replace(tzinfo=None).isoformat(" ", timespec="seconds")
    with connection.cursor() as cur:
        dropped = _drop_indexes(cur) if vendor == "postgresql" else []
        superuser = False
        if vendor == "postgresql":
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            superuser = bool(cur.fetchone()[0])
        cur.execute("DROP TABLE IF EXISTS bench_emp")
        cur.execute("CREATE TEMP TABLE bench_emp (idx integer PRIMARY KEY, user_id bigint, department_id bigint, "
                    "line varchar(64))")
        cur.executemany("INSERT INTO bench_emp VALUES (%s, %s, %s, %s)",
                        [(i, u, d, line) for i, (u, d, line) in enumerate(employees)])
        try:
            for lo in range(0, n, CHUNK):
                hi = min(n, lo + CHUNK) - 1
                with transaction.atomic():
                    if vendor == "postgresql":
                        if superuser:
                            # Not the foreign keys' triggers per row at COMMIT (most of a chunk's
                            # time): every id comes from bench_emp and the channel, all existing.
                            cur.execute("SET LOCAL session_replication_role = replica")
                        # to_timestamp takes the seconds since the epoch; the seconds' expression repeats %s
                        sql = f"INSERT INTO telephony_call ({COLUMNS}) {select}"
                        params = [channel_id, *[base] * 3, now, now, lo, hi]
                    else:
                        sql = (f"WITH RECURSIVE s(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM s WHERE i < %s) "
                               f"INSERT INTO telephony_call ({COLUMNS}) {select}")
                        params = [lo, hi, channel_id, *[base] * 3, now, now]
                    cur.execute(sql, params)
                if progress:
                    progress(hi + 1)
        finally:
            if dropped:
                # Built once over the whole set: several times faster than kept up row by row.
                cur.execute("SET maintenance_work_mem = '512MB'")
                for definition in dropped:
                    cur.execute(definition)
        cur.execute("DROP TABLE bench_emp")
