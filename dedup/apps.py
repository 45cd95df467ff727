from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupConfig(AppConfig):
    name = "dedup"
    verbose_name = _("Duplicate removal")

    def ready(self):
        from tickets import identities

        from . import jobs
        from .merging import merge_revealed

        jobs.register_kinds()
        identities.merge_with(merge_revealed)
