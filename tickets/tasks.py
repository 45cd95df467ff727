"""The tickets' background tasks.

fetch_pending_media fetches the files received messages carry, those never
tried yet; fetch_message_media tries one again (tickets.media). run_sync_job is where the sync's task lived before syncs
were jobs like the others. A task is queued by its path: one queued before
an upgrade still names this one, with the sync's old number, and a worker
after it must find it and run the job that sync became (jobs 0003).
Nothing queues it any more."""

from django.tasks import task

from jobs.models import Job
from jobs.tasks import run_job

from .media import media_drain, media_fetch


@task
def run_sync_job(job_id: int) -> None:
    job = Job.objects.filter(parameters__sync_job=job_id).first()
    if job is not None:
        run_job.call(job.pk)


# On their own queue, with its own worker: behind a long import on the
# default queue, every photo would wait for it.
@task(queue_name="media")
def fetch_pending_media() -> None:
    """Fetch and store the files received and never tried yet (tickets.media)."""
    media_drain()


@task(queue_name="media")
def fetch_message_media(media_id: int) -> None:
    """Fetch and store the file a received message carries, again (tickets.media)."""
    media_fetch(media_id=media_id)
