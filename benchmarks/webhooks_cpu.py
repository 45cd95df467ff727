#!/usr/bin/env python
"""What one webhook message costs in CPU, by kind of message, in one process.

webhooks_sync.py measures the rate through gunicorn, which moves with
whatever else the machine is doing. This script posts the same Evolution
API events through Django's test client (the whole middleware stack and
the view, no HTTP server) and counts the CPU they took: this process's
(Python) and its PostgreSQL backend's (from /proc), per message, for each
kind of message separately:

- known: a contact with a ticket going on, addressed by number;
- known by LID: the same, addressed by LID with the number beside it
  (Evolution API 2.3.6), the LID known already;
- first message: a known contact without an active ticket (opens one);
- new sender: a number nobody has (a contact, its history and a ticket);
- new sender by LID: the same with a LID beside the number;
- LID only: a LID with no number (a contact with no number);
- repeated: a delivery of a message stored already;
- the mix webhooks_sync.py posts (60% known, 30% new, 10% repeated).

Beside them, in the same run, GET / (a redirect that reads no table)
through the same client: a request's floor. Statements per message are
counted on a separate pass; `--statements` prints each one's share of
the time, `--profile KIND` cProfile's top functions for one kind.

    .venv/bin/python benchmarks/webhooks_cpu.py \\
        --database-url postgres://postgres@127.0.0.1:5432/contacts_bench_cpu

The database is dropped and created again at the start.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import webhooks_sync  # noqa: E402  (the same desk, bodies and settings)

TICKS = os.sysconf("SC_CLK_TCK")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/contacts_bench_cpu")
    parser.add_argument("--messages", type=int, default=1000, help="messages of each kind per round (default 1,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is shown (default 3)")
    parser.add_argument("--known", type=int, default=20_000, help="known contacts (default 20,000)")
    parser.add_argument("--statements", action="store_true", help="time each statement, by its first words")
    parser.add_argument("--profile", metavar="KIND", help="cProfile one kind (see KINDS) and print its top functions")
    return parser.parse_args()


def backend_cpu(pid: int) -> float:
    """Seconds of CPU the PostgreSQL backend `pid` has used (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Bodies:
    """Events of each kind, never repeating a person or message id unless
    the kind is a repetition."""

    def __init__(self, known: int):
        self.known = known
        self.n = 0
        self.sent = []
        self.rng = random.Random(8)
        self.fresh = known // 2  # the next known contact without a ticket

    def _event(self, **key) -> bytes:
        from tickets.tests import payloads

        self.n += 1
        event = payloads.upsert(
            webhooks_sync.SECRET, message_id=f"3EB1{self.n:016X}", text=f"Mensagem {self.n} 😀", push_name="Cliente", **key
        )
        body = json.dumps(event).encode()
        self.sent.append(body)
        return body

    def known_person(self, person: int, *, lid: bool) -> bytes:
        phone = f"55119{person:08d}"
        if lid:
            return self._event(remote_jid=f"9{person:014d}@lid", remoteJidAlt=f"{phone}@s.whatsapp.net", addressingMode="lid")
        return self._event(remote_jid=f"{phone}@s.whatsapp.net")

    def new_person(self, *, lid: bool, phone: bool = True) -> bytes:
        self.n += 1
        number, lid_digits = f"55219{self.n:08d}", f"8{self.n:014d}"
        if not phone:
            return self._event(remote_jid=f"{lid_digits}@lid", addressingMode="lid")
        if lid:
            return self._event(remote_jid=f"{lid_digits}@lid", remoteJidAlt=f"{number}@s.whatsapp.net", addressingMode="lid")
        return self._event(remote_jid=f"{number}@s.whatsapp.net")


def kinds(bodies: Bodies, count: int) -> dict[str, list[bytes]]:
    """`count` events of each kind for one round. Known people: the first
    half of the known contacts have a ticket going on (warmed up once),
    each round's "first message" people are new to tickets."""
    half = bodies.known // 2
    talking = range(1, half)
    fresh = range(bodies.fresh, bodies.fresh + count)
    bodies.fresh += count
    rng = bodies.rng
    made = {
        "known": [bodies.known_person(rng.choice(talking), lid=False) for _ in range(count)],
        "known by LID": [bodies.known_person(rng.choice(talking), lid=True) for _ in range(count)],
        "first message": [bodies.known_person(person, lid=False) for person in fresh],
        "new sender": [bodies.new_person(lid=False) for _ in range(count)],
        "new sender by LID": [bodies.new_person(lid=True) for _ in range(count)],
        "LID only": [bodies.new_person(lid=False, phone=False) for _ in range(count)],
    }
    made["repeated"] = rng.sample(made["known"] + made["new sender"], count)
    mix = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.1:
            mix.append(rng.choice(bodies.sent[:-count]))
        elif draw < 0.4:
            mix.append(bodies.new_person(lid=rng.random() < 0.5))
        else:
            mix.append(bodies.known_person(rng.choice(talking), lid=rng.random() < 0.5))
    made["mix (60/30/10)"] = mix
    return made


KINDS = ["known", "known by LID", "first message", "new sender", "new sender by LID", "LID only", "repeated", "mix (60/30/10)"]


def post_all(client, path: str, bodies: list[bytes]) -> None:
    for body in bodies:
        response = client.post(path, body, content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"the webhook answered {response.status_code}: {response.content[:200]!r}")


def get_all(client, count: int) -> None:
    for _ in range(count):
        client.get("/")


def cpu_of(work, pid: int) -> tuple[float, float, float]:
    """(Python CPU, backend CPU, wall) seconds `work()` took."""
    python, backend, wall = time.process_time(), backend_cpu(pid), time.perf_counter()
    work()
    return time.process_time() - python, backend_cpu(pid) - backend, time.perf_counter() - wall


def statement_counts(client, path: str, bodies_by_kind: dict[str, list[bytes]]) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for kind, bodies in bodies_by_kind.items():
        connection.queries_log.clear()  # it keeps the last 9,000
        with CaptureQueriesContext(connection) as queries:
            post_all(client, path, bodies)
        counts[kind] = len(queries) / len(bodies)
    return counts


def statement_times(client, path: str, bodies_by_kind: dict[str, list[bytes]]) -> None:
    """Each statement's share of the wall time, by kind, grouped by its
    first words."""
    from django.db import connection

    for kind, bodies in bodies_by_kind.items():
        spent = defaultdict(lambda: [0, 0.0])

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                entry = spent[_shape(sql)]
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            post_all(client, path, bodies)
        wall = time.perf_counter() - started
        in_db = sum(seconds for _n, seconds in spent.values())
        print(f"\n{kind}: {wall / len(bodies) * 1000:.2f} ms a message, {in_db / len(bodies) * 1000:.2f} ms in statements")
        for shape, (n, seconds) in sorted(spent.items(), key=lambda item: -item[1][1]):
            print(f"  {n / len(bodies):5.2f} × {seconds / n * 1e6:6.0f} µs  {shape}")


def _shape(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql)
    return sql[:110]


def main():
    args = parse_args()
    os.environ.update(webhooks_sync.environment(args))
    print("Preparing the benchmark database (emptied, migrated) …", flush=True)
    webhooks_sync.setup(args)
    from django.db import connection
    from django.test import Client

    channel = webhooks_sync.prepare_desk(args.known)
    path = f"/tickets/webhook/{channel.pk}/"
    client = Client(HTTP_HOST="127.0.0.1")
    bodies = Bodies(args.known)
    # Warm up: the first half of the known contacts get a ticket (and their
    # LID), the process its caches.
    half = args.known // 2
    post_all(client, path, [bodies.known_person(person, lid=True) for person in range(1, half)])
    get_all(client, 500)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    if args.profile:
        profile(client, path, kinds(bodies, args.messages)[args.profile])
        return
    if args.statements:
        statement_times(client, path, kinds(bodies, min(args.messages, 300)))
        return

    results = defaultdict(list)
    for round_ in range(args.rounds):
        made = kinds(bodies, args.messages)
        for kind in KINDS:
            python, backend, wall = cpu_of(lambda kind=kind: post_all(client, path, made[kind]), pid)
            results[kind].append((python / args.messages, backend / args.messages, wall / args.messages))
        python, backend, wall = cpu_of(lambda: get_all(client, args.messages), pid)
        results["reference: GET /"].append((python / args.messages, backend / args.messages, wall / args.messages))
    counts = statement_counts(client, path, kinds(bodies, 200))

    print()
    print(f"PostgreSQL · test client in one process · {args.messages:,} messages of each kind × {args.rounds} rounds "
          f"(medians) · {args.known:,} known contacts")
    line = "| {:<22} | {:>10} | {:>11} | {:>9} | {:>10} | {:>10} |"
    print(line.format("kind", "Python ms", "backend ms", "CPU ms", "wall ms", "statements"))
    print(f"|{'-' * 24}|{'-' * 12}|{'-' * 13}|{'-' * 11}|{'-' * 12}|{'-' * 12}|")
    for kind in ["reference: GET /", *KINDS]:
        python, backend, wall = (statistics.median(values) * 1000 for values in zip(*results[kind]))
        statements = f"{counts[kind]:.2f}" if kind in counts else "0"
        print(line.format(kind, f"{python:.2f}", f"{backend:.2f}", f"{python + backend:.2f}", f"{wall:.2f}", statements))


def profile(client, path: str, bodies: list[bytes]) -> None:
    profiler = cProfile.Profile(time.process_time)  # CPU, not waits
    profiler.enable()
    post_all(client, path, bodies)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(60)
    out.write("\n---- by own time ----\n")
    stats.sort_stats("tottime").print_stats(40)
    print(out.getvalue())


if __name__ == "__main__":
    main()
