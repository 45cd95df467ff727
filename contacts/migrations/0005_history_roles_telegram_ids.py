"""Administrators read the history, the audit trail and the user list (the
wallet form's "responsible user" autocomplete needs it); stored Telegram ids
get their canonical writing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINISTRATOR_PERMISSIONS = [
    ("contacts", "view_auditevent"),
    ("contacts", "view_historicalcontact"),
    ("contacts", "view_historicalcustomfield"),
    ("auth", "view_user"),
]


def grant_administrators(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrators, _ = Group.objects.get_or_create(name="Administrators")
    for app_label, codename in ADMINISTRATOR_PERMISSIONS:
        administrators.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def canonical_telegram_ids(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    taken = set(Contact.objects.exclude(telegram_id="").values_list("telegram_id", flat=True))
    for pk, telegram_id in Contact.objects.exclude(telegram_id="").values_list("pk", "telegram_id").iterator():
        try:
            canonical = str(int(telegram_id.strip()))
        except ValueError:
            continue
        # Two rows that are the same id keep their writings: one id, two
        # contacts, for duplicate removal to merge rather than a failed migration.
        if canonical != telegram_id and canonical not in taken:
            Contact.objects.filter(pk=pk).update(telegram_id=canonical)
            taken.discard(telegram_id)
            taken.add(canonical)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0004_history_audit_wallet_protect"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(grant_administrators, migrations.RunPython.noop),
        migrations.RunPython(canonical_telegram_ids, migrations.RunPython.noop),
    ]
