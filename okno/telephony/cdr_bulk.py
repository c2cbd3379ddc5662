"""Bulk writes and look-ups of the cdr_csv import (okno.telephony.cdr_import), for both databases.

Rows are prepared as plain lists of text and numbers (so they cross between processes as marshal
bytes) and written through the driver's own cursor, inside Django's transaction and with its
errors; each choice here is measured (docs/benchmarks.md, bench_cdr).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

from django.db import connection, models
from django.utils import timezone

from okno.core.bulk import chunks
from okno.telephony.models import Call

# Rows per multi-row INSERT: ~25 columns x 400 stays under SQLite's 32,766 variables.
_INSERT_ROWS = 400
_PLAIN_TYPES = frozenset({"CharField", "TextField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
                          "PositiveBigIntegerField", "ForeignKey", "BooleanField"})


@contextmanager
def sqlite_tuned() -> Iterator[None]:
    """On SQLite, for the import's connection only: a 128 MiB page cache instead of 2 MiB (the
    indexes of a million calls outgrow the default), and a WAL checkpoint every ~80 MB instead of
    every 4 MB (a checkpoint copies back every page a chunk touched). Both are put back after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cache_size = cursor.execute("PRAGMA cache_size").fetchone()[0]
        autocheckpoint = cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        cursor.execute("PRAGMA cache_size = -131072")
        cursor.execute("PRAGMA wal_autocheckpoint = 20000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")


def datetime_text():
    """An aware datetime as the database takes it from text: what makes a million of them cheap.

    Django's preparation of a date (checks, make_naive, str: 2.5 µs each) was a third of the
    import. SQLite: the naive text in the connection's zone, which is what its backend stores;
    PostgreSQL: ISO 8601 with the offset, which the server casts to timestamptz on insert. Text
    also crosses to the writer process cheaply (marshal takes no datetimes). Only aware values
    reach it: every date here comes from call facts, which are in UTC.
    """
    if connection.vendor == "sqlite":
        zone = connection.timezone
        return lambda value: None if value is None else value.astimezone(zone).isoformat(" ")[:-6]
    return lambda value: None if value is None else value.isoformat()


class Table:
    """A model's multi-row INSERT: its columns in order and a row of its defaults, prepared.

    Like core.bulk.insert_rows (every concrete field written; one absent from a row takes its
    default, auto_now ones the time, so a field added later by another feature still works), with
    rows made ahead as plain lists of text and numbers (in cdr_import's reader processes) and RETURNING
    (PostgreSQL, SQLite 3.35+). JSON goes as its text, which PostgreSQL casts on insert.
    """

    def __init__(self, model: type[models.Model]):
        self.model = model
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        when = datetime_text()
        self.preps = []
        for f in fields:
            kind = f.get_internal_type()
            if kind in _PLAIN_TYPES:
                self.preps.append(None)
            elif kind == "DateTimeField":
                self.preps.append(when)
            elif kind == "JSONField":
                self.preps.append(lambda value, f=f: json.dumps(value, cls=f.encoder))
            else:
                self.preps.append(lambda value, f=f: f.get_db_prep_save(value, connection))
        now = timezone.now()
        self.template = self.row({f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                                  else f.get_default() for f in fields}, base=[None] * len(fields))
        quote = connection.ops.quote_name
        self.head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
        self.one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        self.tail = ""
        if model is Call:
            self.tail = f" RETURNING {quote(model._meta.pk.column)}, {quote('pbx_call_id')}"
        table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.copy_with_ids_sql = f"COPY {table} ({quote(model._meta.pk.column)}, {columns}) FROM STDIN"

    def row(self, values: dict, base: list | None = None) -> list:
        out = list(self.template if base is None else base)
        for name, value in values.items():
            i = self.index[name]
            if isinstance(value, Enum):  # Call.Outcome.ANSWERED and the like: marshal takes plain values
                value = value.value
            out[i] = value if self.preps[i] is None else self.preps[i](value)
        return out

    def insert(self, rows: list[list]) -> dict[str, int]:
        """Inserts the rows; for calls, {pbx_call_id: new id} (returned with the key beside the
        id, so nothing depends on the order rows come back in).

        Through the driver's own cursor, in Django's transaction and with its errors: Django's
        cursor rewrites every %s of a 10,000-value statement with a regular expression on SQLite,
        and on PostgreSQL a multi-row VALUES cost psycopg 5x more than executemany of one row,
        which it pipelines (16,600 calls: 2.5 s against 0.5 s). SQLite takes the multi-row
        statement with RETURNING as fast as executemany. Such inserts are not in Django's query log.
        """
        if not rows:
            return {}
        connection.ensure_connection()
        found: dict[str, int] = {}
        with connection.wrap_database_errors:
            if connection.vendor == "sqlite":
                for part in chunks(rows, _INSERT_ROWS):
                    sql = (self.head + ", ".join([self.one] * len(part)) + self.tail).replace("%s", "?")
                    cursor = connection.connection.execute(sql, [value for row in part for value in row])
                    found.update((key, pk) for pk, key in cursor.fetchall())
                    cursor.close()
                return found
            import psycopg

            # Server-side parameters and one statement prepared for the chunk: Django's client-side
            # binding made the server parse and plan every row (16,600 calls: 2.0 s; prepared
            # 1.0 s). DEALLOCATE ALL, in the same transaction, leaves nothing prepared on the
            # server (a pooler in transaction mode hands the next chunk another connection), and
            # psycopg forgets its statements on it.
            raw = connection.connection
            threshold, raw.prepare_threshold = raw.prepare_threshold, 0
            try:
                with psycopg.Cursor(raw) as cursor:
                    cursor.executemany(self.head + self.one + self.tail, rows, returning=bool(self.tail))
                    if self.tail:
                        while True:
                            found.update((key, pk) for pk, key in cursor.fetchall())
                            if not cursor.nextset():
                                break
                    cursor.execute("DEALLOCATE ALL")
            finally:
                raw.prepare_threshold = threshold
        return found

    def copy(self, rows: list[list], ids: list[int] | None = None) -> None:
        """PostgreSQL: the rows by COPY, with `ids` (from `reserve_ids`) as their primary keys, else
        the column's default.

        COPY is the server's bulk load: no statement executed per row, and the heap written
        several rows at a time (1M lines: the server's share of inserting calls, legs and timeline
        entries 117 -> ~40 CPU-s; docs/benchmarks.md). It has no ON CONFLICT: a row breaking a
        unique constraint fails the whole COPY, and with it the chunk's transaction (the caller
        writes the chunk again by INSERT). Rows are formatted by psycopg's C code.
        """
        if not rows:
            return
        connection.ensure_connection()
        with connection.wrap_database_errors, connection.connection.cursor() as cursor:
            if ids is None:
                with cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                with cursor.copy(self.copy_with_ids_sql) as copy:
                    for pk, row in zip(ids, rows, strict=True):
                        copy.write_row((pk, *row))


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """PostgreSQL: `count` primary keys taken from the model's sequence, for rows written by COPY
    that other rows must point at (a call's legs and timeline entry) before they are written.

    What a row's default would take anyway: live inserts running beside the import take theirs
    from the same sequence, and ids a rolled-back chunk took are skipped as ever.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    rows = raw_execute("SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) q, "
                       "generate_series(1, %s)", [table, model._meta.pk.column, count], fetch=True)
    return [pk for (pk,) in rows]


def keyed_lookup(table: str, column: str, keys: list, select: str, where: str = "", join: str = "") -> tuple[str, list]:
    """A plain look-up of the rows of `table` whose `column` is one of `keys` (alias `t`).

    PostgreSQL probes the index key by key: one array parameter (psycopg spends more on 10,000
    placeholders than the server on the query), unnested and joined LATERAL (OFFSET 0 keeps the
    planner from flattening it). As an IN list planned from statistics taken while the table was
    small, each look-up read every call of the channel: 2.4 s at 800,000 calls, most of a
    re-import (cdr_writer's CdrWriter.analyze keeps the statistics fresh too). SQLite takes an IN list,
    and a `join` ("JOIN ... ON ...") as a CROSS JOIN, which SQLite never reorders: without
    statistics it made the joined table the outer loop, a card look-up walking every active card
    through the status index (350 ms against 2 ms for 2,000 numbers at a million cards).
    """
    if connection.vendor == "postgresql":
        return (f"SELECT {select} FROM unnest(%s::text[]) AS k(key) CROSS JOIN LATERAL (SELECT * FROM {table} t "
                f"WHERE t.{column} = k.key" + (f" AND {where}" if where else "") + f" OFFSET 0) t {join}"), [keys]
    marks = ", ".join(["%s"] * len(keys))
    return (f"SELECT {select} FROM {table} t {'CROSS ' + join if join else ''} WHERE t.{column} IN ({marks})"
            + (f" AND {where}" if where else "")), keys


def raw_execute(sql: str, params: list, *, fetch: bool = False) -> list[tuple]:
    """A look-up through the driver's own cursor (see Table.insert), in Django's transaction."""
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.vendor == "sqlite":
            cursor = connection.connection.execute(sql.replace("%s", "?"), params)
        else:
            cursor = connection.connection.cursor()
            cursor.execute(sql, params)
        rows = cursor.fetchall() if fetch else []
        cursor.close()
    return rows
