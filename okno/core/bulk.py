"""Writing and reading many rows at once: the batch paths of imports and of the inbound drain."""

from collections.abc import Iterator

from django.db import connection, models
from django.utils import timezone

_PLAIN_TYPES = {"CharField", "TextField", "SlugField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
                "ForeignKey", "BooleanField", "BigAutoField", "AutoField", "PositiveBigIntegerField"}
# SQLite allows 32766 variables per statement; 500 keys per IN keeps every backend happy.
_IN_CHUNK = 500


def chunks(items: list, size: int = _IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_rows(model: type[models.Model], rows: list[dict]) -> None:
    """INSERT of many rows without building model instances (5x cheaper than bulk_create here).

    Every concrete field is written: values absent from a row take the field's default, and
    auto_now(_add) fields the current time, so a field added later with a default still works.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_default() for f in fields}
    # Text, numbers and ids go to the driver as they are; anything else (dates, JSON) is
    # prepared by its field, as the ORM would.
    plain = tuple(f.get_internal_type() in _PLAIN_TYPES for f in fields)
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    params = []
    for row in rows:
        values = []
        for f, is_plain in zip(fields, plain, strict=True):
            value = row.get(f.attname, defaults[f.attname])
            values.append(value if is_plain else f.get_db_prep_save(value, connection))
        params.append(values)
    with connection.cursor() as cursor:
        for chunk in chunks(params, 2000):
            cursor.executemany(sql, chunk)
