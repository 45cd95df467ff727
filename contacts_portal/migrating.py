"""What migrations share: moving a model to another app without
touching its table (its content type moves with it, so the permissions
granted on it stay granted), granting a role an app's permissions
before Django would have created them, and building an index on a large
table without blocking its writers."""

from django.contrib.auth.management import create_permissions
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


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


class AddIndexWithoutBlocking(AddIndexConcurrently):
    """An index built without blocking the table's writers: CREATE INDEX
    CONCURRENTLY on PostgreSQL (the migration sets atomic = False), a
    plain AddIndex elsewhere (SQLite has one writer at a time anyway).

    An index of that name already there, which an earlier version of a
    migration built, is kept rather than built twice; on PostgreSQL an
    invalid one (a concurrent build that was interrupted) is dropped and
    built again."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        postgres = connection.vendor == "postgresql"
        if postgres:
            self._ensure_not_in_transaction(schema_editor)
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [self.index.name])
                found = cursor.fetchone()
                valid = found is not None and found[0]
                if found is not None and not valid:
                    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}")
            else:
                table = to_state.apps.get_model(app_label, self.model_name)._meta.db_table
                valid = self.index.name in connection.introspection.get_constraints(cursor, table)
        if valid:
            return
        if postgres:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name} without blocking its writers"
