#!/usr/bin/env python
"""Bulk actions at scale, on PostgreSQL: tag every contact, remove a tag
from every contact, move every contact to another wallet, and undo each.

    .venv/bin/python benchmarks/bulk.py                    # 500,000 contacts
    .venv/bin/python benchmarks/bulk.py --contacts 100000 --actions tag

Builds `contacts_bench_bulk` afresh (or --database NAME; migrated;
contacts written by one INSERT … SELECT over generate_series, a third of
them with another tag already), then measures, in this process, what the
panel does for each action:
- fixing and counting the set (bulk_prepare: the rows beside the job, the
  exact count the user confirms);
- the job (bulk_run through the jobs' task: the tag links or the wallets,
  the history records with their tags, chunk by chunk);
- its undo (bulk_undo_run).
Beside them, same-run references: the one statement any tagging needs,
a bare INSERT … SELECT of a link per contact, and the one any move needs,
a bare UPDATE of every contact's wallet (the machine's speed today). The
tag the first gives is the one "remove a tag" takes; the wallet the
second sets is the one the contacts move from.
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
    parser.add_argument(
        "--actions", nargs="+", choices=["tag", "remove", "move"], default=["tag", "remove", "move"], help="the actions to time (default all)"
    )
    parser.add_argument("--database", default=NAME, help=f"the database to build and drop (default {NAME})")
    return parser.parse_args()


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
        connection.execute(sql)


def setup(name: str) -> None:
    os.environ.update(
        DATABASE_URL=PG.format(name=name),
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
    admin(f"DROP DATABASE IF EXISTS {args.database}")
    admin(f"CREATE DATABASE {args.database}")
    setup(args.database)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from bulk.models import Action
    from bulk.services import Target, bulk_confirm, bulk_prepare, bulk_undo_start
    from contacts.models import Contact, Tag, Wallet
    from jobs.tasks import run_job

    try:
        call_command("migrate", verbosity=0)
        seconds, _ = timed(lambda: seed(args.contacts))
        print(f"seeded {args.contacts:,} contacts in {seconds:.1f} s", file=sys.stderr)
        vip, reference = Tag.objects.get(name="VIP"), Tag.objects.get(name="Referência")
        owner = get_user_model().objects.create(username="carteiras")
        north, south = Wallet.objects.create(name="Norte", user=owner), Wallet.objects.create(name="Sul", user=owner)
        rows = []

        def bare(label, sql, params):
            def run():
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)

            seconds, _ = timed(run)
            rows.append((f"reference: {label}", seconds))
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

        def job_run(job):
            seconds, _ = timed(lambda: run_job.call(job_id=job.pk))
            job.refresh_from_db()
            assert job.status == job.Status.DONE, job.error_detail
            return seconds

        def action(target, label):
            """Fix and count the set (bulk_prepare), then run the job
            (bulk_run through the jobs' task); returns the job."""
            seconds, job = timed(lambda: bulk_prepare(user=None, contacts=Contact.objects.all(), target=target))
            rows.append((f"{label}: fix and count the set (bulk_prepare)", seconds))
            bulk_confirm(job=job, user=None, run_now=True)
            seconds = job_run(job)
            rows.append((f"{label}: the job ({job.result['changed']:,} changed)", seconds))
            return job

        def undo(job, label):
            seconds = job_run(job := bulk_undo_start(job=job, user=None, run_now=True))
            rows.append((f"{label}: undo ({job.result['restored']:,} restored)", seconds))

        links = Contact.tags.through._meta.db_table
        # The references: the one statement each action cannot do without,
        # bare (VACUUM ANALYZE after each, outside the time).
        bare(
            "bare INSERT … SELECT of a link per contact",
            f"INSERT INTO {links} (contact_id, tag_id) SELECT id, %s FROM {Contact._meta.db_table}",
            [reference.pk],
        )
        bare("bare UPDATE of every contact's wallet", f"UPDATE {Contact._meta.db_table} SET wallet_id = %s, updated_at = now()", [north.pk])

        if "tag" in args.actions:
            job = action(Target(Action.ADD_TAG, tag=vip), "add a tag")
            assert vip.contacts.count() == args.contacts
            undo(job, "add a tag")
            assert vip.contacts.count() == 0
        if "remove" in args.actions:
            job = action(Target(Action.REMOVE_TAG, tag=reference), "remove a tag")
            assert reference.contacts.count() == 0
            undo(job, "remove a tag")
            assert reference.contacts.count() == args.contacts
        if "move" in args.actions:
            job = action(Target(Action.MOVE, wallet=south), "move to a wallet")
            assert south.contacts.count() == args.contacts
            undo(job, "move to a wallet")
            assert north.contacts.count() == args.contacts

        base = rows[0][1]
        print(f"\nBulk actions, {args.contacts:,} contacts, PostgreSQL\n")
        print(f"| {'step':<62} | {'seconds':>8} | {'× reference':>11} |")
        print(f"| {'-' * 62} | {'-' * 7}:| {'-' * 10}:|")
        for label, value in rows:
            print(f"| {label:<62} | {value:>8.1f} | {value / base:>11.1f} |")
        for name in ("add a tag", "remove a tag", "move to a wallet"):
            steps = [value for label, value in rows if label.startswith(name) and "undo" not in label]
            if steps:
                print(f"\n{name}, set and job: {sum(steps):.1f} s (target: under 30 s)", end="")
        print()
    finally:
        connection.close()
        if not args.keep:
            admin(f"DROP DATABASE IF EXISTS {args.database}")


if __name__ == "__main__":
    main()
