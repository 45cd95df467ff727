"""Sync jobs were copied into jobs.Job (jobs 0003); their table goes. The
permission to sync ("tickets.sync_contacts") stays the same permission,
granted to the same groups, now kept on the channel model."""

from django.db import migrations


def move_permission(source: str, target: str):
    def forwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        Permission = apps.get_model("auth", "Permission")
        target_type, _ = ContentType.objects.get_or_create(app_label="tickets", model=target)
        Permission.objects.filter(
            content_type__app_label="tickets", content_type__model=source, codename="sync_contacts"
        ).update(content_type=target_type)
        # What was left on the old model (its view permission) goes with it.
        ContentType.objects.filter(app_label="tickets", model=source).delete()

    return forwards


def restore_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    sync_type, _ = ContentType.objects.get_or_create(app_label="tickets", model="syncjob")
    Permission.objects.filter(content_type__app_label="tickets", content_type__model="channel", codename="sync_contacts").update(
        content_type=sync_type
    )


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0004_ticket_merged_into"),
        ("jobs", "0003_sync_jobs_copied"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="channel",
            options={
                "ordering": ["name", "id"],
                "permissions": [("sync_contacts", "Can sync contacts and groups from conversations")],
                "verbose_name": "channel",
                "verbose_name_plural": "channels",
            },
        ),
        migrations.RunPython(move_permission("syncjob", "channel"), restore_permission),
        migrations.DeleteModel(name="SyncJob"),
    ]
