"""The audit trail's content type moves from contacts to audit with the
model, and with it its permissions and whoever holds them (Administrators
read the audit trail, contacts 0005): a permission is checked as
"audit.view_auditevent" from now on. Administrators are granted it here too,
for a database that never had it under contacts."""

from django.db import migrations

from contacts_portal.migrating import grant, move_content_type

move_to_audit, move_to_contacts = move_content_type("contacts", "audit", "auditevent")


def grant_administrators(apps, schema_editor):
    grant(apps, group="Administrators", app_label="audit", codenames=["view_auditevent"])


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
