from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BulkConfig(AppConfig):
    name = "bulk"
    verbose_name = _("Bulk actions")

    def ready(self):
        from . import jobs

        jobs.register_kinds()
