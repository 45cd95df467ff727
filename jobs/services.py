"""Changes to jobs that a person asks for."""

from django.db import transaction
from django.utils.translation import gettext as _

from .models import Job
from .registry import kind_of
from .tasks import enqueue


class JobCannotRunAgain(Exception):
    """Why a job cannot be run again, in the user's words."""


@transaction.atomic
def job_run_again(*, job: Job, user, language: str) -> Job:
    """A new job doing what a failed one set out to do: the same kind,
    parameters and uploaded file, started by `user` (whose job it is) in
    `language`. The failed job stays as it ended, as a record."""
    kind = kind_of(job)
    if not kind.rerun:
        raise JobCannotRunAgain(_("This kind of job cannot be run again from here."))
    if kind.permission and not user.has_perm(kind.permission):
        raise JobCannotRunAgain(_("You are no longer allowed to run this kind of job."))
    reason = job.rerun_blocker
    if reason:
        raise JobCannotRunAgain(reason)
    again = Job.objects.create(
        kind=job.kind,
        user=user,
        file_name=job.file_name,
        # The same stored upload: it still expires with the first job that
        # kept it, as the user was told when sending it.
        source_file=job.source_file.name,
        parameters={**job.parameters, "language": language, "again_of": str(job.token)},
        total=job.total if job.file_name else 0,
    )
    enqueue(again)
    return again
