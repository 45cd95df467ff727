"""contacts.Job becomes jobs.Job, on the same table (contacts_job)."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import jobs.models

from contacts_portal.migrating import grant, move_content_type


def grant_administrators(apps, schema_editor):
    """Administrators read every job in admin (granted on contacts.Job by
    contacts 0008 before; granted here for a database that never had it)."""
    grant(apps, group="Administrators", app_label="jobs", codenames=["view_job"])


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contacts", "0014_jobs_and_duplicate_groups_move_out"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Job",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("token", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("import_preview", "import preview"),
                                    ("import", "import"),
                                    ("export", "export"),
                                    ("duplicates", "duplicate search"),
                                    ("merge", "duplicate removal"),
                                ],
                                max_length=16,
                                verbose_name="kind",
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("draft", "waiting for the column choices"),
                                    ("queued", "queued"),
                                    ("running", "running"),
                                    ("done", "done"),
                                    ("failed", "failed"),
                                ],
                                default="queued",
                                max_length=8,
                                verbose_name="status",
                            ),
                        ),
                        ("file_name", models.CharField(blank=True, max_length=255, verbose_name="file name")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="started at")),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        ("total", models.PositiveIntegerField(default=0, verbose_name="total")),
                        ("done", models.PositiveIntegerField(default=0, verbose_name="done")),
                        ("parameters", models.JSONField(blank=True, default=dict, verbose_name="parameters")),
                        ("result", models.JSONField(blank=True, default=dict, verbose_name="result")),
                        ("error", models.TextField(blank=True, verbose_name="error")),
                        ("source_file", models.FileField(blank=True, max_length=200, upload_to=jobs.models.job_file_path)),
                        ("result_file", models.FileField(blank=True, max_length=200, upload_to=jobs.models.job_file_path)),
                        ("report_file", models.FileField(blank=True, max_length=200, upload_to=jobs.models.job_file_path)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "job",
                        "verbose_name_plural": "jobs",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "contacts_job",
                    },
                ),
            ],
        ),
        migrations.RunPython(*move_content_type("contacts", "jobs", "job")),
        migrations.RunPython(grant_administrators, migrations.RunPython.noop),
    ]
