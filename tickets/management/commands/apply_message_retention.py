from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.recording import Source, recording
from tickets.retention import BATCH, messages_expire, retention_cutoff, retention_preview


class Command(BaseCommand):
    help = (
        "Remove the content (text, earlier versions, files) of the messages older than MESSAGE_RETENTION_DAYS, "
        "keeping the tickets and the messages' facts. Meant to run daily; a second run finds nothing to do."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be removed, remove nothing")
        parser.add_argument("--batch-size", type=int, default=BATCH, help=f"messages per transaction (default {BATCH})")

    def handle(self, *args, dry_run, batch_size, **options):
        if batch_size < 1:
            raise CommandError(_("The batch size must be at least 1."))
        before = retention_cutoff()
        if before is None:
            self.stdout.write(_("Message retention is off (MESSAGE_RETENTION_DAYS is not set): nothing removed."))
            return
        if dry_run:
            result = retention_preview(before=before)
            summary = _(
                "Would remove the content of %(messages)d messages sent before %(before)s: "
                "%(edits)d earlier versions and %(media)d files."
            )
        else:
            with recording(source=Source.COMMAND):
                result = messages_expire(before=before, batch_size=batch_size)
            summary = _(
                "Removed the content of %(messages)d messages sent before %(before)s: "
                "%(edits)d earlier versions and %(media)d files."
            )
        self.stdout.write(summary % {**result.counts(), "before": before.isoformat(timespec="seconds")})
