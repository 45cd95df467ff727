"""What data migrations share: moving a model to another app without
touching its table (its content type moves with it, so the permissions
granted on it stay granted), and granting a role an app's permissions
before Django would have created them."""

from django.contrib.auth.management import create_permissions


def move_content_type(source_app: str, target_app: str, model: str):
    """(forwards, backwards) for RunPython."""

    def forwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        # A content type the new app made meanwhile (post_migrate) gives way
        # to the old one, which carries the grants.
        if ContentType.objects.filter(app_label=source_app, model=model).exists():
            ContentType.objects.filter(app_label=target_app, model=model).delete()
            ContentType.objects.filter(app_label=source_app, model=model).update(app_label=target_app)
            ContentType.objects.clear_cache()

    def backwards(apps, schema_editor):
        move_content_type(target_app, source_app, model)[0](apps, schema_editor)

    return forwards, backwards


def grant(apps, *, group: str, app_label: str, codenames: list[str]) -> None:
    """Give `group` these permissions of `app_label`. Permissions are
    normally created after all migrations ran; the group needs them now.
    (The test suite calls this with the project's own app registry, whose
    models_module must come back as it was.)"""
    app_config = apps.get_app_config(app_label)
    models_module, app_config.models_module = getattr(app_config, "models_module", None), True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    role, _ = Group.objects.get_or_create(name=group)
    role.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
