from django.db import migrations, models


class Migration(migrations.Migration):
    """An index on (customer_number, started_at): the calls report's callback look-up."""

    dependencies = [
        ("telephony", "0008_call_outcome_machine"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="call",
            index=models.Index(fields=["customer_number", "started_at"], name="call_customer_started"),
        ),
    ]
