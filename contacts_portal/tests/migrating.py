"""What the migration tests share: moving the test database to some
migrations and back to the latest."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate to `targets`; the apps (models) as they were there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def leaves():
    """Every app's latest migration."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
