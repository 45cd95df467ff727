from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from contacts.tabs import ContactTab, register

        from . import jobs

        jobs.register_kinds()
        # "Conversas" in a contact's popup and pages: its tickets.
        register(ContactTab(key="tickets", label=_("Conversations"), url_name="tickets:contact_tickets", permission="tickets.view_ticket"))
