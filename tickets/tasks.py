"""The syncs as background jobs (django.tasks; `manage.py db_worker` runs
them): the request that presses the button only creates the SyncJob and
enqueues this task, which writes its progress on the job as it goes."""

import logging

from django.db import transaction
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.recording import Source

from .models import SyncJob
from .sync import sync_contacts, sync_groups

logger = logging.getLogger(__name__)


def job_start(*, kind: str, user, language: str) -> SyncJob:
    """Create a sync job and enqueue it once the job is committed."""
    job = SyncJob.objects.create(kind=kind, user=user, language=language)
    transaction.on_commit(lambda: run_sync_job.enqueue(job.pk))
    return job


@task
def run_sync_job(job_id: int) -> dict:
    job = SyncJob.objects.select_related("user").get(pk=job_id)
    if job.status != SyncJob.Status.QUEUED:
        return job.counts  # enqueued twice: the first run does the work
    SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.RUNNING, started_at=timezone.now())

    def progress(step: str, done: int, total: int) -> None:
        SyncJob.objects.filter(pk=job.pk).update(step=step, done=done, total=total)

    service = sync_groups if job.kind == SyncJob.Kind.GROUPS else sync_contacts
    with translation.override(job.language):
        try:
            report = service(user=job.user, progress=progress, audit_source=Source.PANEL)
        except Exception:
            logger.exception("Sync job %s failed", job.pk)
            SyncJob.objects.filter(pk=job.pk).update(
                status=SyncJob.Status.FAILED,
                finished_at=timezone.now(),
                notes=[_("The sync stopped because of an unexpected error. What was done up to then is kept; run it again to finish.")],
            )
            raise
    SyncJob.objects.filter(pk=job.pk).update(
        status=SyncJob.Status.DONE, finished_at=timezone.now(), counts=report.counts, notes=report.notes
    )
    return report.counts
