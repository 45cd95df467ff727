from django.core.management.base import BaseCommand, CommandError

from audit.recording import Source, recording
from contacts.models import MergeRecord
from dedup.merging.undo import UnmergeRefused, merge_undo


class Command(BaseCommand):
    help = (
        "Undo a merge of duplicates (its merge record's id, as the survivor's history and admin show it): "
        "the merged contacts come back with their tickets and messages."
    )

    def add_arguments(self, parser):
        parser.add_argument("merge_id", type=int, help="The merge record's id.")

    def handle(self, *args, merge_id, **options):
        record = MergeRecord.objects.filter(pk=merge_id).first()
        if record is None:
            raise CommandError(f"No merge {merge_id}.")
        try:
            with recording(source=Source.COMMAND):
                result = merge_undo(record=record)
        except UnmergeRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            f"Merge {merge_id} undone: {result.contacts} contacts back, {result.tickets} tickets and {result.messages} messages returned."
        )
