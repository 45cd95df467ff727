"""Jobs and duplicate groups have apps of their own now (jobs, dedup).
Their tables stay as they are; only Django's idea of who owns them moves."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0012_history_without_unused_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DuplicateGroup"),
                migrations.DeleteModel(name="Job"),
            ],
        ),
    ]
