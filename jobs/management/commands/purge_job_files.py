from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.files import purge_expired_job_files


class Command(BaseCommand):
    help = "Remove the files (uploads, exports, error reports) of jobs older than JOB_FILE_RETENTION_DAYS; the jobs stay as a record."

    def handle(self, *args, **options):
        purged = purge_expired_job_files()
        self.stdout.write(f"Removed the files of {purged} jobs older than {settings.JOB_FILE_RETENTION_DAYS} days.")
