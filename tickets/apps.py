from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from contacts import deletion
        from contacts.tabs import ContactTab, register

        from . import jobs, media

        jobs.register_kinds()
        # A deleted contact's tickets take their messages' files with them.
        deletion.register("tickets.media", media.contacts_deleting)
        # "Conversas" in a contact's popup and pages: its tickets.
        register(ContactTab(key="tickets", label=_("Conversations"), url_name="tickets:contact_tickets", permission="tickets.view_ticket"))
