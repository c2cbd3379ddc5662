"""Drops the plain index on Contact.dedup_dirty; the partial one from 0003 does its work.

With the plain index there, a planner that believes few contacts are dirty (statistics taken
before `scan_duplicates --full` marked them all, or a generic plan of a prepared statement)
claimed a batch by reading every dirty row through it and sorting them, and cleared the flag
by filtering the batch's ids over all of them: 0.4 s and 0.2 s a batch at a million dirty
contacts, where the partial index on (id) takes a few milliseconds (docs/duplicates.md).

Raw SQL: an AlterField would make SQLite rebuild the table, dropping the partial index, which
lives outside the model state.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0003_contact_dedup_dirty_partial_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS contacts_contact_dedup_dirty_c2e0e834",
                    "CREATE INDEX IF NOT EXISTS contacts_contact_dedup_dirty_c2e0e834 ON contacts_contact (dedup_dirty)",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="dedup_dirty",
                    field=models.BooleanField(default=True, editable=False),
                ),
            ],
        ),
    ]
