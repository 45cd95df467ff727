from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.recording import Source, recording
from audit.services import audit_record
from contacts.models import Contact
from lgpd.report import report_json
from lgpd.traces import traces_of


class Command(BaseCommand):
    help = "Write the LGPD report of a contact (everything held about the person) as JSON to PATH."

    def add_arguments(self, parser):
        parser.add_argument("contact_id", type=int, help="The contact's id.")
        parser.add_argument("path", help="Where to write the JSON ('-' for standard output).")

    def handle(self, *args, contact_id, path, **options):
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise CommandError(f"No contact {contact_id}.")
        body = report_json(traces_of(contact))
        if path == "-":
            self.stdout.write(body)
        else:
            try:
                with open(path, "w", encoding="utf-8") as destination:
                    destination.write(body)
            except OSError as error:
                raise CommandError(f"Cannot write {path}: {error.strerror}") from None
        with recording(source=Source.COMMAND):
            audit_record(action=AuditEvent.Action.LGPD_REQUEST, parameters={"request": "report", "contact": contact.pk, "format": "json"})
        if path != "-":
            self.stdout.write(f"LGPD report of contact {contact_id} written to {path}.")
