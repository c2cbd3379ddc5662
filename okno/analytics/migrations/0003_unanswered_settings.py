from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_boards_saved_viewers"),
    ]

    operations = [
        migrations.AddField(
            model_name="analyticssettings",
            name="unanswered_min_stay_seconds",
            field=models.PositiveIntegerField(default=60,
                                              verbose_name="a visitor who left within (seconds) is not unanswered"),
        ),
        migrations.AddField(
            model_name="analyticssettings",
            name="unanswered_counts_offline",
            field=models.BooleanField(default=True, verbose_name="offline messages count as unanswered"),
        ),
    ]
