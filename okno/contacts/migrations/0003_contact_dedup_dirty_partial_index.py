"""The duplicate scan claims dirty contacts in id order; this index holds only those.

Both databases accept the same partial-index SQL. It is raw SQL rather than Meta.indexes so
that the model stays as it is: the index is an implementation detail of okno.contacts.duplicates.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0002_initial"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS contacts_contact_dedup_dirty_id ON contacts_contact (id) WHERE dedup_dirty",
            "DROP INDEX IF EXISTS contacts_contact_dedup_dirty_id",
        ),
    ]
