"""The retention index on a messages table that may hold millions of rows
is built without blocking the messages arriving meanwhile: CREATE INDEX
CONCURRENTLY on PostgreSQL, a plain index on SQLite. A database where an
earlier version of the migrations built it keeps it; an interrupted
concurrent build is built again."""

from contextlib import contextmanager

import pytest
from django.db import connection

from contacts_portal.tests.migrating import leaves, migrate
from tickets.models import Message

# Restores what it found, as every transactional test here does.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("tickets", "0015_message_media_thumbnail")]
INDEX = "message_retention_idx"


@contextmanager
def statements():
    """The SQL statements run meanwhile, as a list."""
    ran = []

    def record(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield ran


def retention_index() -> dict | None:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Message._meta.db_table).get(INDEX)


def index_is_valid() -> bool:
    if connection.vendor != "postgresql":
        return retention_index() is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [INDEX])
        return cursor.fetchone() == (True,)


def built_as_0014_did():
    """The index as the retention migration built it before: plainly."""
    with connection.schema_editor() as editor:
        editor.add_index(Message, next(index for index in Message._meta.indexes if index.name == INDEX))


def creating(ran: list[str]) -> list[str]:
    return [sql for sql in ran if sql.startswith("CREATE INDEX") and INDEX in sql]


def test_the_retention_index_is_built_concurrently_on_postgresql_and_plainly_on_sqlite():
    migrate(BEFORE)
    assert retention_index() is None
    with statements() as ran:
        migrate(leaves())
    concurrently = "CREATE INDEX CONCURRENTLY" if connection.vendor == "postgresql" else "CREATE INDEX"
    assert [sql.split(f'"{INDEX}"')[0].strip() for sql in creating(ran)] == [concurrently]
    index = retention_index()
    assert index["index"] and index["columns"] == ["sent_at"]
    assert index_is_valid()


def test_a_database_where_the_earlier_migration_built_the_index_keeps_it_and_migrates():
    migrate(BEFORE)
    built_as_0014_did()
    with statements() as ran:
        migrate(leaves())
    assert creating(ran) == []
    assert index_is_valid()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="only PostgreSQL builds an index concurrently, and may leave it invalid")
def test_an_index_left_invalid_by_an_interrupted_concurrent_build_is_built_again():
    migrate(BEFORE)
    built_as_0014_did()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(%s)", [INDEX])
    assert not index_is_valid()
    with statements() as ran:
        migrate(leaves())
    assert any(sql.startswith("DROP INDEX CONCURRENTLY") for sql in ran)
    assert len(creating(ran)) == 1
    assert index_is_valid()
