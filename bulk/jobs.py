"""Bulk actions as jobs: the action itself (counted and waiting for its
confirmation, then running) and its undo, registered with the jobs app."""

from django.utils.translation import gettext_lazy as _

from audit.recording import Source
from jobs.registry import JobKind, register

from .models import Member


def run(job) -> None:
    from .services import bulk_run

    bulk_run(job)


def undo(job) -> None:
    from .services import bulk_undo_run

    bulk_undo_run(job)


def expire(cutoff) -> None:
    # The fixed sets of old actions: past the retention they cannot be undone.
    Member.objects.filter(job__created_at__lt=cutoff).delete()


def register_kinds() -> None:
    from .views import bulk_page_context, bulk_page_post

    common = {
        "source": Source.BULK,
        "page_template": "bulk/job.html",
        "unit": "items",
        "context": bulk_page_context,
        "post": bulk_page_post,
    }
    register(
        "bulk",
        JobKind(
            run=run,
            result_template="bulk/_result.html",
            running=_("Changing the contacts…"),
            failure_note=_("The contacts changed before the failure stay changed."),
            expire=expire,
            **common,
        ),
    )
    register(
        "bulk_undo",
        JobKind(
            run=undo,
            result_template="bulk/_undo_result.html",
            running=_("Giving the contacts back what they had…"),
            failure_note=_("The contacts restored before the failure stay restored."),
            **common,
        ),
    )
