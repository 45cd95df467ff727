#!/usr/bin/env python
"""Bulk actions at scale, on PostgreSQL: tag every contact, then undo.

    .venv/bin/python benchmarks/bulk.py                    # 500,000 contacts
    .venv/bin/python benchmarks/bulk.py --contacts 100000

Builds `contacts_bench_bulk` afresh (migrated; contacts written by one
INSERT … SELECT over generate_series, a third of them with the tag
already), then measures, in this process, what the panel does:
- fixing and counting the set (bulk_prepare: the rows beside the job, the
  exact count the user confirms);
- the tagging job (bulk_run through the jobs' task: the tag links, the
  history records with their tags, chunk by chunk);
- its undo (bulk_undo_run).
Beside them, a same-run reference: the one statement any tagging needs,
a bare INSERT … SELECT of a link per contact (the machine's speed today).
The database is dropped at the end unless --keep.

Prints a table.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432/{name}"
NAME = "contacts_bench_bulk"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
        connection.execute(sql)


def setup() -> None:
    os.environ.update(
        DATABASE_URL=PG.format(name=NAME),
        SECRET_KEY="benchmark-only-" + "x" * 50,
        DEBUG="0",
        HTTPS="0",
        DJANGO_SETTINGS_MODULE="contacts_portal.settings",
    )
    import django

    django.setup()


def seed(count: int) -> None:
    """`count` contacts in one statement: every column the model requires,
    a unique number each; a third tagged "Antiga"."""
    from django.db import connection, models

    from contacts.models import Contact, Tag

    values = []
    columns = []
    for field in Contact._meta.concrete_fields:
        if field.primary_key:
            continue
        column = connection.ops.quote_name(field.column)
        if field.name == "name":
            value = "'Contato ' || i"
        elif field.name == "name_key":
            value = "'contato ' || i"
        elif field.name == "search_text":
            value = "'contato ' || i"
        elif field.name == "number":
            value = "'5511' || lpad(i::text, 9, '0')"
        elif field.null:
            continue
        elif isinstance(field, models.BooleanField):
            value = "false"
        elif isinstance(field, models.DateTimeField):
            value = "now()"
        elif isinstance(field, (models.CharField, models.TextField, models.FileField)):
            value = "''"
        elif field.has_default():
            value = repr(field.get_default())
        else:
            raise SystemExit(f"No seed value for {field.name}")
        columns.append(column)
        values.append(value)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Contact._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM generate_series(1, %s) AS i",
            [count],
        )
        old = Tag.objects.create(name="Antiga")
        Tag.objects.create(name="VIP")
        Tag.objects.create(name="Referência")
        cursor.execute(
            f"INSERT INTO {Contact.tags.through._meta.db_table} (contact_id, tag_id) SELECT id, %s FROM {Contact._meta.db_table} WHERE id %% 3 = 0",
            [old.pk],
        )
        cursor.execute("ANALYZE")


def timed(work):
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    args = parse_args()
    admin(f"DROP DATABASE IF EXISTS {NAME}")
    admin(f"CREATE DATABASE {NAME}")
    setup()
    from django.core.management import call_command
    from django.db import connection

    from bulk.models import Action
    from bulk.services import Target, bulk_confirm, bulk_prepare, bulk_undo_start
    from contacts.models import Contact, Tag
    from jobs.tasks import run_job

    try:
        call_command("migrate", verbosity=0)
        seconds, _ = timed(lambda: seed(args.contacts))
        print(f"seeded {args.contacts:,} contacts in {seconds:.1f} s", file=sys.stderr)
        vip, reference = Tag.objects.get(name="VIP"), Tag.objects.get(name="Referência")
        rows = []

        def reference_insert():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {Contact.tags.through._meta.db_table} (contact_id, tag_id) SELECT id, %s FROM {Contact._meta.db_table}",
                    [reference.pk],
                )

        seconds, _ = timed(reference_insert)
        rows.append(("reference: bare INSERT … SELECT of a link per contact", seconds))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        target = Target(Action.ADD_TAG, tag=vip)
        seconds, job = timed(lambda: bulk_prepare(user=None, contacts=Contact.objects.all(), target=target))
        rows.append(("fix and count the set (bulk_prepare)", seconds))
        bulk_confirm(job=job, user=None, run_now=True)
        seconds, _ = timed(lambda: run_job.call(job_id=job.pk))
        job.refresh_from_db()
        assert job.status == job.Status.DONE, job.error_detail
        tag_seconds = seconds
        rows.append((f"tag the set (bulk_run: {job.result['changed']:,} changed)", seconds))
        assert vip.contacts.count() == args.contacts

        undo = bulk_undo_start(job=job, user=None, run_now=True)
        seconds, _ = timed(lambda: run_job.call(job_id=undo.pk))
        undo.refresh_from_db()
        assert undo.status == undo.Status.DONE, undo.error_detail
        rows.append((f"undo (bulk_undo_run: {undo.result['restored']:,} restored)", seconds))
        assert vip.contacts.count() == 0

        print(f"\nBulk actions, {args.contacts:,} contacts, PostgreSQL\n")
        print(f"| {'step':<58} | {'seconds':>8} |")
        print(f"| {'-' * 58} | {'-' * 8}:|")
        for label, value in rows:
            print(f"| {label:<58} | {value:>8.1f} |")
        print(f"\nprepare + tag: {rows[1][1] + tag_seconds:.1f} s (target: under 30 s)")
    finally:
        connection.close()
        if not args.keep:
            admin(f"DROP DATABASE IF EXISTS {NAME}")


if __name__ == "__main__":
    main()
