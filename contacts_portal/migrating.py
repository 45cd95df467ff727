"""What migrations share: moving a model to another app without
touching its table (its content type moves with it, so the permissions
granted on it stay granted), granting a role an app's permissions
before Django would have created them, and building or dropping an index
on a large table without blocking its writers."""

from django.contrib.auth.management import create_permissions
from django.contrib.postgres.operations import AddIndexConcurrently, NotInTransactionMixin
from django.db.migrations.operations import AddIndex
from django.db.migrations.operations.base import Operation


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


class DropIndexWithoutBlocking(NotInTransactionMixin, Operation):
    """Drop the index `name` on `table` (`columns`) by its name, in the
    database only: DROP INDEX CONCURRENTLY on PostgreSQL (the migration
    sets atomic = False), a plain DROP INDEX elsewhere. For an index
    Django made of a field (db_index), whose state the migration changes
    beside it, or of a many-to-many's own table, which has no state to
    change. Backwards builds it again the same way."""

    reversible = True

    def __init__(self, name: str, table: str, columns: list[str]):
        self.name, self.table, self.columns = name, table, list(columns)

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"name": self.name, "table": self.table, "columns": self.columns}

    def state_forwards(self, app_label, state):
        pass

    def _concurrently(self, schema_editor) -> str:
        if schema_editor.connection.vendor != "postgresql":
            return ""
        self._ensure_not_in_transaction(schema_editor)
        return " CONCURRENTLY"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        quote = schema_editor.quote_name
        schema_editor.execute(f"DROP INDEX{self._concurrently(schema_editor)} IF EXISTS {quote(self.name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        quote = schema_editor.quote_name
        columns = ", ".join(quote(column) for column in self.columns)
        schema_editor.execute(
            f"CREATE INDEX{self._concurrently(schema_editor)} IF NOT EXISTS {quote(self.name)} ON {quote(self.table)} ({columns})"
        )

    def describe(self):
        return f"Drop index {self.name} on {self.table} without blocking its writers"
