import shutil
import sys
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict
from django.utils import timezone

from audit.models import AuditEvent
from audit.recording import Source, recording
from audit.services import audit_record
from contacts import birthdays
from contacts.filters import ContactFilter, touched_by_import
from contacts.models import Contact, Segment, Tag, Wallet
from contacts.transfer.exporting import write_csv, write_xlsx
from jobs.models import Job


class Command(BaseCommand):
    help = (
        "Export contacts to an .xlsx (or .csv) file, with the panel's columns; optionally only a search, a wallet, a tag, "
        "people or groups, birthdays, opt-outs, an import's contacts or a saved segment (the contacts its owner sees), "
        "in the list's order."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write: a name ending in .xlsx or .csv.")
        parser.add_argument("--q", default="", help="Only the contacts this search finds (as in the panel).")
        parser.add_argument("--wallet", default="", help="Only this wallet's contacts (by name; 'none' for no wallet).")
        parser.add_argument("--tag", action="append", default=[], help="Only contacts with this tag (by name; repeat for any of several).")
        parser.add_argument(
            "--birthday", choices=list(birthdays.WINDOWS), help="Only contacts whose birthday is today, in the next 7 days (week) or 30 days (month)."
        )
        parser.add_argument(
            "--segment",
            default="",
            help="Only the contacts of this saved segment (by name; a shared one first), among those its owner may see.",
        )
        # The list's other filters, with its values.
        parser.add_argument("--type", dest="contact_type", choices=["people", "groups"], help="Only people, or only groups.")
        parser.add_argument(
            "--optout", choices=["yes", "no"], help="Only contacts who asked not to receive messages (yes), or only those who did not (no)."
        )
        parser.add_argument(
            "--imported", default="", help="Only the contacts this import created or updated (its token, as in its page's address)."
        )
        parser.add_argument("--sort", choices=["name", "newest"], help="The rows in this order: by name (the default) or newest first.")

    def handle(self, *args, path, q, wallet, tag, birthday, segment, contact_type, optout, imported, sort, **options):
        queryset = Contact.objects.all()
        if segment:
            queryset = self.segment_contacts(segment)
        if imported:
            queryset = touched_by_import(queryset, self.import_job(imported))
        if q:
            queryset = queryset.search(q)
        if wallet == "none":
            queryset = queryset.filter(wallet__isnull=True)
        elif wallet:
            chosen = Wallet.objects.filter(name__iexact=wallet).first()
            if chosen is None:
                raise CommandError(f"There is no wallet named {wallet!r}.")
            queryset = queryset.filter(wallet=chosen)
        if tag:
            tags = list(Tag.objects.filter(name__in=tag))
            missing = set(tag) - {t.name for t in tags}
            if missing:
                raise CommandError(f"No such tag: {', '.join(sorted(missing))}")
            queryset = queryset.with_any_tag(tags)
        if birthday:
            queryset = queryset.with_birthday_within(birthday, today=timezone.localdate())
        # The list's own filters for these, so that they mean what they mean there.
        listed = QueryDict(mutable=True)
        listed.update({key: value for key, value in {"type": contact_type, "optout": optout, "sort": sort}.items() if value})
        if listed:
            queryset = ContactFilter(listed, queryset=queryset).qs
        writer = write_csv if path.lower().endswith(".csv") else write_xlsx
        total = queryset.count()
        output, count = writer(queryset, progress=lambda done: self.progress(done, total))
        try:
            with open(path, "wb") as destination:
                shutil.copyfileobj(output, destination)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}") from None
        with recording(source=Source.COMMAND):
            audit_record(
                action=AuditEvent.Action.EXPORT,
                parameters={
                    "file": path, "q": q, "wallet": wallet, "tag": tag, "birthday": birthday or "", "segment": segment,
                    "type": contact_type or "", "optout": optout or "", "imported": imported, "sort": sort or "",
                },
                counts={"rows": count},
            )
        if sys.stderr.isatty():
            self.stderr.write("")
        self.stdout.write(f"Exported {count} contacts to {path}.")

    def segment_contacts(self, name: str):
        """The contacts of the segment named `name`, as its owner sees
        them in the list; a segment that no longer applies is an error."""
        found = list(Segment.objects.filter(name__iexact=name.strip()).select_related("owner").order_by("-shared", "id"))
        if not found:
            raise CommandError(f"There is no segment named {name!r}.")
        if len(found) > 1 and not (found[0].shared and not found[1].shared):
            owners = ", ".join(sorted(segment.owner.username for segment in found))
            raise CommandError(f"Several segments are named {name!r} (owners: {owners}); rename one of them.")
        filterset = ContactFilter.for_user(found[0].owner, {"segment": found[0].pk})
        if filterset.segment_problem:
            raise CommandError(filterset.segment_problem)
        return filterset.qs

    def import_job(self, token: str) -> Job:
        """The finished import of that token, whoever ran it."""
        try:
            token = uuid.UUID(token.strip())
        except ValueError:
            raise CommandError(f"{token!r} is not an import's token (like 0f8e6c1a-…, from its page's address).") from None
        job = Job.objects.filter(token=token, kind=Job.Kind.IMPORT, status=Job.Status.DONE).first()
        if job is None:
            raise CommandError(f"There is no finished import with the token {token}.")
        return job

    def progress(self, done: int, total: int) -> None:
        if sys.stderr.isatty():
            self.stderr.write(f"\r{done:,} / {total:,} rows…", ending="")
