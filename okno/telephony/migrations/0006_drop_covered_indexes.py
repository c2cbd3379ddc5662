"""Drops the single-column indexes of Call.channel, Call.contact, Call.employee and CallLeg.call.

Each is covered by a composite index that leads with the same column (the unique
(channel, pbx_call_id), (contact, -started_at), (employee, started_at), the unique
(call, leg_id)), which serves the same look-ups and the foreign keys' cascades; each was one
more index entry written per call (the cdr_csv import writes a million: docs/benchmarks.md).

Raw SQL: an AlterField would make SQLite rebuild the table four times over, and PostgreSQL drop
and re-add (re-validate) each foreign key. The names are Django's, the same on both databases.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = [  # (index, table, column)
    ("telephony_call_channel_id_d44db71d", "telephony_call", "channel_id"),
    ("telephony_call_contact_id_61eebbaa", "telephony_call", "contact_id"),
    ("telephony_call_employee_id_2a84ac9f", "telephony_call", "employee_id"),
    ("telephony_callleg_call_id_2eb4a50b", "telephony_callleg", "call_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0004_contact_dedup_dirty_drop_plain_index"),
        ("inbox", "0004_file_fetch"),
        ("telephony", "0005_call_recording"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f"DROP INDEX IF EXISTS {index}",
                                  f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column})")
                for index, table, column in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="call",
                    name="channel",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="calls", to="inbox.channel"),
                ),
                migrations.AlterField(
                    model_name="call",
                    name="contact",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="calls",
                                            to="contacts.contact"),
                ),
                migrations.AlterField(
                    model_name="call",
                    name="employee",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL, related_name="calls",
                                            to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="callleg",
                    name="call",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="legs", to="telephony.call"),
                ),
            ],
        ),
    ]
