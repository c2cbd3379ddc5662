from django.db import migrations, models


class Migration(migrations.Migration):
    """Call.Outcome gains `machine`: an answering machine took an outbound call (Asterisk's AMD).
    Choices only: no change to the column."""

    dependencies = [
        ("telephony", "0007_signature_use"),
    ]

    operations = [
        migrations.AlterField(
            model_name="call",
            name="outcome",
            field=models.CharField(
                choices=[("ongoing", "in progress"), ("answered", "answered"), ("missed", "missed"),
                         ("busy", "busy"), ("failed", "failed"), ("abandoned", "abandoned in IVR"),
                         ("voicemail", "voicemail"), ("machine", "answering machine")],
                default="ongoing", max_length=16),
        ),
    ]
