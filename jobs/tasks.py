"""The one task every job runs through (django.tasks on the database
backend: `manage.py db_worker`, as many workers on as many machines as
wanted). A request only creates a Job and enqueues it; a worker does the
work, reports progress on the Job, and leaves its result and files there.

A job that fails says why and leaves nothing half-written: an import writes
in one transaction, a merge group by group, a sync in steps that can run
again. Running a job twice is safe: the second run finds it started.
"""

import logging
import traceback

from django.db import transaction
from django.tasks import task
from django.utils.translation import override

from audit.recording import recording

from .failures import failure_message
from .files import purge_expired_job_files
from .models import Job
from .registry import kind_of

logger = logging.getLogger(__name__)


class JobError(Exception):
    """A failure the user can act on: its text is shown as it is."""


def enqueue(job: Job) -> None:
    """Run the job on a worker once the transaction that created it commits."""
    transaction.on_commit(lambda: run_job.enqueue(job_id=job.pk))


# Job.QUEUE_NAME: the queue whose workers a waiting job's page looks for.
@task(queue_name=Job.QUEUE_NAME)
def run_job(job_id: int) -> None:
    job = Job.objects.select_related("user").get(pk=job_id)
    if not job.start():
        return
    purge_expired_job_files()
    kind = kind_of(job)
    with override(job.language):
        try:
            with recording(source=kind.source, user=job.user):
                result = kind.run(job)
        except JobError as error:
            job.fail(str(error))
            return
        except Exception as error:  # the job says what went wrong, in the user's words
            logger.exception("Job %s failed", job.pk)
            job.fail(failure_message(error), detail=traceback.format_exc())
            return
    if job.status == Job.Status.RUNNING:
        job.finish(result=result)
