"""Trigram indexes for the search box (okno/contacts/search.py): substrings of names, companies,
phones and e-mails. PostgreSQL: pg_trgm GIN indexes; SQLite: FTS5 trigram tables kept by triggers."""

from django.db import migrations


def forwards(apps, schema_editor):
    from okno.contacts import search

    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        for sql in search.pg_create_sql():
            schema_editor.execute(sql)
    elif conn.vendor == "sqlite":
        search.ensure_sqlite_index(conn)


def backwards(apps, schema_editor):
    from okno.contacts import search

    conn = schema_editor.connection
    if conn.vendor == "postgresql":
        for name in search.PG_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    elif conn.vendor == "sqlite":
        for fts in search._FTS:
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0005_export_job"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
