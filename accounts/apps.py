from axes.apps import AppConfig as BaseAxesConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = _("Accounts")


class AxesConfig(BaseAxesConfig):
    """django-axes, under a name administrators recognise in admin."""

    verbose_name = _("Log-in lock-outs")
