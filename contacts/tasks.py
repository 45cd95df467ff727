"""Where the import's and export's task lived before every job ran through
jobs.tasks.run_job. A task is queued by its path: one queued before an
upgrade still names this one, and a worker after it must find it and run
the job the new way. Nothing queues it any more."""

from django.tasks import task

from jobs.tasks import run_job as run


@task()
def run_job(job_id: int) -> None:
    run.call(job_id)
