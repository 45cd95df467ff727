"""A job has a step now (a sync's), and a job a command started has no
user. The syncs are copied in by the next migration: on PostgreSQL a table
cannot be altered in the transaction that changed its rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="step",
            field=models.CharField(blank=True, max_length=16, verbose_name="step"),
        ),
        migrations.AlterField(
            model_name="job",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[
                    ("import_preview", "import preview"),
                    ("import", "import"),
                    ("export", "export"),
                    ("duplicates", "duplicate search"),
                    ("merge", "duplicate removal"),
                    ("sync", "Sync"),
                    ("sync_groups", "Sync groups"),
                ],
                max_length=16,
                verbose_name="kind",
            ),
        ),
    ]
