from django.contrib import admin

from contacts_portal.admin import ReadOnlyAdmin

from .models import Job, Worker


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Every job, with its counts and errors (the files are their owners'
    only, through the panel)."""

    list_display = ["created_at", "kind", "user", "status", "file_name", "done", "total"]
    list_filter = ["kind", "status", ("user", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fields = ["kind", "user", "status", "file_name", "created_at", "started_at", "finished_at", "step", "total", "done", "parameters", "result", "error", "error_detail"]


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    """The task workers that are on (`manage.py db_worker`), the queues each
    serves, and when each was last seen."""

    list_display = ["host", "pid", "worker_id", "queues", "excluded_queues", "started_at", "seen_at"]
