from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from . import lookups
        from .transfer import jobs

        lookups.register()
        jobs.register_kinds()
