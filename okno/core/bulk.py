"""Writing and reading many rows at once: the batch paths of imports and of the inbound drain."""

from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

_PLAIN_TYPES = {"CharField", "TextField", "SlugField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
                "ForeignKey", "BooleanField", "BigAutoField", "AutoField", "PositiveBigIntegerField"}
# SQLite allows 32766 variables per statement; 500 keys per IN keeps every backend happy.
_IN_CHUNK = 500


def chunks(items: list, size: int = _IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(model: type[models.Model], rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """INSERT of many rows without building model instances (5x cheaper than bulk_create here).

    Every concrete field is written: values absent from a row take the field's default, and
    auto_now(_add) fields the current time, so a field added later with a default still works.
    With `ignore_conflicts` a row that breaks a unique constraint is skipped (ON CONFLICT DO
    NOTHING, which PostgreSQL and SQLite >= 3.24 both read).
    """
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]  # resolved once: the proxy's lookup per value added up
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    # Text, numbers and ids go to the driver as they are; anything else (dates, JSON) is
    # prepared by its field, as the ORM would. A default is the same for every row: prepared once.
    plain = tuple(f.get_internal_type() in _PLAIN_TYPES for f in fields)
    defaults = {}
    for f, is_plain in zip(fields, plain, strict=True):
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        defaults[f.attname] = value if is_plain else f.get_db_prep_save(value, db)
    quote = db.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})" + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""))
    params = []
    for row in rows:
        values = []
        for f, is_plain in zip(fields, plain, strict=True):
            if f.attname not in row:
                values.append(defaults[f.attname])
            else:
                value = row[f.attname]
                values.append(value if is_plain else f.get_db_prep_save(value, db))
        params.append(values)
    with db.cursor() as cursor:
        for chunk in chunks(params, 2000):
            cursor.executemany(sql, chunk)
