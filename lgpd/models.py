from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonalData(models.Model):
    """No table: the holder of who may answer a person's LGPD requests
    (Lei 13.709/2018, art. 18): the report of what we hold about them and
    the erasure of it. Granted to administrators (migration 0001)."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("personal data")
        verbose_name_plural = _("personal data")
        permissions = [
            ("report_personal_data", _("Can download the LGPD report of a contact")),
            ("erase_personal_data", _("Can erase a contact's personal data (LGPD)")),
        ]
