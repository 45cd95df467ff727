"""Running work again after it lost a race to another writer; copying
rows with the rows that refer to them; a lock held until the transaction ends."""

import pytest
from django.apps import apps
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import CharField, Value

from contacts.models import Contact
from contacts.tests.factories import ContactFactory, TagFactory
from contacts_portal import database  # noqa: F401 (a skipif condition reads it)
from contacts_portal.database import BULK_CACHE_KIB, bulk_writing, hot_cursor, insert_with_children, is_transient, lock_until_commit, lower_backend_priority, retrying


class Flaky:
    """Raises `error` the first `failures` times, then answers."""

    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_work_that_lost_a_race_runs_again_until_it_succeeds():
    work = Flaky(2, IntegrityError("taken"))
    assert retrying(work, on=IntegrityError, attempts=3) == "done"
    assert work.calls == 3


def test_the_last_attempts_error_goes_up():
    work = Flaky(5, IntegrityError("taken"))
    with pytest.raises(IntegrityError):
        retrying(work, on=IntegrityError, attempts=3)
    assert work.calls == 3


def test_other_errors_are_not_retried():
    work = Flaky(1, ValueError("bug"))
    with pytest.raises(ValueError):
        retrying(work, on=IntegrityError)
    assert work.calls == 1


def test_only_the_errors_the_condition_names_are_retried():
    work = Flaky(1, OperationalError("disk I/O error"))
    with pytest.raises(OperationalError):
        retrying(work, on=OperationalError, when=is_transient)
    assert work.calls == 1
    assert retrying(Flaky(1, OperationalError("database is locked")), on=OperationalError, when=is_transient) == "done"


@pytest.mark.django_db
def test_atomic_work_runs_again_inside_the_callers_transaction():
    with transaction.atomic():
        assert retrying(Flaky(1, IntegrityError("taken")), on=IntegrityError, atomic=True) == "done"


@pytest.mark.django_db
def test_rows_copied_with_their_children_each_get_their_own_rows_children():
    vip, new = TagFactory(name="VIP"), TagFactory(name="Nova")
    ana = ContactFactory(name="Ana", tags=[vip, new])
    bia = ContactFactory(name="Bia", tags=[new])
    ContactFactory(name="Caio", tags=[vip])  # not copied
    ContactFactory(name="Dani")  # copied, no tags
    history = Contact.history.model
    before = history.objects.count()
    chosen = Contact.objects.exclude(name="Caio")

    insert_with_children(
        history,
        ["id", "name", "number", "email", "cpf_cnpj", "first_name", "last_name", "company", "telegram_id", "photo", "is_group", "created_at",
         "history_date", "history_type", "history_source"],
        chosen.values_list(
            "id", "name", "number", "email", "cpf_cnpj", "first_name", "last_name", "company", "telegram_id", "photo", "is_group", "created_at",
            "updated_at", Value("~", output_field=CharField()), Value("command", output_field=CharField()),
        ),
        key="id",
        child_model=apps.get_model("contacts", "HistoricalContact_tags"),
        child_columns=["history_id", "id", "contact_id", "tag_id"],
        children=Contact.tags.through.objects.filter(contact__in=chosen),
        match="contact_id",
    )

    records = history.objects.order_by("history_id")[before:]
    assert {record.name: set(record.tags.values_list("tag_id", flat=True)) for record in records} == {
        "Ana": {vip.pk, new.pk},
        "Bia": {new.pk},
        "Dani": set(),
    }
    for record in records:
        assert set(record.tags.values_list("contact_id", flat=True)) <= {record.id}
    assert {record.id for record in records if record.name in ("Ana", "Bia")} == {ana.pk, bia.pk}


def backend_priority(database) -> int:
    """The niceness of the backend serving this connection (PostgreSQL
    with the prioritize extension)."""
    with database.cursor() as cursor:
        cursor.execute("SELECT get_backend_priority(pg_backend_pid())")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_background_process_database_backend_runs_at_its_niceness(settings):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backends only")
    # Connections of their own: the test's is inside its transaction.
    plain = connections.create_connection("default")
    niced = connections.create_connection("default")
    try:
        with plain.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'prioritize'")
            if cursor.fetchone() is None:
                pytest.skip("PostgreSQL without the prioritize extension")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS prioritize")
        settings.DATABASE_NICE = 10
        assert backend_priority(niced) == 10
        assert backend_priority(plain) == 0
    finally:
        plain.close()
        niced.close()


@pytest.mark.django_db
def test_a_niceness_is_nothing_to_a_database_without_backends(settings):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite runs in the process itself")
    settings.DATABASE_NICE = 10
    lower_backend_priority(connection=connection)
    assert Contact.objects.count() == 0


def test_a_lock_until_commit_outside_a_transaction_is_refused_since_it_would_end_at_once():
    with pytest.raises(RuntimeError, match="needs a transaction"):
        lock_until_commit("opt-out:1:1")


@pytest.mark.django_db
def test_a_lock_until_commit_is_taken_inside_a_transaction():
    with transaction.atomic():
        lock_until_commit("opt-out:1:1")
        lock_until_commit("opt-out:1:1")  # the same transaction holds it already


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's page cache")
def test_a_bulk_write_has_a_larger_page_cache_on_its_connection_and_gives_it_back():
    def cache_size():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    before = cache_size()
    with pytest.raises(RuntimeError), bulk_writing():
        assert cache_size() == -BULK_CACHE_KIB
        raise RuntimeError("the write failed")
    assert cache_size() == before


def prepared_runs(sql: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT custom_plans + generic_plans FROM pg_prepared_statements WHERE statement = %s", [sql.replace("%s", "$1")])
        row = cursor.fetchone()
    return row and row[0]


needs_prepared_statements = pytest.mark.skipif(
    "not database.prepares_statements()", reason="SQLite, or DATABASE_PREPARED_STATEMENTS off: nothing is prepared"
)


@pytest.mark.django_db
@needs_prepared_statements
def test_a_hot_statement_is_planned_once_then_only_run_and_reads_what_a_plain_cursor_reads():
    ContactFactory(name="Ana", number="5511987654321")
    sql = "SELECT name, number, created_at FROM contacts_contact WHERE number = %s"

    for _ in range(3):
        with hot_cursor() as cursor:
            cursor.execute(sql, ["5511987654321"])
            hot = cursor.fetchall()

    with connection.cursor() as cursor:
        cursor.execute(sql, ["5511987654321"])
        assert hot == cursor.fetchall()
    assert prepared_runs(sql) == 3
    # Nothing else is counted or prepared by psycopg of its own accord.
    assert connection.connection.prepare_threshold is None


@pytest.mark.django_db
def test_a_hot_statement_is_not_prepared_where_prepared_statements_are_off(settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no prepared statements")
    settings.DATABASE_PREPARED_STATEMENTS = False
    with hot_cursor() as cursor:
        cursor.execute("SELECT count(*) FROM contacts_contact WHERE number = %s", ["5511987654321"])
        assert cursor.fetchone() == (0,)
    assert prepared_runs("SELECT count(*) FROM contacts_contact WHERE number = %s") is None


@pytest.mark.django_db(transaction=True)
@needs_prepared_statements
def test_a_hot_statement_still_runs_after_a_migration_changed_a_column_it_returns():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE hot_statement_test (id integer, label varchar(10))")
        cursor.execute("INSERT INTO hot_statement_test VALUES (1, 'um')")
    other = connections.create_connection("default")
    try:
        sql = "SELECT id, label FROM hot_statement_test WHERE id = %s"
        for _ in range(2):
            with hot_cursor() as cursor:
                cursor.execute(sql, [1])
        # Another machine migrates meanwhile.
        with other.cursor() as cursor:
            cursor.execute("ALTER TABLE hot_statement_test ALTER COLUMN label TYPE text")
        with hot_cursor() as cursor:
            cursor.execute(sql, [1])
            assert cursor.fetchall() == [(1, "um")]
        assert prepared_runs(sql) == 1  # prepared again
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE hot_statement_test")


@pytest.mark.django_db(transaction=True)
def test_a_hot_statements_errors_are_djangos_as_a_plain_cursors_are():
    contact = ContactFactory(number="5511987654321")
    with pytest.raises(IntegrityError):
        with hot_cursor() as cursor:
            cursor.execute("UPDATE contacts_contact SET number = %s WHERE id = %s", ["5511987654321", ContactFactory().pk])
    assert Contact.objects.get(number="5511987654321") == contact
