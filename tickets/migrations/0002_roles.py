"""Tickets for both roles: agents see, start, answer, close and reopen the
tickets of the contacts they may see; administrators also manage channels
in admin and run "Sincronizar" and "Sincronizar grupos"."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENT_PERMISSIONS = [
    "view_channel",
    "view_ticket",
    "add_ticket",
    "change_ticket",
    "view_message",
    "add_message",
]


def grant_tickets(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups
    # need them now. (The test suite calls this with the project's own app
    # registry, whose models_module must come back as it was.)
    app_config = apps.get_app_config("tickets")
    models_module, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    tickets = Permission.objects.filter(content_type__app_label="tickets")
    administrators, _ = Group.objects.get_or_create(name="Administrators")
    administrators.permissions.add(*tickets)
    agents, _ = Group.objects.get_or_create(name="Agents")
    agents.permissions.add(*tickets.filter(codename__in=AGENT_PERMISSIONS))


def revoke_tickets(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=["Administrators", "Agents"]):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="tickets"))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("contacts", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_tickets, revoke_tickets)]
