import sys

from django.core.management.base import BaseCommand

from audit.recording import Source, recording
from dedup.finding import find_duplicates
from dedup.merging import contacts_merge
from contacts.models import Contact


class Command(BaseCommand):
    help = (
        "Remover duplicados: find the contacts that share a number (9th digit aware), Telegram id, "
        "CPF/CNPJ or e-mail, and merge each group into its oldest contact (the panel's rules)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only list the groups and what would move.")
        parser.add_argument("--show", type=int, default=20, help="How many groups to list (default 20).")

    def handle(self, *args, dry_run, show, **options):
        with recording(source=Source.MERGE):
            groups = find_duplicates(progress=lambda done, total: self.progress("Searching", done, total))
            self.end_progress()
            shown = groups[: max(show, 0)]
            names = Contact.objects.in_bulk({pk for group in shown for pk in group.contact_ids})
            for number, group in enumerate(shown, 1):
                survivor, *others = (names[pk] for pk in group.contact_ids)
                self.stdout.write(
                    f"{number}. keep #{survivor.pk} {survivor.name!r} ← "
                    + ", ".join(f"#{other.pk} {other.name!r}" for other in others)
                    + f"  [{', '.join(group.rules)}; {group.tickets} tickets, {group.messages} messages]"
                )
            if len(groups) > len(shown):
                self.stdout.write(f"… and {len(groups) - len(shown)} more groups.")
            contacts = sum(len(group.contact_ids) - 1 for group in groups)
            tickets = sum(group.tickets for group in groups)
            messages = sum(group.messages for group in groups)
            if dry_run or not groups:
                self.stdout.write(
                    f"Would merge {len(groups)} groups: {contacts} contacts removed, {tickets} tickets and {messages} messages moved."
                )
                return
            result = contacts_merge(
                groups=[group.contact_ids for group in groups],
                rules=[group.rules for group in groups],
                audit={"from": "command"},
                progress=lambda done, total: self.progress("Merging", done, total),
            )
            self.end_progress()
        self.stdout.write(
            f"Merged {result.groups} groups: {result.contacts} contacts removed, "
            f"{result.tickets} tickets and {result.messages} messages moved."
        )

    def progress(self, what: str, done: int, total: int) -> None:
        # A progress line on a terminal; nothing in a pipe or a log.
        if sys.stderr.isatty():
            self.stderr.write(f"\r{what}: {done:,} of {total:,}…", ending="")

    def end_progress(self) -> None:
        if sys.stderr.isatty():
            self.stderr.write("")
