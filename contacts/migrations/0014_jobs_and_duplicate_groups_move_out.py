"""Jobs and duplicate groups have apps of their own now (jobs, dedup).
Their tables stay as they are; only Django's idea of who owns them moves."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0013_auditevent_to_audit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DuplicateGroup"),
                migrations.DeleteModel(name="Job"),
            ],
        ),
    ]
