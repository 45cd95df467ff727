"""What differs between PostgreSQL (production) and SQLite (the embedded
default), in one place: each function here has a PostgreSQL path and a
plain path beside it, and nothing else in the project asks which database
it runs on.

- ids taken up front (allocate_ids: a sequence, or past the largest id), so
  rows that refer to a new row (its tags, its history) go in the same pass;
- inserting many rows (insert, Inserter: COPY, or executemany): the ORM's
  bulk_create compiles every value of every row in Python; one row on a
  hot path (insert_one), with a statement composed once per model;
- a statement every request of a kind runs, planned once per connection
  (hot_cursor: a prepared statement, or a plain cursor);
- several writes in one statement, each taking the rows another returned
  (writes_in_with, insert_select_sql: a WITH of INSERTs, or a statement
  at a time);
- writers that must go one at a time for a key no row stands for yet
  (lock_until_commit: an advisory lock, or SQLite's one writer);
- updating many rows each to its own values (update_rows, remap:
  UPDATE … FROM unnest, or CASE/executemany): the ORM's bulk_update writes
  a CASE per field and row;
- copying rows a query finds into another table (insert_from_select:
  INSERT … SELECT [ON CONFLICT DO NOTHING], or the ORM's bulk_create),
  and with each new row the rows that refer to it (insert_with_children:
  one INSERT … RETURNING feeding the second INSERT, or a look-up per row);
- room in a table's pages for its rows' next versions (set_fill_factor);
- planner statistics after a bulk load (refresh_statistics);
- a connection's settings while it writes many rows (bulk_writing: a
  larger page cache on SQLite, or nothing);
- whether an error is a race the database lost on purpose (is_transient)
  and running work again after one (retrying);
- a background process's database work at a lower CPU priority
  (lower_backend_priority: the `prioritize` extension's nice, or nothing).

Why each trick pays is measured in benchmarks/ and told in its README.
"""

import logging
import time
from functools import cache
from collections.abc import Callable, Iterable
from contextlib import ExitStack, contextmanager
from itertools import batched, chain, islice
from typing import TypeVar

import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, models, transaction
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.copy import QueuedLibpqWriter
from psycopg.pq import Format, TransactionStatus

T = TypeVar("T")
logger = logging.getLogger(__name__)

BATCH = 5000


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, never handed out twice.

    PostgreSQL takes them from the table's sequence. SQLite has no sequence
    to draw from: the next ids after the largest one used, which is safe
    because the caller is inside a transaction that holds SQLite's single
    write lock (transaction_mode IMMEDIATE)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence is looked up once: pg_get_serial_sequence() in the
            # select list ran for every id.
            cursor.execute(
                "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
                "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
                [table, column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("{column}"), 0) FROM "{table}"')
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))


def insert(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> int:
    """INSERT `rows` into `model`'s table: tuples of the values of
    `columns` (attnames), as the model holds them. A primary key left out
    is assigned by the database. No signals, no save(): callers record
    history themselves. Rows are read and sent a batch at a time, so memory
    stays flat. Returns the number of rows."""
    batches = _batches(iter(rows))
    first = next(batches, None)
    if first is None:
        return 0
    # Beyond a batch, a thread sends the data while the next rows are made,
    # and the database works on the rows sent meanwhile; a webhook's single
    # row starts no thread, and goes as one INSERT (a COPY costs it three
    # round trips).
    with Inserter(model, columns, queued=len(first) == BATCH, copy=len(first) > FEW_ROWS) as inserter:
        for batch in chain([first], batches):
            inserter.write(batch)
    return inserter.count


def insert_one(obj: models.Model, *, conflict: str = "") -> int | None:
    """INSERT `obj` (a new instance) as save(force_insert=True) would, with
    no signals, and set its primary key: the new row's id, or None when
    `conflict` (an ON CONFLICT target, "(columns) [WHERE ...]") found the
    row there already and nothing was written. Both databases speak this
    SQL; the statement is composed once per model and target, which is
    most of what the ORM's save() costs a one-row write."""
    fields, sql = _insert_one_sql(type(obj), conflict)
    values = row_values(obj, fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj.pk


@cache
def _insert_one_sql(model: type[models.Model], conflict: str) -> tuple[list, str]:
    opts = model._meta
    fields = [field for field in opts.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    on_conflict = f" ON CONFLICT {conflict} DO NOTHING" if conflict else ""
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}){on_conflict} RETURNING {quote(opts.pk.column)}"
    )
    return fields, sql


def row_values(obj: models.Model, fields: list) -> list:
    """The values of `fields` of a new instance as an INSERT sends them
    (defaults and auto_now filled in, as save() would)."""
    return [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]


def hot_cursor():
    """A cursor whose statements PostgreSQL plans once per connection and
    then only runs (a prepared statement, server-side parameters), for the
    few statements a busy endpoint runs on every request; elsewhere, a
    plain cursor: on SQLite, when DATABASE_PREPARED_STATEMENTS is off (a
    pooler that cannot keep them), and when connections are not kept
    between requests (CONN_MAX_AGE 0: nothing would run twice). Errors,
    execute_wrappers and query logging are Django's, as for
    connection.cursor()."""
    if not prepares_statements():
        return connection.cursor()
    # As Django's BaseDatabaseWrapper._cursor() and the PostgreSQL
    # backend's create_cursor() (Django 6), with this cursor's class.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = _PreparingCursor(connection.connection)
        if connection.timezone != connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
            register_tzloader(connection.timezone, cursor)
        return connection._prepare_cursor(cursor)


def prepares_statements() -> bool:
    """Whether hot_cursor() prepares its statements (see there)."""
    return (
        connection.vendor == "postgresql"
        and settings.DATABASE_PREPARED_STATEMENTS
        and connection.settings_dict["CONN_MAX_AGE"] != 0
    )


# A threshold psycopg never reaches: with it set, psycopg prepares what a
# cursor asks it to (prepare=True) and nothing of its own accord.
PREPARE_ON_REQUEST = 2**31 - 1


class _PreparingCursor(ServerBindingCursor):
    """Prepares what it runs. psycopg prepares only while its connection's
    prepare_threshold is set, and Django leaves it off (None) for every
    other statement: set, psycopg would count each statement the
    connection runs, keyed by its text with the values written in, to
    prepare the frequent ones of its own accord."""

    def execute(self, query, params=None, *, prepare=True, binary=None):
        self.connection.prepare_threshold = PREPARE_ON_REQUEST
        try:
            return super().execute(query, params, prepare=prepare, binary=binary)
        except psycopg.errors.FeatureNotSupported:
            # "cached plan must not change result type": a migration changed
            # a column the statement returns since it was prepared. Outside
            # a transaction, every prepared statement is forgotten (psycopg
            # reads the DEALLOCATE ALL and forgets its names too) and the
            # statement runs again; inside one, its rollback forgets them.
            if self.connection.info.transaction_status != TransactionStatus.IDLE:
                raise
            super().execute("DEALLOCATE ALL", prepare=False)
            return super().execute(query, params, prepare=prepare, binary=binary)
        finally:
            self.connection.prepare_threshold = None


def writes_in_with() -> bool:
    """Whether one statement may write several tables, each write taking
    the rows another returned (INSERT … RETURNING inside a WITH):
    PostgreSQL. SQLite's WITH only reads; its callers write a statement at
    a time."""
    return connection.vendor == "postgresql"


@cache
def insert_select_sql(
    model: type[models.Model], *, exprs: tuple[tuple[str, str], ...], source: str, conflict: str = "", returning: str = ""
) -> tuple[list, str]:
    """A one-row INSERT into `model`'s table for a WITH (see
    writes_in_with): the columns named in `exprs` ((attname, SQL
    expression), the primary key among them if given) are read FROM
    `source` (a table, a CTE, with its WHERE), every other column but the
    primary key is a parameter. Returns (the fields the parameters are
    for, in order, see row_values; the statement). Composed once per model
    and shape."""
    opts = model._meta
    quote = connection.ops.quote_name
    given = dict(exprs)
    fields = [field for field in opts.concrete_fields if not field.primary_key and field.attname not in given]
    by_attname = {field.attname: field for field in opts.concrete_fields}
    columns = [quote(field.column) for field in fields] + [quote(by_attname[name].column) for name in given]
    values = ["%s"] * len(fields) + list(given.values())
    on_conflict = f" ON CONFLICT {conflict} DO NOTHING" if conflict else ""
    returning = f" RETURNING {returning}" if returning else ""
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source}{on_conflict}{returning}"
    )
    return fields, sql


class Inserter:
    """An INSERT into `model`'s table of rows that come a batch at a time
    (see insert()), as a context manager: on PostgreSQL one COPY stays open
    from the first batch to the last, so the rows can come as they are
    made. Leaving the block with an error sends nothing more."""

    def __init__(self, model: type[models.Model], columns: list[str], *, queued: bool = True, copy: bool = True):
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        fields = [by_attname[name] for name in columns]
        self._preps = [(i, field, _Prepared(field)) for i, field in enumerate(fields) if _needs_prep(field)]
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        self._queued = queued
        self._use_copy = copy and connection.vendor == "postgresql"
        self._copy_sql = f"COPY {table} ({names}) FROM STDIN"
        self._insert_sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
        self._stack = ExitStack()
        self._copy = None
        self.count = 0

    def __enter__(self) -> "Inserter":
        with ExitStack() as stack:
            self._cursor = stack.enter_context(connection.cursor())
            # The COPY's errors as Django's (an IntegrityError), as the
            # cursor's own are.
            stack.enter_context(connection.wrap_database_errors)
            if self._use_copy:
                writer = QueuedLibpqWriter(self._cursor.cursor) if self._queued else None
                self._copy = stack.enter_context(self._cursor.cursor.copy(self._copy_sql, writer=writer))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info):
        return self._stack.__exit__(*exc_info)

    def write(self, batch: list[tuple]) -> None:
        rows = _prepared(batch, self._preps)
        if self._copy is not None:
            write_row = self._copy.write_row
            for row in rows:
                write_row(row)
        else:
            self._cursor.executemany(self._insert_sql, rows)
        self.count += len(batch)


# Up to this many rows, INSERT beats COPY.
FEW_ROWS = 10


def _batches(rows):
    while batch := list(islice(rows, BATCH)):
        yield batch


def _prepared(batch: list[tuple], preps) -> list[tuple]:
    """Values the driver cannot take as they are (dates and times on
    SQLite, files) converted as the ORM would, each distinct value once;
    column by column, so the loops stay in C."""
    if not preps:
        return batch
    columns = list(zip(*batch, strict=True))
    for index, field, memo in preps:
        try:
            columns[index] = list(map(memo.__getitem__, columns[index]))
        except TypeError:  # an unhashable value (JSON): each converted
            columns[index] = [field.get_db_prep_save(value, connection) for value in columns[index]]
    return list(zip(*columns, strict=True))


class _Prepared(dict):
    """A column's values as the database takes them, converted once each."""

    def __init__(self, field):
        super().__init__()
        self.field = field

    def __missing__(self, value):
        self[value] = converted = self.field.get_db_prep_save(value, connection)
        return converted


def _needs_prep(field) -> bool:
    if isinstance(field, models.FileField):
        return True
    if connection.vendor == "postgresql":
        return False  # psycopg adapts dates, times, UUIDs and booleans itself
    return isinstance(field, (models.DateField, models.UUIDField, models.DecimalField, models.JSONField))


def remap(model, field_name: str, mapping: dict[int, int]) -> int:
    """Point `model.field_name` from each old id of `mapping` to its new id,
    in one statement per few hundred ids (PostgreSQL: one in all)."""
    if not mapping:
        return 0
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column = quote(model._meta.get_field(field_name).column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET {column} = m.new FROM unnest(%s::bigint[], %s::bigint[]) AS m(old, new) "
                f"WHERE {table}.{column} = m.old",
                [list(mapping), list(mapping.values())],
            )
            return cursor.rowcount
        changed = 0
        for part in batched(mapping.items(), 400):
            cases = " ".join(["WHEN %s THEN %s"] * len(part))
            cursor.execute(
                f"UPDATE {table} SET {column} = CASE {column} {cases} END WHERE {column} IN ({', '.join(['%s'] * len(part))})",
                [value for pair in part for value in pair] + [old for old, _new in part],
            )
            changed += cursor.rowcount
        return changed


def update_rows(model, objects: list, field_names: list[str]) -> None:
    """UPDATE the given fields of many rows, each to its own values, in one
    statement per batch on PostgreSQL (the ORM's bulk_update writes a CASE
    per field and row, and composing it took most of a large merge's time)."""
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    columns = [pk, *fields]

    def values(batch) -> list[list]:
        return [[field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in batch] for field in columns]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{_array_type(field)}" for field in columns)
            names = ", ".join(quote(field.column) for field in columns)
            assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields)
            sql = (
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({names}) "
                f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}"
            )
            # A batch at a time: the statement holds every value as text,
            # and a whole import's at once was too heavy (benchmarks/README.md).
            for batch in batched(objects, BATCH):
                cursor.execute(sql, values(batch))
            return
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        rows = [[*row[1:], row[0]] for row in zip(*values(objects), strict=True)]
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s", rows)


def _array_type(field) -> str:
    db_type = field.db_type(connection) if not field.is_relation else field.target_field.rel_db_type(connection)
    return db_type + "[]"


def select_where_in(model, select: str, condition: str, values: list[str]) -> list[tuple]:
    """SELECT `select` FROM `model`'s table WHERE `condition` is one of
    `values`, in plain SQL: the ORM prepares each value in Python, and the
    driver quotes a list element by element (see benchmarks/README.md).
    On PostgreSQL the values travel as one text, split by the database
    (the values never hold a line break); elsewhere a few hundred at a time."""
    if not values:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    rows = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {select} FROM {table} WHERE {condition} = ANY(string_to_array(%s, chr(10)))", ["\n".join(values)])
            return cursor.fetchall()
        for start in range(0, len(values), 900):
            chunk = values[start : start + 900]
            cursor.execute(f"SELECT {select} FROM {table} WHERE {condition} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            rows += cursor.fetchall()
    return rows


def lock_rows(model, ids: list[int]) -> int:
    """Lock the rows of `model` with these ids (ascending), in id order like
    every bulk writer, until the transaction ends; returns how many there
    still are. PostgreSQL takes the ids as arrays, a batch at a time
    (batches of ascending ids lock in ascending order too): the ORM's IN
    prepared each id, most of the lock's time. SQLite's one writer holds
    the whole database: nothing to lock, only to count."""
    locked = 0
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            for batch in batched(ids, BATCH):
                cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE", [list(batch)])
                locked += len(cursor.fetchall())
        return locked
    for start in range(0, len(ids), 900):
        locked += model.objects.filter(pk__in=ids[start : start + 900]).count()
    return locked


def lock_until_commit(key: str) -> None:
    """Make writers that name the same `key` go one at a time, each
    waiting for the other's transaction to end: a check for a row and its
    insert where no row can be locked yet (there is none) and no unique
    constraint fits. PostgreSQL takes a transaction-level advisory lock on
    the key's hash (two keys sharing a hash only wait for each other).
    SQLite's IMMEDIATE transactions let one writer in at a time already."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_until_commit needs a transaction: in autocommit the lock would end at once.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def check_references_now() -> None:
    """In this transaction, check each row's foreign keys as its statement
    ends, not all at the commit (Django makes PostgreSQL's deferred): a
    writer that works beside another thread (see can_write_beside) then
    does the checks while the other thread still has work, instead of
    alone at the end. Nothing to do on SQLite, which has no such writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def can_write_beside() -> bool:
    """Whether a writer thread, with a connection and a transaction of its
    own, can write while this connection goes on reading: on PostgreSQL,
    unless this connection is inside a transaction (whose rows the other
    could not see, and which the write must be part of). SQLite has one
    writer at a time."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def insert_from_select(model: type[models.Model], columns: list[str], rows: models.QuerySet, *, ignore_conflicts: bool = False) -> int:
    """INSERT into `model`'s table the rows a query finds: `rows` is a
    values_list() queryset whose columns are, in order, the values of
    `columns` (attnames). The rows never leave the database: one
    INSERT … SELECT, with ON CONFLICT DO NOTHING when `ignore_conflicts`
    (a row a unique constraint already holds is left out). Both databases
    the project runs on speak it; elsewhere the ORM's path reads the rows
    and bulk_creates them a batch at a time. Returns the rows inserted."""
    quote = connection.ops.quote_name
    if connection.vendor in ("postgresql", "sqlite"):
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        try:
            select, params = rows.order_by().query.sql_with_params()
        except EmptyResultSet:  # known empty without asking (.none(), pk__in=[]): no SQL to run
            return 0
        names = ", ".join(quote(by_attname[name].column) for name in columns)
        conflicts = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({names}) {select}{conflicts}", params)
            return cursor.rowcount
    inserted = 0
    for batch in batched(rows.order_by().iterator(chunk_size=BATCH), BATCH):
        made = model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in batch], ignore_conflicts=ignore_conflicts
        )
        inserted += len(made)
    return inserted


def insert_with_children(
    model: type[models.Model],
    columns: list[str],
    rows: models.QuerySet,
    *,
    key: str,
    child_model: type[models.Model],
    child_columns: list[str],
    children: models.QuerySet,
    match: str,
) -> None:
    """insert_from_select() of `rows` into `model`, and with each new row,
    into `child_model`, the rows of `children` (a queryset) whose `match`
    is the new row's `key` (attnames): `child_columns[0]` gets the new
    row's primary key, the other columns the child's values of the same
    names. A contact's history record and its tags are the case: the
    records are the rows, the contacts' tag links the children, matched on
    the contact's id.

    PostgreSQL: one statement, the INSERT's RETURNING joined to the
    children. Elsewhere each child looks its new row up among the rows
    past the largest key before the INSERT (a database with one writer)."""
    quote = connection.ops.quote_name
    pk = model._meta.pk
    rest = child_columns[1:]
    if connection.vendor != "postgresql":
        floor = model.objects.order_by(f"-{pk.attname}").values_list(pk.attname, flat=True).first() or 0
        insert_from_select(model, columns, rows)
        new_row = model.objects.filter(**{f"{pk.attname}__gt": floor, key: models.OuterRef(match)}).order_by(f"-{pk.attname}")
        insert_from_select(child_model, child_columns, children.values_list(models.Subquery(new_row.values(pk.attname)[:1]), *rest))
        return
    try:
        select, params = rows.order_by().query.sql_with_params()
        child_select, child_params = children.order_by().values_list(match, *rest).query.sql_with_params()
    except EmptyResultSet:
        return
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    child_by_attname = {field.attname: field for field in child_model._meta.concrete_fields}
    names = ", ".join(quote(by_attname[name].column) for name in columns)
    child_names = ", ".join(quote(child_by_attname[name].column) for name in child_columns)
    aliases = [f"c{i}" for i in range(len(child_columns))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH new AS (INSERT INTO {quote(model._meta.db_table)} ({names}) {select} "
            f"RETURNING {quote(pk.column)} AS pk, {quote(by_attname[key].column)} AS key) "
            f"INSERT INTO {quote(child_model._meta.db_table)} ({child_names}) "
            f"SELECT new.pk, {', '.join(aliases[1:])} FROM new JOIN ({child_select}) AS c ({', '.join(aliases)}) ON c.c0 = new.key",
            [*params, *child_params],
        )


def set_fill_factor(schema_editor, table: str, percent: int) -> None:
    """Fill `table`'s new pages only to `percent`: an update that changes
    no indexed column then writes the row's new version beside the old
    one, and no index entry (PostgreSQL's heap-only tuples). For a
    migration's RunPython; SQLite has no such setting."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(percent)})")


# The page cache of a connection writing many rows on SQLite, in KiB.
BULK_CACHE_KIB = 32 * 1024


@contextmanager
def bulk_writing():
    """This connection set for writing many rows, until the block ends.
    SQLite keeps 2 MB of pages per connection by default: a table and its
    indexes written in one transaction beyond that spill their pages to
    the WAL and read them back, again and again. The cache is this
    connection's own memory, so other users' connections are unaffected;
    it is set back, and its pages let go of, when the block ends.
    PostgreSQL's shared buffers need nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def refresh_statistics(*models_: type[models.Model]) -> None:
    """After a bulk load: let the planner see the new sizes of these tables
    now, not at the next autovacuum (PostgreSQL) or connection (SQLite,
    whose optimize looks at every table that needs it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models_))
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize=0x10002")


# PostgreSQL's serialization failure, deadlock and lock-not-available.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}


def is_transient(error: DatabaseError) -> bool:
    """A failure the database chose to settle a race (PostgreSQL's
    deadlocks and serialization failures, SQLite's "database is locked"):
    the same work succeeds when run again."""
    code = getattr(getattr(error, "__cause__", None), "sqlstate", None)
    return code in TRANSIENT_SQLSTATES or "locked" in str(error)


def retrying(
    work: Callable[[], T],
    *,
    on: type[BaseException] | tuple[type[BaseException], ...],
    attempts: int = 3,
    atomic: bool = False,
    when: Callable[[BaseException], bool] | None = None,
    pause: float = 0.0,
) -> T:
    """Run `work()` again when it loses a race to another writer (a unique
    value taken meanwhile, a contact merged away, a deadlock): it raises
    one of `on` (and `when(error)` says so, if given), and it looks at the
    database afresh the next time. `atomic` runs each attempt in a
    transaction of its own (a savepoint inside the caller's); work that
    does not, and fails inside the caller's transaction, cannot run again
    there (the failed statement aborted it): its `when` says so. `pause`
    seconds times the attempt number are waited between attempts. The last
    attempt's error goes up."""
    for attempt in range(1, attempts + 1):
        try:
            if atomic:
                with transaction.atomic():
                    return work()
            return work()
        except on as error:
            if attempt == attempts or (when is not None and not when(error)):
                raise
            if pause:
                time.sleep(pause * attempt)
    raise AssertionError("unreachable")


def lower_backend_priority(*, connection, **kwargs) -> None:
    """On each new connection (the connection_created signal): the
    PostgreSQL backend serving this process runs at settings.DATABASE_NICE,
    as the process itself does. A webhook's or an import's queries then
    give the cores to an agent's page in the database too, not only in
    Python. PostgreSQL has no such setting of its own: the `prioritize`
    extension renices the backend, and lets a role only lower the priority
    of its own backends. Without the extension (or on SQLite) the work
    runs at the normal priority, said once in the log."""
    from django.conf import settings

    niceness = settings.DATABASE_NICE
    if not niceness or connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_backend_priority(pg_backend_pid(), %s)", [niceness])
    except DatabaseError:
        _warn_without_prioritize(niceness)


@cache
def _warn_without_prioritize(niceness: int) -> None:
    logger.warning("DATABASE_NICE=%s is not applied: the database has no `prioritize` extension (CREATE EXTENSION prioritize)", niceness)
