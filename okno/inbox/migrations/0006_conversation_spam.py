from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0005_file_fetch_last_error"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="spam",
            field=models.BooleanField(default=False),
        ),
    ]
