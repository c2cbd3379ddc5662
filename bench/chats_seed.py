"""bench_analytics_reports' year of chats, written by the database itself (INSERT ... SELECT over a
series, as bench/analytics_seed.py writes the calls): no ORM and no Python per row.

Every value is a function of the row number i (the same set on both databases):
- day i // per_day of the 365 up to today, spread evenly over 9:00-20:00 in the company's zone;
- three Jivo channels (two with a department), 500 operators in 20 departments;
- 10 % missed (no operator; half of them offline messages), 3 % spam, 60 % rated (positive,
  negative, "5" or "3");
- a visitor line, the operator's reply 30-119 s later, and for every other chat a second line
  5 s after that reply and a second reply 20 s later: 2.8 messages a chat.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

CHUNK = 250_000
DAY_START, DAY_SECONDS = 9 * 3600, 11 * 3600

CONVERSATION = ("channel_id, contact_id, kind, external_id, subject, operator_id, operator_name, started_at, "
                "last_message_at, accepted_at, first_reply_at, finished_at, rating, missed, spam, utm, page_url")
MESSAGE = "conversation_id, direction, external_id, author_name, author_id, text, html, sent_at, meta"


def _at(pg: bool, secs: str) -> str:
    return f"to_timestamp({secs})" if pg else f"strftime('%Y-%m-%d %H:%M:%S', {secs}, 'unixepoch')"


def _conversations(pg: bool, *, per_day: int) -> str:
    """The SELECT of one chunk of chats; parameters: contact, base epoch (x5), first i, last i."""
    series = "generate_series(%s::bigint, %s::bigint) AS g(i)" if pg else "s"
    true, false = ("true", "false") if pg else ("1", "0")
    started = f"%s + d.day * 86400 + {DAY_START} + (d.i % {per_day}) * {DAY_SECONDS} / {per_day}"
    return f"""
        SELECT c.channel_id, %s, 'chat', 'bc-' || d.i, '', CASE WHEN d.missed = 1 THEN NULL ELSE e.user_id END, '',
          {_at(pg, started)}, {_at(pg, f"{started} + 600")},
          CASE WHEN d.missed = 0 THEN {_at(pg, f"{started} + 10")} END,
          CASE WHEN d.missed = 0 THEN {_at(pg, f"{started} + d.first")} END,
          {_at(pg, f"{started} + 600")},
          CASE d.r WHEN 0 THEN 'positive' WHEN 1 THEN 'positive' WHEN 2 THEN 'positive' WHEN 3 THEN 'negative'
                   WHEN 4 THEN '5' WHEN 5 THEN '3' ELSE '' END,
          CASE WHEN d.missed = 1 THEN {true} ELSE {false} END, CASE WHEN d.spam = 1 THEN {true} ELSE {false} END,
          '{{}}', ''
        FROM (SELECT i, i / {per_day} AS day, CASE WHEN (i * 13) % 100 < 10 THEN 1 ELSE 0 END AS missed,
                     CASE WHEN (i * 31) % 100 < 3 THEN 1 ELSE 0 END AS spam, (i * 7) % 10 AS r,
                     30 + (i * 17) % 90 AS first, (i * 104729) % 500 AS eidx, i % 3 AS ch
              FROM {series}) d
        JOIN bench_emp e ON e.idx = d.eidx JOIN bench_chan c ON c.idx = d.ch"""


def _messages(pg: bool) -> str:
    """The messages of the chats with ids in [%s, %s]: four rows per chat at most (k)."""
    def plus(column: str, seconds: int) -> str:
        return (f"{column} + interval '{seconds} seconds'" if pg
                else f"strftime('%Y-%m-%d %H:%M:%S', {column}, '+{seconds} seconds')")
    false = "false" if pg else "0"
    return f"""
        SELECT c.id, CASE WHEN k.k IN (0, 2) THEN 'in' ELSE 'out' END,
          CASE k.k WHEN 0 THEN (CASE WHEN c.missed = {"true" if pg else "1"} AND c.id % 2 = 0 THEN 'offline:in0'
                                     ELSE 'in0' END)
                   WHEN 1 THEN 'out0' WHEN 2 THEN 'in1' ELSE 'out1' END,
          '', NULL, '?', '',
          CASE k.k WHEN 0 THEN c.started_at WHEN 1 THEN c.first_reply_at WHEN 2 THEN {plus("c.first_reply_at", 5)}
                   ELSE {plus("c.first_reply_at", 25)} END,
          '{{}}'
        FROM inbox_conversation c JOIN bench_k k ON k.k = 0 OR (c.missed = {false} AND (k.k = 1 OR c.id % 2 = 0))
        WHERE c.id >= %s AND c.id <= %s"""


def seed_chats(*, n: int, contact_id: int, channels: list[int], employees: list[int], progress=None) -> None:
    """Inserts chats 0..n-1 over the three `channels` with their messages; `employees`: 500 user ids."""
    pg = connection.vendor == "postgresql"
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(timezone=tz)
    first = today - timedelta(days=364)
    base = int(datetime(first.year, first.month, first.day, tzinfo=tz).timestamp())
    per_day = -(-n // 365)
    conv_sql = _conversations(pg, per_day=per_day).replace(" % ", " %% ")
    msg_sql = _messages(pg).replace(" % ", " %% ")
    if not pg:  # SQLite's strftime formats are not parameters either
        conv_sql, msg_sql = conv_sql.replace("%Y-%m-%d %H:%M:%S", "%%Y-%%m-%%d %%H:%%M:%%S"), msg_sql.replace(
            "%Y-%m-%d %H:%M:%S", "%%Y-%%m-%%d %%H:%%M:%%S")
    with connection.cursor() as cur:
        temp = (("bench_emp", "idx integer PRIMARY KEY, user_id bigint", list(enumerate(employees))),
                ("bench_chan", "idx integer PRIMARY KEY, channel_id bigint", list(enumerate(channels))),
                ("bench_k", "k integer PRIMARY KEY", [(k,) for k in range(4)]))
        for table, columns, rows in temp:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"CREATE TEMP TABLE {table} ({columns})")
            cur.executemany(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(rows[0]))})", rows)
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK) - 1
            with transaction.atomic():
                cur.execute("SELECT COALESCE(MAX(id), 0) FROM inbox_conversation")
                before = cur.fetchone()[0]
                if pg:
                    cur.execute(f"INSERT INTO inbox_conversation ({CONVERSATION}) {conv_sql}",
                                [contact_id, *[base] * 5, lo, hi])
                else:
                    cur.execute(f"WITH RECURSIVE s(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM s WHERE i < %s) "
                                f"INSERT INTO inbox_conversation ({CONVERSATION}) {conv_sql}",
                                [lo, hi, contact_id, *[base] * 5])
                cur.execute(f"INSERT INTO inbox_message ({MESSAGE}) {msg_sql}", [before + 1, 2**62])
            if progress:
                progress(hi + 1)
        for table in ("bench_emp", "bench_chan", "bench_k"):
            cur.execute(f"DROP TABLE {table}")
