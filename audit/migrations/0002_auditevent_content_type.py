"""The audit trail's content type moves from contacts to audit with the
model, and with it its permissions and whoever holds them (Administrators
read the audit trail, contacts 0005): a permission is checked as
"audit.view_auditevent" from now on. Administrators are granted it here too,
for a database that never had it under contacts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from contacts_portal.content_types import move_content_type

move_to_audit, move_to_contacts = move_content_type("contacts", "audit", "auditevent")


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
