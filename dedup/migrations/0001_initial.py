"""contacts.DuplicateGroup becomes dedup.DuplicateGroup, on the same table."""

import django.db.models.deletion
from django.db import migrations, models

from contacts_portal.migrating import move_content_type


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contacts", "0014_jobs_and_duplicate_groups_move_out"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DuplicateGroup",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("contact_ids", models.JSONField(default=list)),
                        ("rules", models.JSONField(default=list)),
                        ("tickets", models.PositiveIntegerField(default=0)),
                        ("messages", models.PositiveIntegerField(default=0)),
                        ("merged", models.BooleanField(default=False)),
                        (
                            "job",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="duplicate_groups", to="jobs.job"
                            ),
                        ),
                    ],
                    options={"ordering": ["id"], "db_table": "contacts_duplicategroup"},
                ),
            ],
        ),
        migrations.RunPython(*move_content_type("contacts", "dedup", "duplicategroup")),
    ]
