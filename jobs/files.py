"""The files of jobs (an uploaded spreadsheet, an export, an error report):
stored through Django's storage API under a random folder per job, kept
JOB_FILE_RETENTION_DAYS days."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import Job
from .registry import kinds

FILE_FIELDS = ("source_file", "result_file", "report_file")


def purge_expired_job_files() -> int:
    """Remove the files of jobs older than JOB_FILE_RETENTION_DAYS (the jobs
    stay, as a record), and what a kind keeps beside its jobs. Returns how many jobs lost their files."""
    cutoff = timezone.now() - timedelta(days=settings.JOB_FILE_RETENTION_DAYS)
    purged = 0
    for job in Job.objects.filter(created_at__lt=cutoff).exclude(source_file="", result_file="", report_file=""):
        for name in FILE_FIELDS:
            file = getattr(job, name)
            if file:
                file.storage.delete(file.name)
        Job.objects.filter(pk=job.pk).update(**dict.fromkeys(FILE_FIELDS, ""))
        purged += 1
    for kind in kinds():
        if kind.expire is not None:
            kind.expire(cutoff)
    return purged
