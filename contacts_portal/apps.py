from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class TasksDatabaseConfig(TasksAppConfig):
    """django-tasks-db, under a translated name in admin (the package's is
    a plain English string)."""

    verbose_name = _("Background tasks")
