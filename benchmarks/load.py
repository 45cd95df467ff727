#!/usr/bin/env python
"""A desk at work, served as production serves it, measured with Locust.

    createdb -h 127.0.0.1 -U postgres contacts_bench_load   # or let it create it
    .venv/bin/python benchmarks/load.py                     # 1,000,000 contacts, 5 minutes
    .venv/bin/python benchmarks/load.py --ci --drop          # CI: 20,000 contacts, 1 minute

Seeding the million takes a quarter of an hour; seed it once, and start
each run from a copy of it (a few seconds), so that every run imports into
the same database:

    createdb -h 127.0.0.1 -U postgres contacts_bench_seed
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/contacts_bench_seed
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo --contacts 1000000 --with-users
    psql "$DATABASE_URL" -c "VACUUM ANALYZE"; unset DATABASE_URL
    .venv/bin/python benchmarks/load.py --template contacts_bench_seed

What runs, all on loopback:
- PostgreSQL with --contacts demo contacts (seed_demo), a WhatsApp channel
  whose gateway is a stand-in served by this script;
- two instances (gunicorn.conf.py, production settings but plain HTTP,
  static files by WhiteNoise after collectstatic), one storage folder, two
  task workers (`manage.py db_worker`) and two for the files customers
  send (`--queue-name media`): two machines' worth of processes. As
  README "Production" deploys them (--deployment split), each instance is
  a pages' pool and a webhooks' pool (at nice 10) of one worker process ×
  4 threads each (WEB_CONCURRENCY=1): together the 2 × 4 of each pool on
  one 2-core machine; the task workers (both kinds) run at nice 19, and
  the database backends of the webhooks and workers as niced as they are
  (DATABASE_NICE, when PostgreSQL has the prioritize extension); the
  webhooks and workers also run under the idle scheduling policy
  (--idle);
  --deployment one-pool: one gunicorn for everything, nothing niced;
- before the load: checks that the two instances act as one site (a log-in
  made through one works on the other, a photo saved through one downloads
  through the other, each of a batch of jobs sent through both runs once),
  then the same-run reference alone: the log-in page for an anonymous
  visitor, and an agent's list;
- the load, for --seconds: --agents agents (list, search by name, phone
  fragment and extra field, open a contact's popup and save it, open a
  ticket and reply through the gateway), webhooks at --rate messages a
  second (30% from new senders, 3% delivered twice), one --import-rows
  import (upload, columns, preview, confirm) and one export of the whole
  list; then it waits for the import and export to finish.

Prints p50/p95/p99 and errors per kind of request, messages posted and
stored, the jobs, the reference, and the list's p95 under load against
its p95 alone. Exits 1 when anything failed: an error, a message lost or
stored twice, a job unfinished or run twice, a cluster check (the list's
ratio is reported, not enforced: it depends on the machine's other load).
"""

# Locust's gevent patches the standard library; it must come first.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Last: benchmarks/dedup.py must not hide the dedup app.
sys.path.append(str(ROOT / "benchmarks"))

import load_users  # noqa: E402
from load_users import AgentUser, BackOfficeUser, Desk, ReferenceUser, WebhookUser  # noqa: E402

PASSWORD = "load-" + secrets.token_urlsafe(12)
SECRET = "load-webhook-secret"
EXTRA_VALUES = ("recife", "curitiba", "fortaleza", "manaus")
KINDS = (
    "list",
    "search: name",
    "search: phone",
    "search: extra field",
    "popup",
    "save",
    "ticket: open",
    "ticket: page",
    "ticket: reply",
    "webhook",
    "log-in page",
    "log in",
    "import: upload",
    "import: columns",
    "import: confirm",
    "export: start",
    "job page",
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/contacts_bench_load")
    parser.add_argument("--contacts", type=int, default=None, help="contacts in the database (default 1,000,000; --ci 20,000)")
    parser.add_argument("--seconds", type=float, default=None, help="how long the load runs (default 300; --ci 60)")
    parser.add_argument("--agents", type=int, default=None, help="simulated agents (default 50; --ci 10)")
    parser.add_argument("--rate", type=float, default=None, help="webhook messages a second (default 200; --ci 50)")
    parser.add_argument("--import-rows", type=int, default=None, help="rows of the import (default 100,000; --ci 5,000)")
    parser.add_argument("--alone-seconds", type=float, default=None, help="the reference alone (default 40; --ci 15)")
    parser.add_argument("--job-wait", type=float, default=None, help="at most this long for the import and export after the load (default 900 s; --ci 120)")
    parser.add_argument("--ci", action="store_true", help="CI's size: 20,000 contacts, 1 minute, 10 agents, 50 messages/s")
    parser.add_argument(
        "--deployment",
        choices=("split", "one-pool"),
        default="split",
        help="split (README \"Production\"): pages, webhooks (nice 10) and task workers (nice 19) in processes of their own; one-pool: one gunicorn for everything, nobody niced",
    )
    parser.add_argument(
        "--idle",
        choices=("none", "workers", "background"),
        default="background",
        help="which processes run under the kernel's idle scheduling policy (SCHED_IDLE; systemd's CPUSchedulingPolicy=idle) beside their nice value: none, the task workers, or the workers and the webhooks' pools (the default, as README \"Production\" runs them)",
    )
    parser.add_argument(
        "--no-database-nice",
        dest="database_nice",
        action="store_false",
        help="leave the webhooks' and workers' database backends at normal priority (by default they are niced as their processes when PostgreSQL has the prioritize extension)",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is when it already has the contacts")
    parser.add_argument("--template", metavar="DATABASE", help="start from a fresh copy of this database (seeded once, e.g. by a run with --reuse), so that every run imports into the same million")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    defaults = (20_000, 60, 10, 50, 5_000, 15, 120) if args.ci else (1_000_000, 300, 50, 200, 100_000, 40, 900)
    for name, value in zip(("contacts", "seconds", "agents", "rate", "import_rows", "alone_seconds", "job_wait"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(args, media_root: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "load-only-" + "x" * 50,
        "DEBUG": "0",
        "HTTPS": "0",  # plain HTTP on loopback; everything else as in production
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "contacts_portal.settings",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
    }


# Each process of one machine as README "Production" runs it: (name, command,
# niceness, its database connections' name). "split": the agents' pages, the
# webhooks and the task workers each in processes of their own, the webhooks
# at nice 10 and the workers at nice 19, so that what a person waits for wins
# the cores (nice 5 and 10 halved the webhooks' lead over the pages, and the
# list's p95 under load doubled: benchmarks/README.md); "one-pool": one gunicorn for everything, every process at 0.
def machine(deployment: str, port: int, webhook_port: int) -> list[tuple[str, list[str], int, dict]]:
    gunicorn = [str(ROOT / ".venv" / "bin" / "gunicorn"), "contacts_portal.wsgi:application"]
    worker = [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "db_worker", "--interval", "0.5"]
    # The files customers send have a queue of their own.
    media_worker = [*worker, "--queue-name", "media"]
    if deployment == "one-pool":
        return [("gunicorn", gunicorn, 0, {"GUNICORN_BIND": f"127.0.0.1:{port}"}), ("worker", worker, 0, {}), ("media-worker", media_worker, 0, {})]
    background = {"DATABASE_APPLICATION_NAME": "worker", "DATABASE_NICE": "19"}
    return [
        ("web", gunicorn, 0, {"GUNICORN_BIND": f"127.0.0.1:{port}", "DATABASE_APPLICATION_NAME": "web"}),
        ("webhooks", gunicorn, 10, {"GUNICORN_BIND": f"127.0.0.1:{webhook_port}", "DATABASE_APPLICATION_NAME": "webhooks", "DATABASE_NICE": "10"}),
        ("worker", worker, 19, dict(background)),
        ("media-worker", media_worker, 19, dict(background)),
    ]


# --idle: the processes of machine() that run under the idle policy.
IDLE = {"none": (), "workers": ("worker", "media-worker"), "background": ("webhooks", "worker", "media-worker")}


def lower_priority(niceness: int, *, idle: bool) -> None:
    """In the child, before it runs: its nice value and, with `idle`, the
    idle scheduling policy. A nice value weighs a process's share of a busy
    core, but a page woken while a niced worker runs still waits for the
    worker's time slice; a task of the idle policy gives the core up as soon
    as any other task wants it (benchmarks/README.md)."""
    if niceness:
        os.nice(niceness)
    if idle:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


# -- The database ---------------------------------------------------------


def prepare_database(args, media_root: Path):
    """Migrated, seeded with --contacts, statistics fresh; the load's users,
    channel and samples added. Returns (Desk, import file path)."""
    import psycopg

    url = args.database_url
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and (args.template or not args.reuse):
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if args.template:
            started = time.perf_counter()
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{args.template}"')
            print(f"Copied {args.template} in {time.perf_counter() - started:.0f} s", flush=True)
        elif not exists or not args.reuse:
            admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(environment(args, media_root))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from contacts.models import Contact

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        # What README "Production" asks of the database for DATABASE_NICE.
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'prioritize'")
        args.prioritize = cursor.fetchone() is not None and args.database_nice
        if args.prioritize:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS prioritize")
    have = Contact.objects.count()
    if have < args.contacts:
        print(f"Seeding {args.contacts - have:,} contacts …", flush=True)
        started = time.perf_counter()
        call_command("seed_demo", contacts=args.contacts - have, with_users=True, seed=have, stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    desk = make_desk(args)
    connection.close()
    return desk


def make_desk(args) -> Desk:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from contacts.models import Contact
    from tickets.models import Channel

    User = get_user_model()
    agents = []
    for n in range(1, args.agents + 1):
        user, _ = User.objects.get_or_create(username=f"agente{n:02d}")
        user.set_password(PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name="Agents")])
        agents.append((user.username, PASSWORD))
    administrator, _ = User.objects.get_or_create(username="supervisora")
    administrator.set_password(PASSWORD)
    administrator.save()
    administrator.groups.set([Group.objects.get(name="Administrators")])
    gateway_port = free_port()
    channel, _ = Channel.objects.update_or_create(
        name="WhatsApp (carga)",
        defaults={
            "kind": "whatsapp",
            "webhook_secret": SECRET,
            "gateway_url": f"http://127.0.0.1:{gateway_port}",
            "instance": "atendimento",
            "api_key": "load-key",
        },
    )
    # Contacts every agent may see (no wallet), people with a number.
    visible = Contact.objects.filter(wallet__isnull=True, is_group=False).exclude(number="")
    rng = random.Random(7)
    top = visible.order_by("-pk").values_list("pk", flat=True).first() or 0
    picks = [rng.randrange(1, top + 1) for _ in range(4000)]
    sample = list(visible.filter(pk__in=picks).values_list("pk", "name", "number")[:1500])
    known = list(Contact.objects.filter(is_group=False).exclude(number="").filter(pk__in=picks).values_list("number", flat=True))
    desk = Desk(
        hosts=[],
        agents=agents,
        administrator=(administrator.username, PASSWORD),
        contact_ids=[pk for pk, _, _ in sample],
        names=sorted({name.split()[0].lower() for _, name, _ in sample} | {name.split()[-1].lower() for _, name, _ in sample}),
        phones=[number for _, _, number in sample],
        extra_values=list(EXTRA_VALUES),
        channel_id=channel.pk,
        webhook_secret=SECRET,
        known_numbers=known,
        run_tag=f"{random.randrange(16**4):04X}",
    )
    desk.gateway_port = gateway_port
    return desk


def make_import_file(rows: int, path: Path) -> None:
    """New people, as a desk's spreadsheet has them (the columns the
    import guesses by their names)."""
    import xlsxwriter

    from contacts.demo import FIRST_NAMES, LAST_NAMES

    rng = random.Random(rows)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Nome", "Telefone", "E-mail", "Etiquetas", "Cidade"])
    for row in range(1, rows + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # Mobiles of one block of numbers: new people, bar the odd one seed_demo drew.
        sheet.write_row(row, 0, [f"{first} {last}", f"557799{row:07d}", f"cliente{row}@exemplo.com.br", rng.choice(["", "VIP", "Lead"]), "Salvador"])
    workbook.close()


def database_counts(desk: Desk, started_at) -> dict:
    from django.db import connection

    from jobs.models import Job
    from tickets.models import Message

    ours = Message.objects.filter(channel_id=desk.channel_id, external_id__startswith=f"3EB0{desk.run_tag}")
    stored = set(ours.values_list("external_id", flat=True))
    doubled = ours.count() - len(stored)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FILTER (WHERE jsonb_array_length(worker_ids) = 1 AND status = 'SUCCESSFUL'), COUNT(*)"
            " FROM django_tasks_database_dbtaskresult WHERE enqueued_at >= %s",
            [started_at],
        )
        once, tasks = cursor.fetchone()
    jobs = {key: Job.objects.filter(token=token).values("status", "started_at", "finished_at", "result").first() for key, token in desk.jobs.items()}
    replies = Message.objects.filter(channel_id=desk.channel_id, created_at__gte=started_at).exclude(sent_by=None)
    return {
        "stored": stored,
        "doubled": doubled,
        "tasks": tasks,
        "tasks_once": once,
        "jobs": jobs,
        "replies": replies.count(),
        "replies_failed": replies.exclude(error="").count(),
    }


def job_states(desk: Desk) -> dict:
    from jobs.models import Job

    return dict(Job.objects.filter(token__in=list(desk.jobs.values())).values_list("kind", "status"))


# -- The processes --------------------------------------------------------


class Gateway:
    """The stand-in for Evolution API: sendText answers as the gateway
    does, with the id WhatsApp gave the message."""

    def __init__(self, port: int):
        self.sent = 0
        self.server = WSGIServer(("127.0.0.1", port), self.app, log=None, error_log=None)
        self.server.start()

    def app(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].startswith("/message/sendText/"):
            self.sent += 1
            body = json.dumps({"key": {"remoteJid": "x@s.whatsapp.net", "fromMe": True, "id": f"BAE5{self.sent:012X}"}, "status": "PENDING"})
            start_response("201 Created", [("Content-Type", "application/json")])
            return [body.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    def stop(self):
        self.server.stop(timeout=1)


class Processes:
    """Two gunicorn instances and two task workers; stopped whatever happens."""

    def __init__(self, args, env: dict, logs: Path):
        self.env, self.logs, self.children = env, logs, []
        self.ports = [free_port(), free_port()]
        # Where the load balancer sends /tickets/webhook/ (the same port
        # when one pool serves everything).
        self.webhook_ports = [free_port(), free_port()] if args.deployment == "split" else self.ports
        for n, (port, webhook_port) in enumerate(zip(self.ports, self.webhook_ports, strict=True)):
            for name, command, niceness, extra in machine(args.deployment, port, webhook_port):
                if not args.prioritize:
                    extra.pop("DATABASE_NICE", None)
                idle = args.deployment == "split" and name in IDLE[args.idle]
                self.spawn(f"{name}-{n}", command, niceness, extra, idle=idle)

    def spawn(self, name: str, command: list[str], niceness: int, extra: dict, *, idle: bool = False):
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **extra},
            stdout=log,
            stderr=log,
            # A process group of its own, to stop it with its children, but
            # not a session: where the kernel groups processes by session
            # for scheduling (autogroups), a nice value only weighs a process
            # against its own session's, and every child in a session of its
            # own would ignore the others' priorities.
            process_group=0,
            preexec_fn=(lambda: lower_priority(niceness, idle=idle)) if niceness or idle else None,  # noqa: PLW1509 (no threads yet in the child)
        )
        self.children.append((name, process))

    def wait_ready(self, timeout: float = 60):
        """Both instances answer /healthz with 200 and a heartbeat of a
        worker of every queue."""
        import urllib.request

        deadline = time.monotonic() + timeout
        waiting = set(self.ports) | set(self.webhook_ports)
        while waiting and time.monotonic() < deadline:
            for port in list(waiting):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                        by_queue = json.load(response)["worker_heartbeat_age_seconds_by_queue"]
                        if by_queue and None not in by_queue.values():
                            waiting.discard(port)
                except OSError:
                    pass
            for name, process in self.children:
                if process.poll() is not None:
                    raise SystemExit(f"{name} stopped at start; see {self.logs / name}.log")
            time.sleep(0.5)
        if waiting:
            raise SystemExit(f"the instances were not ready in {timeout:.0f} s; see {self.logs}")

    def stop(self):
        for _, process in self.children:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in self.children:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def errors_logged(self) -> list[str]:
        lines = []
        for name, _ in self.children:
            text = (self.logs / f"{name}.log").read_text(errors="replace")
            lines += [f"{name}: {line}" for line in text.splitlines() if "Traceback" in line or "ERROR" in line or "CRITICAL" in line]
        return lines


class CpuSampler:
    """Where the two cores went, by kind of process, sampled every second
    by process id: a process that ends (a gunicorn worker replaced, a
    PostgreSQL backend whose connection closed) keeps what it had used by
    its last sample. A PostgreSQL backend counts for the pool it serves
    (its connection's application_name). "others" is everything else on
    the machine."""

    KINDS = {"gunicorn": "gunicorn", "web": "gunicorn: pages", "webhooks": "gunicorn: webhooks", "worker": "task workers", "media-worker": "task workers"}
    POOLS = ("web", "webhooks", "worker")  # application_name of their connections

    def __init__(self, children: list, database_url: str):
        import psycopg

        # Process group -> kind, for our children's process groups.
        self.own_pids = {process.pid: self.KINDS[name.rsplit("-", 1)[0]] for name, process in children}
        self.database = psycopg.connect(database_url, autocommit=True)
        self.name = database_url.rsplit("/", 1)[1]
        self.backends: dict[int, str] = {}
        self.last: dict[int, float] = {}
        self.spent: dict[str, float] = {}
        self.started = time.perf_counter()
        self.running = True
        self.sample(count=False)
        self.greenlet = gevent.spawn(self.loop)

    def kind_of(self, process) -> str:
        if process.pid == os.getpid():
            return "load generator (Locust)"
        try:
            group = os.getpgid(process.pid)
        except OSError:
            return "others"
        if group in self.own_pids:
            return self.own_pids[group]
        if process.info["name"] != "postgres":
            return "others"
        return self.backends.get(process.pid, "others")

    def sample(self, count=True):
        import psutil

        # A backend keeps its pid for its connection's life: each new one by
        # the pool it serves; this database's other connections, autovacuum
        # and the server's own processes (WAL, checkpoints) as "PostgreSQL";
        # other databases' backends are the rest of the machine's.
        for pid, database, pool in self.database.execute("SELECT pid, datname, application_name FROM pg_stat_activity"):
            if pid not in self.backends:
                self.backends[pid] = f"PostgreSQL: {pool}" if pool in self.POOLS else "PostgreSQL" if database in (None, self.name) else "others"
        for process in psutil.process_iter(["name", "cpu_times"]):
            times = process.info["cpu_times"]
            if times is None:
                continue
            used = times.user + times.system
            before = self.last.get(process.pid)
            self.last[process.pid] = used
            if count:
                kind = self.kind_of(process)
                self.spent[kind] = self.spent.get(kind, 0.0) + used - (before or 0.0)

    def loop(self):
        while self.running:
            gevent.sleep(1)
            self.sample()

    def stop(self) -> dict:
        self.running = False
        self.greenlet.join()
        self.sample()
        self.database.close()
        seconds = time.perf_counter() - self.started
        return {kind: spent / seconds for kind, spent in sorted(self.spent.items(), key=lambda item: -item[1])}


# -- More than one machine -------------------------------------------------


def cluster_checks(desk: Desk, hosts: list[str]) -> list[tuple[str, bool, str]]:
    """The two instances are one site: a session, a stored file and the
    job queue are shared, as they must be behind a load balancer."""
    from geventhttpclient.useragent import UserAgent  # noqa: F401 (locust's client library)
    import requests

    checks = []
    a, b = hosts
    user, password = desk.administrator
    session = requests.Session()
    page = session.get(f"{a}/login/", timeout=30)
    session.post(f"{a}/login/", data={"username": user, "password": password, "csrfmiddlewaretoken": load_users.csrf_token(page.text)}, timeout=30, allow_redirects=False)
    listing = session.get(f"{b}/contacts/", timeout=30, allow_redirects=False)
    checks.append(("a log-in through one instance works on the other", listing.status_code == 200, f"GET /contacts/ on B: {listing.status_code}"))
    token = load_users.csrf_token(listing.text) if listing.status_code == 200 else ""

    # A photo saved through A is served by B.
    pk = desk.contact_ids[0]
    form = session.get(f"{a}/contacts/{pk}/edit/", timeout=30)
    fields = load_users.form_fields(form.text, f"/contacts/{pk}/edit/")
    photo = png_bytes()
    saved = session.post(
        f"{a}/contacts/{pk}/edit/",
        data=fields,
        files={"photo": ("rosto.png", photo, "image/png")},
        headers={"X-CSRFToken": token},
        timeout=30,
        allow_redirects=False,
    )
    served = session.get(f"{b}/contacts/{pk}/photo/", timeout=30)
    again = session.get(f"{a}/contacts/{pk}/photo/", timeout=30)
    same = served.status_code == 200 and served.content == again.content and len(served.content) > 0
    checks.append(("a photo saved through one instance downloads through the other", same, f"save {saved.status_code}, B {served.status_code} ({len(served.content)} bytes), A {again.status_code}"))

    # Jobs sent through both instances: each runs once, on one of the workers.
    from jobs.models import Job

    tokens = []
    for n in range(8):
        host = hosts[n % 2]
        response = session.post(f"{host}/contacts/export/?q=recife", data={"format": "csv"}, headers={"X-CSRFToken": token}, timeout=30, allow_redirects=False)
        if response.status_code == 302:
            tokens.append(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and Job.objects.filter(token__in=tokens).exclude(status__in=["done", "failed"]).exists():
        time.sleep(0.5)
    jobs = list(Job.objects.filter(token__in=tokens).values_list("pk", "status"))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (args_kwargs->'kwargs'->>'job_id')::int, worker_ids FROM django_tasks_database_dbtaskresult"
            " WHERE (args_kwargs->'kwargs'->>'job_id')::int = ANY(%s)",
            [[pk for pk, _ in jobs]],
        )
        # Django reads jsonb as text.
        runs = [(pk, json.loads(ids) if isinstance(ids, str) else ids) for pk, ids in cursor.fetchall()]
    workers = {worker for _, ids in runs for worker in ids}
    ran_once = len(tokens) == 8 and all(status == "done" for _, status in jobs) and sorted(pk for pk, _ in runs) == sorted(pk for pk, _ in jobs) and all(len(ids) == 1 for _, ids in runs)
    checks.append(("8 export jobs sent through both instances each ran once", ran_once, f"{len(tokens)} sent, {sum(s == 'done' for _, s in jobs)} done, {len(runs)} task runs, on {len(workers)} worker(s)"))
    # Their files download through either instance.
    if tokens:
        first = session.get(f"{a}/jobs/{tokens[-1]}/result/", timeout=30)
        second = session.get(f"{b}/jobs/{tokens[-1]}/result/", timeout=30)
        checks.append(("an export made by a worker downloads through both instances", first.status_code == 200 and first.content == second.content, f"A {first.status_code}, B {second.status_code}, {len(first.content)} bytes"))
    connection.close()
    return checks


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


# -- Locust -------------------------------------------------------------------


def run_locust(classes: dict, seconds: float, spawn_rate: float = 20, *, warm_up=None):
    """Run Locust headless with {UserClass: count} for `seconds`; its stats.
    With `warm_up` (a function true once the users are ready), the users
    start, the seconds and the stats begin once it is true, and the
    warm-up's stats come back beside them: (stats, warm-up rows)."""
    from locust.env import Environment

    users = []
    for cls, count in classes.items():
        users.append(type(cls.__name__.removesuffix("User") + "Run", (cls,), {"fixed_count": count, "abstract": False}))
    env = Environment(user_classes=users)
    runner = env.create_local_runner()
    runner.start(sum(classes.values()), spawn_rate=spawn_rate)
    warm = None
    if warm_up is not None:
        deadline = time.monotonic() + WARM_UP_LIMIT
        while not warm_up() and time.monotonic() < deadline:
            gevent.sleep(0.2)
        warm = rows_of(env.stats)
        env.stats.reset_all()
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    return env.stats if warm_up is None else (env.stats, warm)


# The agents' log-ins before the load is measured wait at most this long.
WARM_UP_LIMIT = 120


def percentiles(stats, name: str, method: str):
    entry = stats.get(name, method)
    if not entry.num_requests:
        return None
    return {
        "count": entry.num_requests,
        "errors": entry.num_failures,
        "p50": entry.get_response_time_percentile(0.5),
        "p95": entry.get_response_time_percentile(0.95),
        "p99": entry.get_response_time_percentile(0.99),
    }


def rows_of(stats):
    seen = {}
    for (name, method), entry in stats.entries.items():
        if entry.num_requests:
            seen[name] = percentiles(stats, name, method)
    return seen


# -- The run --------------------------------------------------------------------


def main():
    args = parse_args()
    # Stopped from outside (CI's time-out, Ctrl+C): the servers and workers stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    work = Path(tempfile.mkdtemp(prefix="contacts-load-"))
    media_root = work / "media"
    media_root.mkdir()
    started = time.perf_counter()
    desk = prepare_database(args, media_root)
    import_file = work / "contatos.xlsx"
    make_import_file(args.import_rows, import_file)
    desk.import_file = str(import_file)
    gateway = Gateway(desk.gateway_port)
    processes = Processes(args, environment(args, media_root), work)
    failures = []
    try:
        processes.wait_ready()
        desk.hosts = [f"http://127.0.0.1:{port}" for port in processes.ports]
        desk.webhook_hosts = [f"http://127.0.0.1:{port}" for port in processes.webhook_ports]
        for cls in (AgentUser, BackOfficeUser, ReferenceUser, WebhookUser):
            cls.desk = desk
        print(f"Ready in {time.perf_counter() - started:.0f} s: instances on {', '.join(desk.hosts)}, 2 task workers, logs in {work}", flush=True)

        checks = cluster_checks(desk, desk.hosts)
        alone = rows_of(run_locust({ReferenceUser: 2}, args.alone_seconds))

        from django.utils import timezone

        load_started = timezone.now()
        writers = max(10, round(args.rate / 4))
        WebhookUser.rate = args.rate / writers
        print(f"Load: {args.agents} agents, {writers} webhook senders at {WebhookUser.rate:.1f}/s each, an import of {args.import_rows:,} rows and an export, for {args.seconds:.0f} s …", flush=True)
        # The agents log in first, all at once (a password's hash is a
        # deliberately costly second of CPU each); the load is measured from
        # when the last one is in, as a desk works once its people are.
        # Messages and jobs are counted from the start, warm-up included.
        warm_ups = []

        def warmed_up() -> bool:
            if len(load_users.logged_in) < args.agents:
                return False
            if not warm_ups:
                warm_ups.append((time.perf_counter(), CpuSampler(processes.children, args.database_url)))
            return True

        stats, warm = run_locust({AgentUser: args.agents, WebhookUser: writers, BackOfficeUser: 1}, args.seconds, warm_up=warmed_up)
        clock, sampler = warm_ups[0] if warm_ups else (time.perf_counter(), CpuSampler(processes.children, args.database_url))
        loaded = rows_of(stats)
        errors = {(e.method, e.name, str(e.error)): e.occurrences for e in stats.errors.values()}
        load_seconds = time.perf_counter() - clock
        cpu = sampler.stop()
        # The import and the export finish after the load if they must.
        deadline = time.monotonic() + args.job_wait
        while time.monotonic() < deadline and any(state in ("queued", "running") for state in job_states(desk).values()):
            time.sleep(2)
        gevent.sleep(1)  # the last webhook's commit
        counts = database_counts(desk, load_started)
    finally:
        processes.stop()
        gateway.stop()
    failures += report(args, desk, checks, alone, loaded, counts, load_seconds, gateway, processes, errors, warm)
    print("\nWhere the CPU went during the load (cores busy on average, of 2; \"others\": the rest of the machine):")
    for kind, cores in cpu.items():
        print(f"  {kind:<26}{cores:>6.2f}")
    print(f"  {'all':<26}{sum(cpu.values()):>6.2f}")
    shutil.rmtree(work, ignore_errors=True) if not failures else None
    if args.drop:
        import psycopg

        name = args.database_url.rsplit("/", 1)[1]
        with psycopg.connect(args.database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"\nTotal {time.perf_counter() - started:.0f} s.")
    if failures:
        print("FAILED: " + "; ".join(failures) + f" (logs in {work})")
        sys.exit(1)
    print("PASSED: no error, no message lost or stored twice, the jobs finished, the instances act as one site.")


def report(args, desk, checks, alone, loaded, counts, load_seconds, gateway, processes, errors, warm) -> list[str]:
    failures = []
    print(f"\n{args.contacts:,} contacts · {args.agents} agents · webhooks asked at {args.rate:.0f}/s · import {args.import_rows:,} rows · {load_seconds:.0f} s of load")
    if args.deployment == "split":
        backends = "niced as their processes (prioritize)" if args.prioritize else "at normal priority"
        idle = {"none": "", "workers": "; task workers under SCHED_IDLE", "background": "; webhooks and task workers under SCHED_IDLE"}[args.idle]
        print(f"Deployment: split (pages at nice 0, webhooks at 10, task workers at 19{idle}; their database backends {backends})")
    else:
        print("Deployment: one pool (one gunicorn for everything, nothing niced)")
    print("\nTwo instances, one database, one storage folder, two workers:")
    for name, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failures.append(name)

    print(f"\n{'request':<24}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for label, rows in (("alone", alone), ("warm-up: the agents log in (not in the figures below)", warm or {}), ("under load", loaded)):
        print(f"-- {label}")
        for name in sorted(rows, key=lambda n: (KINDS.index(n) if n in KINDS else -1, n)):
            row = rows[name]
            print(f"{name:<24}{row['count']:>8}{row['errors']:>8}{row['p50']:>9.0f}{row['p95']:>9.0f}{row['p99']:>9.0f}")
            if row["errors"]:
                failures.append(f"{row['errors']} errors on {name} ({label})")

    if errors:
        print("\nErrors (kind, what, how many):")
        for (method, name, error), count in errors.items():
            print(f"  {name} {method}: {error} × {count}")

    posted = desk.posted
    lost = posted - counts["stored"]
    webhooks = loaded.get("webhook", {"count": 0})
    print(f"\nWebhooks: {webhooks['count']:,} posts in {load_seconds:.0f} s = {webhooks['count'] / load_seconds:.0f}/s (asked {args.rate:.0f}/s)")
    print(f"Messages: {len(posted):,} posted and accepted, {len(counts['stored'] & posted):,} of them stored, {len(lost)} lost, {counts['doubled']} stored twice")
    if lost or counts["doubled"]:
        failures.append(f"{len(lost)} messages lost, {counts['doubled']} stored twice")
    print(f"Replies: {counts['replies']} stored, {counts['replies_failed']} not sent; the gateway stand-in took {gateway.sent}")
    if counts["replies_failed"]:
        failures.append(f"{counts['replies_failed']} replies not sent")
    print(f"Tasks: {counts['tasks']} enqueued during the load, {counts['tasks_once']} ran once and succeeded")
    if counts["tasks"] != counts["tasks_once"]:
        failures.append("a task failed or ran twice")
    for key in ("preview", "import", "export"):
        job = counts["jobs"].get(key)
        if not job:
            print(f"Job {key}: never started")
            failures.append(f"the {key} did not start")
            continue
        took = (job["finished_at"] - job["started_at"]).total_seconds() if job["finished_at"] and job["started_at"] else None
        detail = {k: v for k, v in (job["result"] or {}).items() if k in ("created", "updated", "skipped", "failed", "rows", "conflicts")}
        print(f"Job {key}: {job['status']}" + (f" in {took:.0f} s" if took is not None else "") + (f" {detail}" if detail else ""))
        if job["status"] != "done":
            failures.append(f"the {key} did not finish ({job['status']})")

    reference = alone.get("alone: log-in page")
    list_alone = alone.get("alone: list")
    list_loaded = loaded.get("list")
    if reference:
        print(f"\nReference (same run, alone): log-in page p95 {reference['p95']:.0f} ms")
    if list_alone and list_loaded:
        ratio = list_loaded["p95"] / max(list_alone["p95"], 1)
        print(f"The list: p95 {list_alone['p95']:.0f} ms alone, {list_loaded['p95']:.0f} ms under load: {ratio:.1f}x (target at most 3x)")
    logged = processes.errors_logged()
    if logged:
        print(f"\nErrors in the servers' logs ({len(logged)}):")
        for line in logged[:20]:
            print("  " + line)
        failures.append(f"{len(logged)} errors in the servers' logs")
    return failures


if __name__ == "__main__":
    main()
