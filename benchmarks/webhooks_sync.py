#!/usr/bin/env python
"""Webhook ingestion and "Sincronizar" at scale, on PostgreSQL.

1. Serves the project with gunicorn on loopback and posts Evolution API
   messages.upsert events to a WhatsApp channel's webhook for a fixed time
   from several keep-alive connections: messages from known contacts (who
   have tickets), from unknown senders, and repeated deliveries; with
   --media 20, a fifth of them photos, voice notes and documents (recorded
   and their fetch queued, as the webhook does; no worker fetches them).
   Prints messages/s and latency; target 500+/s on a 2-core machine.
2. Stores 100,000 messages from unknown senders and runs the sync job
   ("Sincronizar") on them, as the task worker would. Target: under 60 s.

A trivial request through the same server and client (GET / , a redirect
that touches no table) is measured in the same run as a reference, so that
figures from different machines can be compared.

    createdb -h 127.0.0.1 -U postgres contacts_bench_tickets   # or let --fresh create it
    nice -n 10 .venv/bin/python benchmarks/webhooks_sync.py \\
        --database-url postgres://postgres@127.0.0.1:5432/contacts_bench_tickets

The database is emptied and migrated at the start of every run.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "benchmark-webhook-secret"
LOG = Path(tempfile.gettempdir()) / "contacts-portal-webhooks-bench-gunicorn.log"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/contacts_bench_tickets")
    parser.add_argument("--seconds", type=float, default=20, help="how long to post webhooks (default 20)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2, one per core)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--senders", type=int, default=100_000, help="unknown senders for the sync (default 100,000)")
    parser.add_argument("--known", type=int, default=2_000, help="known contacts posting (default 2,000)")
    parser.add_argument("--only", choices=["webhooks", "sync"], help="run one of the two parts")
    parser.add_argument(
        "--media", type=float, default=0, metavar="PERCENT",
        help="the share of new messages that carry a photo, voice note or document, in percent (default 0); "
        "their fetch is queued for the media worker, which does not run here",
    )
    return parser.parse_args()


def environment(args) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "benchmark-only-" + "x" * 50,
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "contacts_portal.settings",
        "LOG_LEVEL": "ERROR",
    }


def setup(args):
    os.environ.update(environment(args))
    import django
    import psycopg

    url = args.database_url
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def prepare_desk(known: int):
    """A WhatsApp channel, an agent's wallet and `known` contacts."""
    from django.contrib.auth import get_user_model

    from contacts.models import Contact, Wallet
    from tickets.models import Channel

    agent = get_user_model().objects.create_user("agente", password=secrets.token_urlsafe())
    wallet = Wallet.objects.create(name="Carteira", user=agent)
    contacts = []
    for n in range(known):
        contact = Contact(name=f"Cliente {n}", number=f"55119{n:08d}", wallet=wallet if n % 2 else None)
        contact.refresh_search_fields()
        contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=1000)
    return Channel.objects.create(kind="whatsapp", name="WhatsApp", webhook_secret=SECRET)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(args, port: int) -> subprocess.Popen:
    log = open(LOG, "w")  # noqa: SIM115 (closed with the process)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "contacts_portal.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers),
            "--worker-class", "gthread",
            "--threads", str(args.threads),
            "--keep-alive", "30",
            "--log-level", "warning",
        ],
        cwd=ROOT,
        env=environment(args),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"gunicorn did not start within 30 s; see {LOG}")


def stop(server: subprocess.Popen):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


# What WhatsApp sends for a file: its address on the CDN, keys, a preview
# (a few kilobytes of base64 for photos) and what it declares.
_THUMBNAIL = "/9j/4AAQSkZJRgABAQAAAQABAAD/" + "A" * 2400


def media_message(n: int, rng) -> tuple[dict, str]:
    common = {
        "url": f"https://mmg.whatsapp.net/v/t62.7118-24/{n}.enc?ccb=11-4",
        "mediaKey": "q1p6yGxu3Fd0gkY2l0v8S2J5y0YpQm3wFh0Zr1s2t3U=",
        "fileSha256": "n1t8cW0y3T2hXk5B7J3u5Q2v9r1d7Yc0a6b4e2f8g1h=",
        "fileEncSha256": "Zk2m4o6q8s0u2w4y6A8C0E2G4I6K8M0O2Q4S6U8W0Y2=",
        "directPath": f"/v/t62.7118-24/{n}.enc?ccb=11-4&oh=01_Q5AaI",
        "mediaKeyTimestamp": "1764079510",
    }
    kind = rng.random()
    if kind < 0.5:
        content = {**common, "mimetype": "image/jpeg", "caption": f"Comprovante {n}", "fileLength": "84512", "height": 1280, "width": 960, "jpegThumbnail": _THUMBNAIL}
        return {"imageMessage": content}, "imageMessage"
    if kind < 0.85:
        content = {**common, "mimetype": "audio/ogg; codecs=opus", "fileLength": "23145", "seconds": 14, "ptt": True, "waveform": "AAYHCAoMDhASFBYYGhweICIkJigqLC4wMjQ2ODo8Pj8="}
        return {"audioMessage": content}, "audioMessage"
    content = {**common, "mimetype": "application/pdf", "fileName": f"boleto-{n}.pdf", "fileLength": "152033", "pageCount": 1, "jpegThumbnail": _THUMBNAIL}
    return {"documentMessage": content}, "documentMessage"


def webhook_bodies(channel_id: int, known: int, count: int, rng, media: float = 0) -> list[bytes]:
    """Evolution API events in the mix a desk sees: 60% from contacts with
    a conversation going on, 30% from new senders (their first message),
    10% repeated deliveries. Half the people are addressed as the 2.3.6
    and 2.4.0 releases do, with a LID beside the number. `media` (0 to 1)
    of the new messages carry a file: half photos, a third voice notes,
    the rest documents."""
    from tickets.tests import payloads

    bodies, sent = [], []
    for n in range(count):
        draw = rng.random()
        if draw < 0.1 and sent:
            bodies.append(rng.choice(sent))  # a retry by the gateway
            continue
        if draw < 0.4:
            phone, lid = f"55219{rng.randrange(10**8):08d}", f"8{n:014d}"  # somebody new
        else:
            person = rng.randrange(1, known)  # the first known number is the channel's own
            phone, lid = f"55119{person:08d}", f"9{person:014d}"
        if rng.random() < 0.5:
            key = {"remote_jid": f"{phone}@s.whatsapp.net"}
        else:
            key = {"remote_jid": f"{lid}@lid", "remoteJidAlt": f"{phone}@s.whatsapp.net", "addressingMode": "lid"}
        if rng.random() < media:
            message, message_type = media_message(n, rng)
            key.update(message=message, message_type=message_type)
        event = payloads.upsert(SECRET, message_id=f"3EB0{n:016X}", text=f"Mensagem {n} 😀", push_name="Cliente", **key)
        body = json.dumps(event).encode()
        bodies.append(body)
        sent.append(body)
    return bodies


def post_for(port: int, path: str, bodies, seconds: float, connections: int, method: str = "POST"):
    """Send requests from `connections` keep-alive connections for `seconds`;
    (requests done, elapsed seconds, latencies in ms, statuses)."""
    latencies, statuses, lock = [], {}, threading.Lock()
    stop_at = time.perf_counter() + seconds
    cursor = iter(range(10**9))

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, seen = [], {}
        while time.perf_counter() < stop_at:
            body = bodies[next(cursor) % len(bodies)] if bodies else None
            started = time.perf_counter()
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            seen[response.status] = seen.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), time.perf_counter() - started, sorted(latencies), statuses


def p95(latencies):
    return latencies[max(0, int(len(latencies) * 0.95) - 1)]


def store_unknown_senders(channel, senders: int):
    """`senders` people nobody has added as contacts, one or two messages
    each, as the webhook stores them; names with quotes and emoji among them."""
    from django.utils import timezone

    from tickets.models import Message

    first = ["Ana", "João", "Maria", "José", "D'Ávila", "Zé 🚚", "Léa \"Lu\"", "Íris"]
    last = ["Silva", "Souza", "Oliveira", "O'Neil", "Santos 🌻", "Pereira"]
    now = timezone.now()
    batch = []
    for n in range(senders):
        identity = f"55319{n:08d}"
        for copy in range(1 + (n % 5 == 0)):
            batch.append(
                Message(
                    channel=channel,
                    external_id=f"SYNC{n:010d}-{copy}",
                    chat_id=f"{identity}@s.whatsapp.net",
                    chat_identity=identity,
                    sender_id=identity,
                    sender_name=f"{first[n % len(first)]} {last[n % len(last)]}",
                    body="Olá, quero saber do meu pedido",
                    sent_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
        if len(batch) >= 5000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)


def main():
    args = parse_args()
    started_run = time.monotonic()
    print("Preparing the benchmark database (emptied, migrated) …", flush=True)
    setup(args)


    channel = prepare_desk(args.known)
    webhooks = sync = None
    if args.only != "sync":
        webhooks = measure_webhooks(args, channel)
    if args.only != "webhooks":
        sync = measure_sync(args, channel)
    report(args, webhooks, sync)
    print(f"whole run: {time.monotonic() - started_run:.0f} s")


def measure_webhooks(args, channel) -> dict:
    from django_tasks_db.models import DBTaskResult

    from contacts.models import Contact
    from tickets.models import Message, MessageMedia, Ticket

    rng = random.Random(8)
    bodies = webhook_bodies(channel.pk, args.known, 60_000, rng, media=args.media / 100)
    port = free_port()
    server = start_gunicorn(args, port)
    try:
        webhook = f"/tickets/webhook/{channel.pk}/"
        post_for(port, webhook, bodies[-2000:], 2, args.connections)  # warm-up: workers, connections
        ref_count, ref_elapsed, ref_lat, _ = post_for(port, "/", [], 5, args.connections, method="GET")
        count, elapsed, latencies, statuses = post_for(port, webhook, bodies, args.seconds, args.connections)
    finally:
        stop(server)
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses from the webhook: {statuses}")
    return {
        "ref_median": statistics.median(ref_lat),
        "ref_rate": ref_count / ref_elapsed,
        "count": count,
        "elapsed": elapsed,
        "rate": count / elapsed,
        "median": statistics.median(latencies),
        "p95": p95(latencies),
        "stored": Message.objects.count(),
        "tickets": Ticket.objects.count(),
        "unlinked": Message.objects.filter(ticket__isnull=True).count(),
        "contacts": Contact.objects.count() - args.known,
        "media": MessageMedia.objects.count(),
        "queued": DBTaskResult.objects.filter(queue_name="media").count(),
    }


def measure_sync(args, channel) -> dict:
    from django.db import connection

    from jobs.models import Job
    from jobs.tasks import run_job
    from tickets.models import Message, Ticket

    print(f"Storing {args.senders:,} unknown senders' messages …", flush=True)
    Message.objects.all().delete()
    Ticket.objects.all().delete()
    store_unknown_senders(channel, args.senders)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_message")
    job = Job.objects.create(kind=Job.Kind.SYNC)
    started = time.perf_counter()
    run_job.call(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != Job.Status.DONE:
        raise SystemExit(f"the sync job ended {job.status}: {job.error}")
    counts = {key: value for key, value in job.result.items() if key != "notes"}
    if counts["contacts_created"] != args.senders:
        raise SystemExit(f"the sync created {counts['contacts_created']:,} contacts, not {args.senders:,}")
    return {"seconds": seconds, "counts": counts}


def report(args, webhooks, sync):
    print()
    print(f"PostgreSQL · gunicorn {args.workers} workers × {args.threads} threads (gthread) on loopback · "
          f"{args.connections} keep-alive connections · {os.cpu_count()} CPUs")
    line = "| {:<48} | {:>12} | {:>9} |"
    rows = []
    if webhooks:
        w = webhooks
        print(f"webhook run: {w['count']:,} deliveries in {w['elapsed']:.1f} s ({w['stored']:,} messages stored, "
              f"{w['tickets']:,} tickets, {w['contacts']:,} new contacts, {w['unlinked']:,} messages outside a ticket; "
              "the rest were repeated deliveries)")
        if args.media:
            print(f"media: {args.media:g}% of new messages carry a file; {w['media']:,} recorded, "
                  f"{w['queued']:,} fetch tasks queued for the media worker (not run here)")
        rows += [
            ("reference: GET / (a redirect), median", f"{w['ref_median']:.2f} ms", ""),
            ("reference: GET /, requests/s", f"{w['ref_rate']:,.0f}", ""),
            (f"webhook: messages/s{f' ({args.media:g}% media)' if args.media else ''}", f"{w['rate']:,.0f}", "≥ 500"),
            ("webhook: median", f"{w['median']:.2f} ms", ""),
            ("webhook: p95", f"{w['p95']:.2f} ms", ""),
            ("webhook: median / reference median", f"{w['median'] / w['ref_median']:.1f}x", ""),
        ]
    if sync:
        rows.append((f"sync of {args.senders:,} unknown senders (job)", f"{sync['seconds']:.1f} s", "< 60 s"))
    print()
    print(line.format("measure", "result", "target"))
    print(f"|{'-' * 50}|{'-' * 14}|{'-' * 11}|")
    for row in rows:
        print(line.format(*row))
    print()
    if sync:
        print(f"sync counts: {sync['counts']}")
    missed = []
    if webhooks and webhooks["rate"] < 500:
        missed.append("webhook rate")
    if sync and sync["seconds"] >= 60:
        missed.append("sync time")
    if missed:
        print("targets missed: " + ", ".join(missed))


if __name__ == "__main__":
    main()
