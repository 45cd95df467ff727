#!/usr/bin/env python
"""Import and export at scale, side by side with django-import-export.

    .venv/bin/python benchmarks/import_export.py            # SQLite and PostgreSQL, 100,000 rows
    .venv/bin/python benchmarks/import_export.py --rows 20000 --skip-export

Builds one .xlsx of realistic pt-BR contacts (valid CPFs and phones, half
of the phones stored as Excel floats, dates as text, tags, an extra field),
then, each in a fresh process on an empty database, measures rows/s and
peak RSS of:

- this project's import (read, full validation, matching, history, audit),
  --repeat times (the median shown, every run on the line below),
- django-import-export (installed for the benchmark only, never a
  dependency of the project) importing the same rows into the same model
  with the same validation, in its default mode and its bulk mode (on the
  first --library-rows rows: it manages about a hundred rows a second
  here, so the whole file would take it a quarter of an hour a mode),
- this project's import of the same rows again, each with a company
  added, over the contacts the first file made: every row an update,
- this project's import again on PostgreSQL, into a copy of a database
  that already holds contacts (--populated-database; by default the list
  benchmark's million, when `benchmarks/list_search.py` has filled it),
- the raw readers alone (python-calamine, openpyxl read-only): the same-run
  reference, since the machine is shared and noisy;
- and the export of --export-contacts contacts (from the list benchmark's
  database, `benchmarks/list_search.py` fills it) to .xlsx.

Prints a table.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file's own folder first on the path would make "import_export" this
# very script, not the library it measures against.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
FILE = ROOT / "benchmarks" / "contacts-{rows}.xlsx"
PG = "postgres://postgres@127.0.0.1:5432/{name}"
IMPORT_EXPORT = "django-import-export==4.4.3"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--library-rows",
        type=int,
        default=10_000,
        help="rows for django-import-export (its rate does not depend on the file's length, and 100,000 rows take it 15 minutes a mode)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of this project's import per database, each on a fresh one: the table shows the median, the line below it every run",
    )
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument(
        "--only-ours",
        action="store_true",
        help="this project's import and the readers only (no django-import-export, no second file, no populated database, no export)",
    )
    parser.add_argument("--import-database", default="contacts_bench_import", help="the PostgreSQL database the imports run in (dropped and made again)")
    parser.add_argument(
        "--populated-database",
        default=PG.format(name="contacts_bench"),
        help="also import the file into a copy of this database (the list benchmark's, when it exists): an import into a desk that already has contacts",
    )
    parser.add_argument("--export-database", default=PG.format(name="contacts_bench"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    return parser.parse_args()


def environment(database_url: str) -> dict:
    """The settings of a benchmark's Django process, as environment variables."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "benchmark-only-" + "x" * 50,
        "DEBUG": "0",
        "HTTPS": "0",
        "DJANGO_SETTINGS_MODULE": "contacts_portal.settings",
    }


def setup(database_url):
    os.environ.update(environment(database_url))
    import django

    django.setup()


def make_file(rows: int) -> Path:
    path = Path(str(FILE).format(rows=rows))
    if path.exists():
        return path
    setup(f"sqlite:///{ROOT / 'benchmarks' / 'scratch.sqlite3'}")
    import xlsxwriter

    from contacts.demo import FIRST_NAMES, LAST_NAMES, make_cpf, make_number
    from contacts.normalizers import fold

    rng = random.Random(1)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Nome", "Telefone", "E-mail", "CPF", "Nascimento", "Etiquetas", "Cargo"])
    numbers, documents = set(), set()
    for row in range(1, rows + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        number = make_number(rng)
        while number in numbers:
            number = make_number(rng)
        numbers.add(number)
        document = make_cpf(rng) if rng.random() < 0.5 else ""
        if document in documents:
            document = ""
        documents.add(document)
        sheet.write_row(
            row,
            0,
            [
                f"{first} {last}",
                float(number) if row % 2 else number,  # as Excel keeps a number typed in a cell
                fold(f"{first}.{last}{row}@exemplo.com").replace(" ", ""),
                document,
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2005)}",
                rng.choice(["", "VIP", "Cliente, Lead"]),
                rng.choice(["", "Gerente", "Analista"]),
            ],
        )
    workbook.close()
    return path


def make_changed_file(path: Path) -> Path:
    """The same rows with a company added to every one: imported over the
    first file, each row updates its contact."""
    changed = path.with_name(path.stem + "-changed.xlsx")
    if changed.exists():
        return changed
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    workbook = xlsxwriter.Workbook(str(changed), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, [*rows[0], "Empresa"])
    for number, row in enumerate(rows[1:], start=1):
        sheet.write_row(number, 0, [*row, f"Empresa {number % 97}"])
    workbook.close()
    return changed


def fresh_database(url: str) -> str:
    if url.startswith("postgres"):
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    return url


def copy_database(url: str, name: str) -> tuple[str, int] | None:
    """A fresh copy of the PostgreSQL database at `url` named `name`, and
    how many contacts it holds; None when there is no such database."""
    import psycopg

    try:
        with psycopg.connect(url) as connection:
            count = connection.execute("SELECT count(*) FROM contacts_contact").fetchone()[0]
    except psycopg.Error:
        return None
    source = url.rsplit("/", 1)[1]
    with psycopg.connect(PG.format(name="postgres"), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
    return PG.format(name=name), count


# Workers: each runs in its own process and prints one JSON line.


def worker(kind: str, database_url: str, path: Path):
    setup(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rows = {"ours": run_ours, "iie-default": run_iie, "iie-bulk": run_iie, "calamine": run_calamine, "openpyxl": run_openpyxl, "export": run_export}[kind](path, kind)
    elapsed = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": elapsed, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_ours(path, kind):
    from audit.recording import Source, recording
    from contacts.transfer.importing import import_contacts
    from contacts.transfer.reading import read_table

    with open(path, "rb") as file, recording(source=Source.IMPORT):
        result = import_contacts(table=read_table(file), file_name=path.name)
    assert result.rejected == 0, result.errors[:3]
    return result.rows


def run_calamine(path, kind):
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return sum(1 for _ in sheet.iter_rows()) - 1


def run_openpyxl(path, kind):
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    return sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 1


def run_iie(path, kind):
    """django-import-export, as a Django team would set it up: a resource
    for Contact with the same header names and the same validation (the
    project's normalisers in each field's clean), matched by number."""
    import tablib
    from import_export import fields, resources, widgets

    from contacts import normalizers
    from contacts.models import Contact

    class Normalised(widgets.CharWidget):
        def __init__(self, normalize):
            super().__init__()
            self.normalize = normalize

        def clean(self, value, row=None, **kwargs):
            if isinstance(value, float) and value.is_integer():
                value = str(int(value))
            return self.normalize(str(value or ""))

    class ContactResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="Nome")
        number = fields.Field(attribute="number", column_name="Telefone", widget=Normalised(normalizers.normalize_phone))
        email = fields.Field(attribute="email", column_name="E-mail")
        cpf_cnpj = fields.Field(attribute="cpf_cnpj", column_name="CPF", widget=Normalised(normalizers.normalize_document))
        birth_date = fields.Field(attribute="birth_date", column_name="Nascimento", widget=widgets.DateWidget("%d/%m/%Y"))

        class Meta:
            model = Contact
            fields = ("name", "number", "email", "cpf_cnpj", "birth_date")
            import_id_fields = ("number",)
            use_bulk = kind == "iie-bulk"
            batch_size = 1000
            skip_unchanged = True

        def before_save_instance(self, instance, row, **kwargs):
            instance.full_clean(exclude=["photo"], validate_unique=False, validate_constraints=False)
            instance.refresh_search_fields([])

    with open(path, "rb") as file:
        dataset = tablib.Dataset().load(file.read(), format="xlsx")
    result = ContactResource().import_data(dataset, dry_run=False, raise_errors=True)
    return result.totals["new"] + result.totals["update"] + result.totals["skip"]


def run_export(path, kind):
    from contacts.transfer.exporting import write_xlsx
    from contacts.models import Contact

    output, count = write_xlsx(Contact.objects.all())
    output.close()
    return count


def measure(kind, database_url, path):
    command = [sys.executable, __file__, "--worker", kind, "--database-url", database_url, "--rows", "0"]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "BENCH_FILE": str(path)}, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_import_export():
    try:
        import import_export  # noqa: F401
    except ImportError:
        print(f"Installing {IMPORT_EXPORT} for the benchmark (not a dependency of the project) …", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", IMPORT_EXPORT, "tablib[xlsx]"], check=True)


def main():
    args = parse_args()
    if args.worker:
        worker(args.worker, args.database_url, Path(os.environ["BENCH_FILE"]))
        return
    if not args.only_ours:
        ensure_import_export()
    path = make_file(args.rows)
    print(f"\n{args.rows:,} rows · {path.name} · each line a fresh process on an empty database\n")
    print(f"| {'what':<44} | {'rows/s':>9} | {'seconds':>8} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 10}|{'-' * 13}|")

    def show(label, outcome):
        if outcome is None:
            print(f"| {label:<44} | {'failed':>9} | {'':>8} | {'':>11} |", flush=True)
            return None
        rate = outcome["rows"] / outcome["seconds"]
        print(f"| {label:<44} | {rate:>9,.0f} | {outcome['seconds']:>8.1f} | {outcome['rss_mb']:>11.0f} |", flush=True)
        return rate

    def show_runs(label, fresh):
        """Our import --repeat times: the median run, then every run."""
        runs = [outcome for _ in range(max(args.repeat, 1)) if (outcome := measure("ours", fresh(), path)) is not None]
        if not runs:
            return show(label, None)
        runs.sort(key=lambda outcome: outcome["rows"] / outcome["seconds"])
        rate = show(label, runs[len(runs) // 2])
        if len(runs) > 1:
            print(f"|   {len(runs)} runs: " + " / ".join(f"{o['rows'] / o['seconds']:,.0f}" for o in runs) + " rows/s", flush=True)
        return rate

    scratch = f"sqlite:///{ROOT / 'benchmarks' / 'scratch.sqlite3'}"
    calamine = show("reference: python-calamine, read only", measure("calamine", scratch, path))
    show("reference: openpyxl read-only, read only", measure("openpyxl", scratch, path))
    for database in args.databases.split(","):
        url = scratch if database == "sqlite" else PG.format(name=args.import_database)
        ours = show_runs(f"{database}: this project's import", lambda url=url: fresh_database(url))
        if ours and calamine:
            # Issue 21's figure: at least 0.1x on PostgreSQL.
            print(f"|   {database}: ours / python-calamine's read = {ours / calamine:.3f}x", flush=True)
        if args.only_ours:
            continue
        small = make_file(min(args.rows, args.library_rows))
        rows = small.stem.split("-")[1]
        bulk = show(f"{database}: django-import-export bulk ({rows} rows)", measure("iie-bulk", fresh_database(url), small))
        show(f"{database}: django-import-export default ({rows} rows)", measure("iie-default", fresh_database(url), small))
        if ours and bulk:
            print(f"|   {database}: ours / django-import-export bulk = {ours / bulk:.1f}x", flush=True)
        # The contacts of the first file, then the measured import updates each.
        if measure("ours", fresh_database(url), path) is not None:
            show(f"{database}: the file again, every row changed", measure("ours", url, make_changed_file(path)))
        if database == "postgresql" and (populated := copy_database(args.populated_database, f"{args.import_database}_big")):
            first, count = populated
            copies = iter([first])  # the copy just made serves the first run
            show_runs(
                f"postgresql: into {count:,} contacts",
                lambda: next(copies, None) or copy_database(args.populated_database, f"{args.import_database}_big")[0],
            )
    if not args.skip_export and not args.only_ours:
        show("postgresql: export to .xlsx (list benchmark's DB)", measure("export", args.export_database, path))


if __name__ == "__main__":
    main()
