"""The audit trail moves to the audit app (audit 0001): gone from contacts'
models, its table kept for audit to use as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0012_history_without_unused_indexes"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
