import sys

from django.core.management.base import BaseCommand, CommandError

from audit.recording import Source, recording
from contacts.models import Wallet
from contacts.transfer.importing import import_file
from contacts.transfer.planning import CONFLICT_CHOICES, SKIP
from contacts.transfer.reading import SpreadsheetError, read_table


class Command(BaseCommand):
    help = "Import contacts from an .xlsx or .csv file (the same rules as the panel's Importar)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The .xlsx or .csv file.")
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be created, updated, left unchanged and rejected.")
        parser.add_argument("--wallet", default="", help="Put every row in this wallet (by name).")
        parser.add_argument("--tag", default="", help="Add this tag to every row.")
        parser.add_argument(
            "--conflicts",
            choices=CONFLICT_CHOICES,
            default=SKIP,
            help="A row found by CPF/CNPJ, Telegram id or e-mail that would replace the contact's number, Telegram id "
            "or CPF/CNPJ: leave it out (skip, the default) or apply it (overwrite). Each is printed.",
        )

    def handle(self, *args, path, dry_run, wallet, tag, conflicts, **options):
        chosen = None
        if wallet:
            chosen = Wallet.objects.filter(name__iexact=wallet).first()
            if chosen is None:
                raise CommandError(f"There is no wallet named {wallet!r}.")
        try:
            with open(path, "rb") as file, recording(source=Source.IMPORT):
                result = import_file(
                    read=lambda: read_table(file),
                    wallet=chosen,
                    tag=tag,
                    dry_run=dry_run,
                    conflicts=conflicts,
                    file_name=path.rsplit("/", 1)[-1],
                    progress=self.progress,
                )
        except FileNotFoundError:
            raise CommandError(f"No such file: {path}") from None
        except SpreadsheetError as error:
            raise CommandError(str(error)) from None
        if sys.stderr.isatty():
            self.stderr.write("")
        for number, _cells, message in result.errors[:20]:
            self.stderr.write(f"row {number}: {message}")
        for number, _cells, messages in result.warnings[:20]:
            self.stderr.write(f"row {number}, imported with a warning: {' '.join(messages)}")
        verdict = "overwritten" if conflicts != SKIP else "left out"
        for number, message in result.conflict_rows:
            self.stdout.write(f"row {number}: conflict, {verdict}: {message}")
        counts = result.counts()
        prefix = "Would import" if dry_run else "Imported"
        warned = f" {result.warned} imported with warnings." if result.warned else ""
        self.stdout.write(
            f"{prefix} {counts['rows']} rows: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['rejected']} rejected, "
            f"{len(result.conflict_rows)} conflicts {verdict}.{warned}"
        )

    def progress(self, done: int) -> None:
        # A progress line on a terminal; nothing in a pipe or a log.
        if sys.stderr.isatty():
            self.stderr.write(f"\r{done:,} rows read…", ending="")
