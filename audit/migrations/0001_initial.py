"""The audit trail, which contacts created (contacts 0004) and now leaves
here: the model changes app, its table stays as it is."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contacts", "0012_history_without_unused_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="when")),
                        ("username", models.CharField(blank=True, max_length=150, verbose_name="username")),
                        ("action", models.CharField(choices=[("delete", "delete"), ("import", "import"), ("export", "export"), ("sync", "sync"), ("sync_groups", "sync groups"), ("remove_duplicates", "duplicate removal"), ("wallet_reassign", "wallet reassignment"), ("lgpd_request", "LGPD request")], db_index=True, max_length=32, verbose_name="action")),
                        ("source", models.CharField(choices=[("panel", "panel"), ("admin", "admin"), ("import", "import"), ("sync", "sync"), ("merge", "merge"), ("message", "inbound message"), ("command", "command"), ("system", "system")], max_length=16, verbose_name="through")),
                        ("parameters", models.JSONField(blank=True, default=dict, verbose_name="parameters")),
                        ("counts", models.JSONField(blank=True, default=dict, verbose_name="counts")),
                        ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="user")),
                    ],
                    options={
                        "verbose_name": "audit event",
                        "verbose_name_plural": "audit trail",
                        "db_table": "contacts_auditevent",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
