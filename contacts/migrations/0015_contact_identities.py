"""The earlier addresses merges leave (ContactAlias) become the contact's
identities: the same rows, plus WhatsApp LIDs, each with where and when it
was seen, and a LID's number, remembered even before it is anybody's."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def seen_when_merged(apps, schema_editor):
    """The addresses merges left were seen when the merge happened."""
    Identity = apps.get_model("contacts", "ContactIdentity")
    MergedContact = apps.get_model("contacts", "MergedContact")
    when = MergedContact.objects.filter(pk=OuterRef("merged_id")).values("record__created_at")[:1]
    Identity.objects.filter(merged__isnull=False).update(seen_at=Subquery(when))


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0014_jobs_and_duplicate_groups_move_out"),
    ]

    operations = [
        migrations.RenameModel("ContactAlias", "ContactIdentity"),
        migrations.AlterModelOptions(
            name="contactidentity",
            options={
                "ordering": ["kind", "seen_at", "id"],
                "verbose_name": "contact identity",
                "verbose_name_plural": "contact identities",
            },
        ),
        migrations.AlterField(
            model_name="contactidentity",
            name="contact",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="identities",
                to="contacts.contact",
                verbose_name="contact",
            ),
        ),
        migrations.AlterField(
            model_name="contactidentity",
            name="kind",
            field=models.CharField(
                choices=[("number", "number"), ("telegram_id", "Telegram id"), ("lid", "WhatsApp LID")],
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="contactidentity",
            name="number",
            field=models.CharField(blank=True, max_length=32, verbose_name="number"),
        ),
        migrations.AddField(
            model_name="contactidentity",
            name="seen",
            field=models.CharField(
                choices=[
                    ("merge", "merge of duplicates"),
                    ("message", "received message"),
                    ("gateway", "the WhatsApp gateway's contacts"),
                    ("sync", "sync"),
                ],
                default="merge",
                max_length=16,
                verbose_name="seen in",
            ),
        ),
        migrations.AddField(
            model_name="contactidentity",
            name="place",
            field=models.CharField(blank=True, max_length=100, verbose_name="where"),
        ),
        migrations.AddField(
            model_name="contactidentity",
            name="seen_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="seen at"),
        ),
        migrations.RunPython(seen_when_merged, migrations.RunPython.noop, elidable=True),
    ]
