from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0006_conversation_spam"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["started_at"], name="conversation_started"),
        ),
    ]
