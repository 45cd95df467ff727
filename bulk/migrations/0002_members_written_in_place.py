import django.db.models.deletion
from django.db import migrations, models

from contacts_portal.database import set_fill_factor


def half_full(apps, schema_editor):
    # A bulk action rewrites each member's flags (changed, then undone):
    # with room on the page, the new version goes beside the old one and
    # no index is written (benchmarks/README.md, Bulk actions).
    set_fill_factor(schema_editor, "bulk_member", 50)


def full(apps, schema_editor):
    set_fill_factor(schema_editor, "bulk_member", 100)


class Migration(migrations.Migration):

    dependencies = [
        ("bulk", "0001_initial"),
        ("jobs", "0005_bulk_jobs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="job",
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="jobs.job"),
        ),
        migrations.RunPython(half_full, full),
    ]
