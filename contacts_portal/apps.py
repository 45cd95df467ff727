from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class PortalConfig(AppConfig):
    """The site as a whole: what every process does on start."""

    name = "contacts_portal"
    verbose_name = "Contacts Portal"

    def ready(self):
        from contacts_portal.database import lower_backend_priority

        connection_created.connect(lower_backend_priority, dispatch_uid="lower_backend_priority")


class TasksDatabaseConfig(TasksAppConfig):
    """django-tasks-db, under a translated name in admin (the package's is
    a plain English string)."""

    verbose_name = _("Background tasks")
