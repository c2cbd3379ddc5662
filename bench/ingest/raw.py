"""The raw baseline: single-row INSERT + COMMIT of the same InboundEvent row shape, no Django.

Plain psycopg on PostgreSQL, plain sqlite3 (WAL, synchronous=NORMAL, BEGIN IMMEDIATE, as Okno
runs it) on SQLite; `clients` threads, one connection each, for a fixed time. The rows go into
the real `inbox_inboundevent` table (the bench deletes them afterwards), under a channel of
their own and marked `ignored` so that no worker picks them up.
"""

import json
import time

from django.conf import settings

from bench.ingest.cpu import seconds as _seconds
from bench.ingest.load import Drive

INSERT = ("INSERT INTO inbox_inboundevent (channel_id, received_at, headers, body, content_type, event_type, "
          "dedup_key, status, attempts, run_after, error) VALUES ({})")


def _pg_connect():
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"],
                           password=db["PASSWORD"] or None, dbname=db["NAME"])


def _sqlite_connect():
    import sqlite3

    conn = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=20, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def raw_insert_rate(*, channel_id: int, bodies: list[bytes], clients: int, seconds: float) -> dict:
    pg = settings.IS_POSTGRES
    headers = json.dumps({"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Tilda.cc"})
    ctype = "application/x-www-form-urlencoded"
    drive = Drive(items=len(bodies), clients=clients)
    done = [0]
    db_seconds = [0.0]

    def client() -> None:
        conn = _pg_connect() if pg else _sqlite_connect()
        # The backend's CPU is read before the connection closes (its process exits with it).
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0] if pg else None
        if pg:
            conn.commit()
        db_before = _seconds(backend) if backend else 0.0
        if pg:
            sql = INSERT.format(", ".join(["%s"] * 7) + ", 'ignored', 0, now(), ''")
        else:
            sql = INSERT.format(", ".join(["?"] * 7) + ", 'ignored', 0, datetime('now'), ''")
        count = 0
        drive.ready.wait()
        while (i := drive.next()) is not None:
            now = time.strftime("%Y-%m-%d %H:%M:%S")
            params = (channel_id, now, headers, bodies[i], ctype, "", f"raw:{i}:{time.time_ns()}")
            if pg:
                conn.execute(sql, params)
                conn.commit()
            else:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(sql, params)
                conn.execute("COMMIT")
            count += 1
        db_used = _seconds(backend) - db_before if backend else 0.0
        conn.close()
        with drive.lock:
            done[0] += count
            db_seconds[0] += db_used

    began = time.process_time()
    elapsed = drive.run(client, seconds)
    per = 1e6 / max(done[0], 1)
    return {"rows": done[0], "seconds": elapsed, "rate": done[0] / elapsed,
            "cpu": {"client_us": round((time.process_time() - began) * per), "web_us": 0,
                    "db_us": round(db_seconds[0] * per)}}
