"""Drops the single-column index of Activity.contact: (contact, -occurred_at) leads with it and
serves the card's timeline and the cascade from a card, and each timeline row written paid for
one more index entry (the cdr_csv import writes 800,000: docs/benchmarks.md).

Raw SQL, as telephony 0006: an AlterField would make SQLite rebuild the table.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0004_contact_dedup_dirty_drop_plain_index"),
        ("timeline", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS timeline_activity_contact_id_d021338c",
                    "CREATE INDEX IF NOT EXISTS timeline_activity_contact_id_d021338c ON timeline_activity (contact_id)",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="contact",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="activities", to="contacts.contact"),
                ),
            ],
        ),
    ]
