"""A task queued before an upgrade names its old path; a worker after it
still runs the job."""

import pytest

from contacts import tasks as contacts_tasks
from jobs.models import Job
from tickets import tasks as tickets_tasks

pytestmark = pytest.mark.django_db


def test_an_export_queued_under_its_old_task_still_runs(admin_user):
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, parameters={"format": "csv"})
    contacts_tasks.run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.result_file


def test_a_sync_queued_under_its_old_task_and_number_still_runs(admin_user):
    job = Job.objects.create(kind=Job.Kind.SYNC, user=admin_user, parameters={"sync_job": 41})
    tickets_tasks.run_sync_job.call(41)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and "contacts_created" in job.result
