from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.recording import Source
from tickets.sync import sync_contacts


class Command(BaseCommand):
    help = (
        "Sincronizar: a contact for every private chat that has talked with the channels (the stored "
        "messages, and the chat lists of the configured WhatsApp gateways), and its messages in tickets. "
        "Existing contacts are left as they are; a second run creates nothing."
    )
    service = staticmethod(sync_contacts)

    def add_arguments(self, parser):
        parser.add_argument("--user", help="the username the new contacts' history and the audit trail name")

    def handle(self, *args, user=None, **options):
        if user is not None:
            try:
                user = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(_("There is no user “%(username)s”.") % {"username": user}) from None
        report = self.service(user=user, audit_source=Source.COMMAND)
        for note in report.notes:
            self.stderr.write(note)
        self.stdout.write(
            _(
                "Contacts created: %(created)d; messages linked: %(linked)d; tickets opened: %(opened)d; "
                "chats skipped for want of a usable number: %(skipped)d."
            )
            % {
                "created": report.created,
                "linked": report.messages_linked,
                "opened": report.tickets_opened,
                "skipped": report.skipped,
            }
        )
