"""The audit trail's content type moves from contacts to audit with the
model, and with it its permissions and whoever holds them (Administrators
read the audit trail, contacts 0005): a permission is checked as
"audit.view_auditevent" from now on. Administrators are granted it here too,
for a database that never had it under contacts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODEL = "auditevent"


def _move(apps, old_label, new_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=old_label, model=MODEL).exists():
        return
    # Permissions are created after every migrate, so the new label may
    # already have a content type of its own, which nobody was granted
    # anything through yet: the one that carries the grants takes its place.
    ContentType.objects.filter(app_label=new_label, model=MODEL).delete()
    ContentType.objects.filter(app_label=old_label, model=MODEL).update(app_label=new_label)
    ContentType.objects.clear_cache()


def move_to_audit(apps, schema_editor):
    _move(apps, "contacts", "audit")


def move_to_contacts(apps, schema_editor):
    _move(apps, "audit", "contacts")


def grant_administrators(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the group
    # needs this one now. (The test suite calls this with the project's own
    # app registry, whose models_module must come back as it was.)
    app_config = apps.get_app_config("audit")
    models_module, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrators, _ = Group.objects.get_or_create(name="Administrators")
    administrators.permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("contacts", "0013_auditevent_to_audit"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(move_to_audit, move_to_contacts),
        # Undone with the move: the permission goes back to contacts, held
        # as it was.
        migrations.RunPython(grant_administrators, migrations.RunPython.noop),
    ]
