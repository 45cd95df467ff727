from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LgpdConfig(AppConfig):
    name = "lgpd"
    verbose_name = _("LGPD")

    def ready(self):
        from contacts.tabs import ContactTab, register

        register(ContactTab(key="lgpd", label=_("LGPD"), url_name="lgpd:contact", permission="lgpd.report_personal_data"))
