#!/usr/bin/env python
"""Peak memory of an import of the row cap's worth of rows, step by step,
as a user goes through it, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/import_memory.py                 # 150,000 rows (IMPORT_MAX_ROWS), both databases
    .venv/bin/python benchmarks/import_memory.py --rows 50000 --databases sqlite

The file is import_export.py's realistic .xlsx (valid CPFs and phones, half
of the phones stored as Excel floats, dates as text, tags, an extra field),
made once and kept in benchmarks/. Each step runs in a fresh process on the
same database, as the web server and the task worker run it:

- the upload (the request that reads the file through and surveys it),
- the mapping page (a load of it, then its POST: the preview is queued),
- the preview job (every row planned, each row's account kept in a file),
- the preview's page (its first page of rows; then "Importar": the job is queued),
- the import job (planned and written, history and audit).

Each line is the process's own peak (VmHWM: the high-water mark of its
resident memory, from the start of the interpreter), beside a process that
only starts Django: the same-run reference. The target (issue 17) is under
300 MB for any file the caps accept, in the request and in the job.

Prints a table.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
BUDGET_MB = 300

STEPS = {
    "django": "reference: a process that only starts Django",
    "upload": "upload (read and surveyed, in the request)",
    "mapping": "mapping page (load, then its POST)",
    "preview": "preview job",
    "preview_page": "preview page (then Importar)",
    "import": "import job",
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--database-name", default="import_memory", help="the PostgreSQL database (created and dropped)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    return parser.parse_args()


def import_export_benchmark():
    """import_export.py, loaded by path (its module name is that of the
    library it measures against): its file, databases and settings."""
    spec = importlib.util.spec_from_file_location("benchmark_import_export", ROOT / "benchmarks" / "import_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IMPORT_EXPORT = import_export_benchmark()
PG = IMPORT_EXPORT.PG


def environment(database_url: str, media: Path) -> dict:
    return {**os.environ, **IMPORT_EXPORT.environment(database_url), "ALLOWED_HOSTS": "testserver", "MEDIA_ROOT": str(media)}


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    else:
        IMPORT_EXPORT.fresh_database(url)


# Steps: each runs in a process of its own and prints one JSON line.


def step(name: str, path: Path) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from jobs.models import Job

    outcome = {}
    started = time.perf_counter()
    if name == "setup":
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # production static storage
        get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
        return outcome
    if name == "django":
        return {"seconds": 0.0}
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    if name == "upload":
        with open(path, "rb") as file:
            response = client.post(reverse("contacts:import"), {"file": file})
        assert response.status_code == 302, response.content.decode()[:2000]
    elif name == "mapping":
        from contacts.transfer.views import MappingForm

        job = Job.objects.get(kind=Job.Kind.IMPORT_PREVIEW)
        response = client.get(job.get_absolute_url())
        assert response.status_code == 200
        outcome["page_seconds"] = time.perf_counter() - started
        form = MappingForm(job=job)
        data = {name: field.initial for name, field in form.fields.items() if name.startswith("column_")}
        response = client.post(job.get_absolute_url(), data)
        assert response.status_code == 302, response.content.decode()[:2000]
    elif name == "preview_page":
        job = Job.objects.get(kind=Job.Kind.IMPORT_PREVIEW)
        response = client.get(job.get_absolute_url())
        assert response.status_code == 200 and b"page=2" in response.content
        outcome["page_seconds"] = time.perf_counter() - started
        response = client.post(reverse("contacts:import_confirm", args=[job.token]), {"conflicts": "skip"})
        assert response.status_code == 302
    else:
        from jobs.tasks import run_job

        job = Job.objects.get(kind=Job.Kind.IMPORT_PREVIEW if name == "preview" else Job.Kind.IMPORT)
        run_job.call(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == Job.Status.DONE, job.error
        outcome["counts"] = {key: job.result[key] for key in ("rows", "created", "rejected")}
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def run_step(name: str, env: dict, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--step", name], env={**env, "BENCH_FILE": str(path)}, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"step {name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_mb() -> float:
    # The peak of this process's own memory since the interpreter started:
    # ru_maxrss would also count what the parent held before the exec.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def main():
    args = parse_args()
    if args.step:
        outcome = step(args.step, Path(os.environ["BENCH_FILE"]))
        print(json.dumps({**outcome, "peak_mb": peak_mb()}))
        return
    path = IMPORT_EXPORT.make_file(args.rows)
    media = Path(tempfile.mkdtemp(prefix="import-memory-"))  # the jobs' files
    print(f"\n{args.rows:,} rows · {path.name} ({path.stat().st_size / 1e6:.1f} MB) · each line a fresh process; budget {BUDGET_MB} MB\n")
    print(f"| {'database':<10} | {'step':<52} | {'peak RSS MB':>11} | {'seconds':>8} |")
    print(f"|{'-' * 12}|{'-' * 54}|{'-' * 13}|{'-' * 10}|")
    worst = 0.0
    for database in args.databases.split(","):
        url = f"sqlite:///{ROOT / 'benchmarks' / 'import-memory.sqlite3'}" if database == "sqlite" else PG.format(name=args.database_name)
        IMPORT_EXPORT.fresh_database(url)
        env = environment(url, media)
        run_step("setup", env, path)
        try:
            for name, label in STEPS.items():
                outcome = run_step(name, env, path)
                if name != "django":
                    worst = max(worst, outcome["peak_mb"])
                seconds = f"{outcome['seconds']:>8.1f}"
                if "page_seconds" in outcome:
                    label += f" · page {outcome['page_seconds']:.2f} s"
                print(f"| {database:<10} | {label:<52} | {outcome['peak_mb']:>11.0f} | {seconds} |", flush=True)
                if "counts" in outcome:
                    assert outcome["counts"]["rows"] == args.rows and not outcome["counts"]["rejected"], outcome
        finally:
            drop_database(url)
    shutil.rmtree(media, ignore_errors=True)
    print(f"\nhighest peak: {worst:.0f} MB ({BUDGET_MB - worst:+.0f} MB to the budget)")


if __name__ == "__main__":
    main()
