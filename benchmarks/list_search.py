#!/usr/bin/env python
"""Server time of the contacts list page at scale.

Fills a benchmark database with demo contacts (once; later runs reuse it),
then requests the list page through Django's test client, as an
administrator, 50+ times per scenario, and prints median and p95 in ms.

    .venv/bin/python benchmarks/list_search.py                      # SQLite, 100,000 contacts
    .venv/bin/python benchmarks/list_search.py \\
        --database-url postgres://postgres@127.0.0.1:5432/contacts_bench --contacts 1000000

The time is the whole request inside Django: middleware, queries and
template rendering; the network is not involved.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'benchmarks' / 'bench.sqlite3'}")
    parser.add_argument("--contacts", type=int, default=None, help="default: 100,000 on SQLite, 1,000,000 on PostgreSQL")
    parser.add_argument("--requests", type=int, default=60, help="requests per scenario (default 60)")
    return parser.parse_args()


def setup(args):
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 50)
    os.environ["DEBUG"] = "0"
    os.environ["HTTPS"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "contacts_portal.settings"
    import django

    django.setup()


def fill(target):
    from django.core.management import call_command

    from contacts.models import Contact

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production static storage
    have = Contact.objects.count()
    if have < target:
        print(f"Filling the benchmark database: {have:,} -> {target:,} contacts …", flush=True)
        started = time.perf_counter()
        call_command("seed_demo", contacts=target - have, with_users=True, seed=have)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does on a live database: statistics and the
            # visibility map that index-only scans rely on.
            cursor.execute("VACUUM ANALYZE contacts_contact")
    return Contact.objects.count()


def scenarios(rng):
    from contacts.demo import EXTRA_FIELDS
    from contacts.models import Contact, Tag, Wallet
    from contacts.normalizers import fold

    wallets = list(Wallet.objects.values_list("pk", flat=True))
    tags = list(Tag.objects.values_list("pk", flat=True))
    sample = _sample_contacts(rng)
    names = [fold(name) for name, *_ in sample]
    documents = [document for *_, document in sample if document]
    first_names = sorted({n.split()[0] for n in names})
    telegram_ids = [telegram_id for _, _, _, telegram_id, _ in sample if telegram_id]
    # The groups' negative ids too, some typed with a leading zero.
    groups = Contact.objects.filter(is_group=True).exclude(telegram_id="")
    telegram_ids += list(groups.values_list("telegram_id", flat=True))
    telegram_ids += [f"0{telegram_id}" for telegram_id in telegram_ids[:10] if not telegram_id.startswith("-")]
    extras = _sample_extra_fields(rng)
    common_values = sorted({fold(value) for _, values in EXTRA_FIELDS if values for value in values})
    return {
        "unfiltered": [{}],
        "unfiltered, page 40": [{"page": 40}],
        "by wallet": [{"wallet": pk} for pk in wallets] + [{"wallet": "none"}],
        "by tag": [{"tag": pk} for pk in tags],
        "by wallet + tag": [{"wallet": w, "tag": t} for w in wallets for t in tags],
        "birthday: today": [{"birthday": "today"}],
        "birthday: next 30 days": [{"birthday": "month"}],
        "birthday: next 7 days + wallet": [{"birthday": "week", "wallet": pk} for pk in wallets],
        "name: first name": [{"q": first} for first in first_names],
        "name: common surname": [{"q": s} for s in ("silva", "santos", "oliveira", "souza")],
        "name: first + last": [{"q": f"{n.split()[0]} {n.split()[-1]}"} for n in names],
        "name: fragment (4-6 chars)": [{"q": n.split()[-1][1 : 1 + rng.randrange(4, 7)]} for n in names],
        "phone fragment (5 digits)": [{"q": number[-8:-3]} for _, number, *_ in sample],
        "phone, full, old format": [{"q": f"+55 {n[2:4]} {n[-8:-4]}-{n[-4:]}"} for _, n, *_ in sample if n[4] == "9"],
        "e-mail": [{"q": email.split("@")[0][:12] + "@"} for _, _, email, *_ in sample if email],
        "CPF/CNPJ: whole": [{"q": document} for document in documents],
        "CPF/CNPJ: start": [{"q": document[:6]} for document in documents],
        "Telegram id": [{"q": telegram_id} for telegram_id in telegram_ids],
        "extra field: common value": [{"q": value} for value in common_values],
        "extra field: order number": [{"q": value} for _, value in extras if value.startswith("PED-")],
        "name + extra field": [
            {"q": f"{first_name} {value}"} for first_name, value in extras if first_name and not value.startswith("PED-")
        ],
    }


def _sample_contacts(rng):
    from contacts.models import Contact

    top = Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pks = [rng.randrange(1, top + 1) for _ in range(400)]
    return list(Contact.objects.filter(pk__in=pks, is_group=False).values_list("name", "number", "email", "telegram_id", "cpf_cnpj"))


def _sample_extra_fields(rng):
    """(contact's first name, value) of random extra fields."""
    from contacts.models import CustomField

    top = CustomField.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pks = [rng.randrange(1, top + 1) for _ in range(400)]
    return list(CustomField.objects.filter(pk__in=pks).values_list("contact__first_name", "value"))


def measure(client, params_list, count, rng):
    from django.urls import reverse

    url = reverse("contacts:list")
    timings = []
    client.get(url, params_list[0])  # warm-up
    for i in range(count):
        params = params_list[i % len(params_list)] if len(params_list) <= count else rng.choice(params_list)
        started = time.perf_counter()
        response = client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (params, response.status_code)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def reference(count):
    """Timings of a trivial page (the log-in form, anonymous), measured in
    the same run: figures divided by their median compare across machines.
    Taken before and after the scenarios (the caller joins both), so that a
    slow start or a busy moment weighs on it less."""
    from django.test import Client
    from django.urls import reverse

    client, url, timings = Client(), reverse("login"), []
    for _ in range(20):  # warm: the first requests of a process are slower
        client.get(url)
    for _ in range(count):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_saves(client, count, rng):
    """The edit form posted for existing contacts, each save changing the
    company: history, extra fields and tags included, as in the panel."""
    from django.urls import reverse

    from contacts.models import Contact

    top = Contact.objects.order_by("-pk").values_list("pk", flat=True).first()
    timings = []
    for i in range(count + 1):
        contact = Contact.objects.filter(pk__gte=rng.randrange(1, top + 1), is_group=False).order_by("pk").first()
        fields = list(contact.custom_fields.all())
        data = {
            "name": contact.name,
            "number": contact.number,
            "email": contact.email,
            "cpf_cnpj": contact.cpf_cnpj,
            "birth_date": contact.birth_date.strftime("%d/%m/%Y") if contact.birth_date else "",
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "company": f"Empresa {i}",
            "wallet": contact.wallet_id or "",
            "telegram_id": contact.telegram_id,
            "tags": [tag.pk for tag in contact.tags.all()],
            "version": contact.updated_at.isoformat(),
            "custom_fields-TOTAL_FORMS": str(len(fields)),
            "custom_fields-INITIAL_FORMS": str(len(fields)),
            "custom_fields-MIN_NUM_FORMS": "0",
            "custom_fields-MAX_NUM_FORMS": "50",
        }
        for n, field in enumerate(fields):
            data.update({f"custom_fields-{n}-id": field.pk, f"custom_fields-{n}-name": field.name, f"custom_fields-{n}-value": field.value})
        url = reverse("contacts:update", args=[contact.pk])
        started = time.perf_counter()
        response = client.post(url, data, headers={"HX-Request": "true"})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 204, (contact.pk, response.status_code, response.content[:500])
        if i:  # the first is the warm-up
            timings.append(elapsed)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def row(name, median, p95, ref, limit):
    flag = "" if p95 < limit else f"  <- over {limit} ms"
    print(f"| {name:<36} | {median:>9.1f} | {p95:>7.1f} | {p95 / ref:>8.1f}x |{flag}", flush=True)


def main():
    args = parse_args()
    setup(args)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    target = args.contacts or (1_000_000 if args.database_url.startswith("postgres") else 100_000)
    total = fill(target)
    rng = random.Random(7)
    users = get_user_model().objects
    admin, agent = Client(), Client()
    admin.force_login(users.get(username="admin"))
    agent.force_login(users.get(username="ana"))  # her wallet + contacts without one
    first = reference(args.requests * 10)
    print(f"\n{connection.vendor} · {total:,} contacts · {args.requests} requests per scenario", flush=True)
    rows = []
    plan = scenarios(rng)
    runs = [(f"admin: {name}", admin, params) for name, params in plan.items()]
    runs += [
        (f"agent: {name}", agent, plan[name])
        for name in ("unfiltered", "name: first name", "phone fragment (5 digits)", "extra field: common value", "birthday: next 30 days")
    ]
    for name, client, params_list in runs:
        if not params_list:  # a database seeded before these values existed
            rows.append((name, None, None))
            continue
        rows.append((name, *measure(client, params_list, args.requests, rng)))
    # A save writes history rows; target: median under 50 ms.
    rows.append(("admin: contact save (edit form POST)", *measure_saves(admin, args.requests, rng)))
    ref = statistics.median(first + reference(args.requests * 10))
    print(f"reference: the log-in page, median {ref:.2f} ms, before and after the scenarios (p95/ref compares machines)\n")
    print(f"| {'scenario':<36} | {'median ms':>9} | {'p95 ms':>7} | {'p95/ref':>9} |")
    print(f"|{'-' * 38}|{'-' * 11}|{'-' * 9}|{'-' * 11}|")
    for name, median, p95 in rows:
        if median is None:  # a database seeded before these values existed
            print(f"| {name:<36} | {'n/a':>9} | {'n/a':>7} | {'':>9} |  <- no such values in this database")
        else:
            row(name, median, p95, ref, 100)
    if rows[-1][1] >= 50:
        print("  <- save median over 50 ms")


if __name__ == "__main__":
    main()
