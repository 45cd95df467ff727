"""Administrators unlock log-ins in Django admin: they may see django-axes'
records and delete a lock-out (deleting an access attempt lifts it)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINISTRATORS = "Administrators"

AXES_PERMISSIONS = [
    "view_accessattempt",
    "delete_accessattempt",
    "view_accessfailurelog",
    "view_accesslog",
]


def grant_unlock(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the group
    # needs them now.
    app_config = apps.get_app_config("axes")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrators, _ = Group.objects.get_or_create(name=ADMINISTRATORS)
    administrators.permissions.add(
        *Permission.objects.filter(content_type__app_label="axes", codename__in=AXES_PERMISSIONS)
    )


def revoke_unlock(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name=ADMINISTRATORS):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="axes", codename__in=AXES_PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0002_roles"),
        ("axes", "0010_accessattemptexpiration"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_unlock, revoke_unlock)]
