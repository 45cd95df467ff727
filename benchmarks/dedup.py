#!/usr/bin/env python
"""Remover duplicados at scale, on PostgreSQL.

    .venv/bin/python benchmarks/dedup.py                      # 1,000,000 contacts, 50,000 groups, 2,000,000 messages
    .venv/bin/python benchmarks/dedup.py --contacts 100000 --groups 5000 --messages 200000

Builds (once, into the template database `contacts_bench_dedup_seed`) a
base of contacts with duplicate groups of mixed kinds:
- an old 8-digit mobile beside its 9-digit writing,
- a punctuated number ("+55 (11) 98765-4321") beside the canonical one,
- an e-mail in another case,
- a CPF without its punctuation,
- a Telegram id with a leading zero,
- chains of three (number to the second, e-mail to the third);
and tickets with messages spread over every contact, the duplicates
included (some with open tickets on the same channel as their survivor).

Each run copies the template into `contacts_bench_dedup` and measures, in
this process: the preview (find_duplicates: every group, its survivor and
what would move) and the full merge of every group (contacts_merge). Then
it checks the result: no duplicate left, no message or ticket lost or
pointing at a removed contact. Beside the figures, a same-run reference:
a whole-table aggregate over the contacts (the machine's speed today).

Prints a table.
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432/{name}"
SEED, TARGET = "contacts_bench_dedup_seed", "contacts_bench_dedup"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--rebuild", action="store_true", help="build the template database again")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def admin_connection():
    import psycopg

    return psycopg.connect(PG.format(name="postgres"), autocommit=True)


def database_exists(name: str) -> bool:
    with admin_connection() as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def setup(name: str):
    os.environ.update(
        DATABASE_URL=PG.format(name=name),
        SECRET_KEY="benchmark-only-" + "x" * 50,
        DEBUG="0",
        HTTPS="0",
        DJANGO_SETTINGS_MODULE="contacts_portal.settings",
    )
    import django

    django.setup()


# The kinds of duplicate groups, taken in turn.
KINDS = ["old_mobile", "punctuated", "email", "cpf", "telegram", "chain"]
MESSAGES_PER_TICKET = 10


def build_seed(args):
    """The template database: migrated, then filled with COPY."""
    with admin_connection() as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {SEED} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {SEED}")
    setup(SEED)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Channel

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    now = timezone.now()
    started = time.perf_counter()
    rows, duplicates = contact_rows(args, rng, now)
    write_contacts(rows)
    contacts = len(rows)
    print(f"  {contacts:,} contacts in {time.perf_counter() - started:.0f} s", flush=True)
    del rows  # the tickets and their messages are made in the memory it held

    started = time.perf_counter()
    channels = [Channel.objects.create(kind="whatsapp", name="WhatsApp"), Channel.objects.create(kind="telegram", name="Telegram")]
    tickets = ticket_rows(args, rng, now, channel_id=channels[0].pk, contacts=contacts, duplicates=duplicates)
    write_tickets_and_messages(tickets, now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  {len(tickets):,} tickets, {len(tickets) * MESSAGES_PER_TICKET:,} messages in {time.perf_counter() - started:.0f} s", flush=True)
    connection.close()


class People:
    """Contacts' rows for database.insert, with ids from 1 in the order they
    are made and a random name each."""

    def __init__(self, rng, now):
        from contacts.demo import FIRST_NAMES, LAST_NAMES
        from contacts.normalizers import fold

        self.rng, self.now, self.serial = rng, now, 0
        self.first_names, self.last_names, self.fold = FIRST_NAMES, LAST_NAMES, fold

    def __call__(self, *, number="", email="", cpf="", telegram="", days=0):
        self.serial += 1
        name = f"{self.rng.choice(self.first_names)} {self.rng.choice(self.last_names)}"
        key = self.fold(name)
        return {
            "id": self.serial,
            "name": name,
            "number": number,
            "email": email,
            "cpf_cnpj": cpf,
            "birth_date": None,
            "first_name": "",
            "last_name": "",
            "company": "",
            "wallet_id": None,
            "telegram_id": telegram,
            "photo": "",
            "is_group": False,
            "created_at": self.now - timedelta(days=days, seconds=self.serial),
            "updated_at": self.now,
            "name_key": key,
            "search_text": " | ".join(part for part in (key, email) if part),
        }


class Mobiles:
    """Mobile numbers from a counter, each one another contact's."""

    def __init__(self):
        from contacts.demo import AREA_CODES

        self.area_codes = sorted(set(AREA_CODES))

    def split(self, n):
        """A unique (area code, 8-digit mobile subscriber) from a counter."""
        ddd, rest = self.area_codes[n % len(self.area_codes)], n // len(self.area_codes)
        return ddd, f"{'6789'[rest % 4]}{1 + rest // 4 % 9}{rest // 36:06d}"

    def mobile(self, n):
        """The canonical writing of n's number."""
        ddd, subscriber = self.split(n)
        return f"55{ddd}9{subscriber}"


def contact_rows(args, rng, now):
    """The contacts' rows: the duplicate groups first, then other contacts up
    to --contacts; and the ids of the members that will be merged away."""
    from contacts.normalizers import normalize_phone

    person, mobiles = People(rng, now), Mobiles()
    assert all(normalize_phone(mobiles.mobile(n)) == mobiles.mobile(n) for n in range(0, 5000, 7))
    numbers = iter(range(10**9))
    rows = []  # dicts for database.insert
    duplicates = []  # ids of the members that will be merged away
    for group in range(args.groups):
        members = group_members(KINDS[group % len(KINDS)], group, next(numbers), person, mobiles, rng)
        rows += members
        duplicates += [m["id"] for m in members[1:]]
    while person.serial < args.contacts:
        rows.append(person(number=mobiles.mobile(next(numbers)), email=f"c{person.serial}@exemplo.com", days=rng.randrange(1000)))
    return rows, duplicates


def group_members(kind, group, n, person, mobiles, rng):
    """The rows of one duplicate group of `kind`, built on the number n: the
    first member stays, the others are merged into it."""
    from contacts.demo import make_cpf

    ddd, subscriber = mobiles.split(n)
    if kind == "old_mobile":
        # Half written before the 9th digit, half without the country code.
        a = person(number=f"55{ddd}9{subscriber}", days=400)
        b = person(number=f"55{ddd}{subscriber}" if group % 2 else f"{ddd}9{subscriber}", days=100)
        return [a, b]
    if kind == "punctuated":
        a = person(number=f"55{ddd}9{subscriber}", days=400)
        b = person(number=f"+55 ({ddd}) 9{subscriber[:4]}-{subscriber[4:]}", days=50)
        return [a, b]
    if kind == "email":
        email = f"pessoa{group}@exemplo.com.br"
        return [person(number=mobiles.mobile(n), email=email, days=300), person(email=email.upper(), days=20)]
    if kind == "cpf":
        cpf = make_cpf(rng)
        return [person(cpf=cpf, days=300), person(cpf=cpf.replace(".", "").replace("-", ""), number=mobiles.mobile(n), days=10)]
    if kind == "telegram":
        telegram = str(100_000_000 + group)
        return [person(telegram=telegram, days=300), person(telegram="0" + telegram, days=5)]
    email = f"cadeia{group}@exemplo.com.br"
    a = person(number=f"55{ddd}9{subscriber}", days=500)
    b = person(number=f"+55 {ddd} 9{subscriber}", email=email, days=200)
    c = person(email=email.title(), days=30)
    return [a, b, c]


def write_contacts(rows):
    """COPY the contacts, and start their sequence after the last id."""
    from django.db import connection, transaction

    from contacts.models import Contact
    from contacts_portal import database

    with transaction.atomic():
        database.insert(Contact, list(rows[0]), (tuple(row.values()) for row in rows))
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('contacts_contact', 'id'), %s)", [len(rows)])


def ticket_rows(args, rng, now, *, channel_id, contacts, duplicates):
    """The tickets' rows, ids from 1.

    A ticket for every duplicate (open ones beside an open one of the
    survivor on the same channel among them), then tickets for others,
    until the messages are there."""
    ticket_count = args.messages // MESSAGES_PER_TICKET
    owners = duplicates[:ticket_count]
    survivors_open = list(range(1, min(args.groups, ticket_count // 10)))
    others = rng.sample(range(1, contacts + 1), max(0, ticket_count - len(owners) - len(survivors_open)))
    tickets = []
    for ticket_id, owner in enumerate(owners + survivors_open + others, start=1):
        status = "open" if (ticket_id % 4 == 0 or owner in survivors_open) else "closed"
        tickets.append({"id": ticket_id, "contact_id": owner, "channel_id": channel_id, "user_id": None, "status": status, "created_at": now, "updated_at": now, "closed_at": None if status == "open" else now, "merged_into_id": None})
    # Open tickets must be one per contact and channel: the rest closed.
    seen = set()
    for ticket in tickets:
        if ticket["status"] == "open":
            if ticket["contact_id"] in seen:
                ticket["status"], ticket["closed_at"] = "closed", now
            seen.add(ticket["contact_id"])
    return tickets


def message_rows(tickets, now):
    """The messages' rows, MESSAGES_PER_TICKET for each ticket in turn;
    made as they are written, there are too many to hold."""
    for ticket in tickets:
        for k in range(MESSAGES_PER_TICKET):
            yield {
                "channel_id": ticket["channel_id"],
                "external_id": f"{ticket['id']}-{k}",
                "chat_id": "x@s.whatsapp.net",
                "chat_identity": "",
                "sender_id": "",
                "sender_name": "",
                "is_group": False,
                "group_name": "",
                "from_me": k % 3 == 0,
                "kind": "text",
                "body": "Olá, tudo bem? Preciso de ajuda com o meu pedido.",
                "sent_at": now,
                "edited_at": None,
                "ticket_id": ticket["id"],
                "contact_id": ticket["contact_id"],
                "delivery": "received",
                "error": "",
                "sent_by_id": None,
                "created_at": now,
                "updated_at": now,
            }


def write_tickets_and_messages(tickets, now):
    """COPY the tickets and their messages in one transaction, and start the
    tickets' sequence after the last id."""
    from django.db import connection, transaction

    from contacts_portal import database
    from tickets.models import Message, Ticket

    with transaction.atomic():
        database.insert(Ticket, list(tickets[0]), (tuple(row.values()) for row in tickets))
        first = next(message_rows(tickets, now))
        database.insert(Message, list(first), (tuple(row.values()) for row in message_rows(tickets, now)))
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)", [len(tickets)])


def main():
    args = parse_args()
    if args.build:
        build_seed(args)
        return
    if args.rebuild or not database_exists(SEED):
        print(f"Building {SEED} (once)…", flush=True)
        import subprocess

        # Its own process: Django is set up once per process, on one database.
        subprocess.run([sys.executable, __file__, *(a for a in sys.argv[1:] if a != "--rebuild"), "--build"], check=True)
    with admin_connection() as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {TARGET} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {TARGET} TEMPLATE {SEED}")
    setup(TARGET)
    run = measure()
    check(run)
    report(run)


def reference():
    """Seconds of one aggregate over every contact: the machine's speed today."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT lower(email)), max(length(name)) FROM contacts_contact")
    return time.perf_counter() - started


def measure() -> dict:
    """The counts before the merge, then the seconds of the reference, the
    preview, the merge of every group and the preview again, with what
    each returned."""
    from audit.recording import Source, recording
    from contacts.models import Contact
    from dedup.finding import find_duplicates
    from dedup.merging import contacts_merge
    from tickets.models import Message, Ticket

    reference()  # warm the cache as the measured runs will find it
    ref = reference()
    contacts_before = Contact.objects.count()
    messages_before = Message.objects.count()
    tickets_before = Ticket.objects.count()

    started = time.perf_counter()
    groups = find_duplicates()
    preview = time.perf_counter() - started

    started = time.perf_counter()
    with recording(source=Source.MERGE):
        result = contacts_merge(groups=[g.contact_ids for g in groups], rules=[g.rules for g in groups], audit={"from": "benchmark"})
    merge = time.perf_counter() - started

    started = time.perf_counter()
    again = find_duplicates()
    second = time.perf_counter() - started
    return {
        "contacts_before": contacts_before,
        "messages_before": messages_before,
        "tickets_before": tickets_before,
        "ref": ref,
        "groups": groups,
        "preview": preview,
        "result": result,
        "merge": merge,
        "again": again,
        "second": second,
    }


def check(run: dict):
    """Nothing lost, nothing pointing at a removed contact."""
    from django.db.models import Count

    from contacts.models import Contact
    from tickets.models import Message, Ticket

    assert Message.objects.count() == run["messages_before"], "messages lost"
    assert Ticket.objects.count() == run["tickets_before"], "tickets lost"
    assert not Message.objects.filter(contact__isnull=True).exists(), "messages unlinked"
    stray = Ticket.objects.values("contact", "channel").filter(status__in=["open", "pending"]).annotate(n=Count("pk")).filter(n__gt=1)
    assert not stray.exists(), "two active tickets for one contact and channel"
    removed = run["contacts_before"] - Contact.objects.count()
    assert removed == run["result"].contacts, (removed, run["result"].contacts)


def report(run: dict):
    """The table: the counts, the groups found by their rules, each step's seconds against its target."""
    from django.db import connection

    groups, result = run["groups"], run["result"]
    kinds = {}
    for group in groups:
        key = "+".join(group.rules)
        kinds[key] = kinds.get(key, 0) + 1
    print()
    print(
        f"Contacts: {run['contacts_before']:,} · messages: {run['messages_before']:,} · tickets: {run['tickets_before']:,} "
        f"(PostgreSQL {connection.pg_version // 10000})"
    )
    print(f"Groups found: {len(groups):,} ({', '.join(f'{k}: {v:,}' for k, v in sorted(kinds.items()))})")
    print()
    print(f"| {'step':<44} | {'seconds':>8} | {'target':>8} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 10}|")
    print(f"| {'reference: one aggregate over every contact':<44} | {run['ref']:8.2f} | {'':>8} |")
    print(f"| {'preview (find every group, what moves)':<44} | {run['preview']:8.2f} | {'< 10':>8} |")
    print(f"| {'merge every group':<44} | {run['merge']:8.2f} | {'< 120':>8} |")
    print(f"| {'preview again (finds 0 groups)':<44} | {run['second']:8.2f} | {'':>8} |")
    print()
    print(
        f"Merged {result.groups:,} groups: {result.contacts:,} contacts removed, {result.tickets:,} tickets and "
        f"{result.messages:,} messages moved; {len(run['again'])} groups left."
    )


if __name__ == "__main__":
    main()
