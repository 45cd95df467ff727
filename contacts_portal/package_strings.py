"""Strings that Django and the packages the project uses show in admin
without a pt-BR translation (or with another spelling than the product's:
"e-mail"). Listed so that makemessages keeps them in locale/pt_BR, which
takes precedence over the packages' own catalogues."""

from django.utils.translation import gettext_noop

PACKAGE_STRINGS = [
    # Django: the empty choice of a select in admin forms and filters.
    gettext_noop("- Select an option -"),
    # Django: the label of admin's date drill-down.
    gettext_noop("Filter by %(field_name)s"),
    # Django: "e-mail", as the product writes it.
    gettext_noop("Email"),
    gettext_noop("email address"),
    gettext_noop("Enter a valid email address."),
    # django-tasks-db: the background tasks' results in admin.
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("status"),
    gettext_noop("enqueued at"),
    gettext_noop("started at"),
    gettext_noop("finished at"),
    gettext_noop("args kwargs"),
    gettext_noop("priority"),
    gettext_noop("task path"),
    gettext_noop("worker id"),
    gettext_noop("queue name"),
    gettext_noop("backend name"),
    gettext_noop("run after"),
    gettext_noop("return value"),
    gettext_noop("exception class path"),
    gettext_noop("traceback"),
]
