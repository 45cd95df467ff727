from django.core.management.base import BaseCommand, CommandError

from audit.recording import Source, recording
from contacts.models import Contact
from lgpd.erasure import erasure_counts, personal_data_erase
from lgpd.traces import traces_of


def _said(counts: dict) -> str:
    return ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in counts.items() if value and key != "tickets_kept")


class Command(BaseCommand):
    help = (
        "Erase a contact's personal data everywhere (LGPD art. 18, VI): fields, identities, extra fields, photo, "
        "message texts and media, history, merge snapshots, opt-out evidence, rows in stored job files. "
        "Its tickets stay, without who the person was. Without --confirm, says what would be erased and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("contact_id", type=int, help="The contact's id.")
        parser.add_argument("--confirm", action="store_true", help="Erase for real.")

    def handle(self, *args, contact_id, confirm, **options):
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise CommandError(f"No contact {contact_id}.")
        counts = erasure_counts(traces_of(contact))
        if not confirm:
            raise CommandError(
                f"Nothing erased: add --confirm to erase contact {contact_id} ({contact.name}). "
                f"Would erase {_said(counts)}; {counts['tickets_kept']} tickets stay without who the person was."
            )
        with recording(source=Source.COMMAND):
            erasure = personal_data_erase(contact=contact)
        self.stdout.write(f"Personal data of contact {contact_id} erased ({_said(erasure.counts)}).")
