"""The two roles of the panel, as Django groups with permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINISTRATORS = "Administrators"
AGENTS = "Agents"

AGENT_PERMISSIONS = [
    ("contacts", "view_contact"),
    ("contacts", "add_contact"),
    ("contacts", "change_contact"),
    ("contacts", "view_customfield"),
    ("contacts", "add_customfield"),
    ("contacts", "change_customfield"),
    ("contacts", "delete_customfield"),
    ("contacts", "view_tag"),
    ("contacts", "view_wallet"),
]


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups
    # need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    administrators, _ = Group.objects.get_or_create(name=ADMINISTRATORS)
    administrators.permissions.add(*Permission.objects.filter(content_type__app_label="contacts"))

    agents, _ = Group.objects.get_or_create(name=AGENTS)
    for app_label, codename in AGENT_PERMISSIONS:
        agents.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[ADMINISTRATORS, AGENTS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
