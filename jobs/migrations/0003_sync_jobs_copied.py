"""The syncs become jobs like the others: every sync job is copied over,
remembering its old number (parameters.sync_job) for its old address."""

import uuid

from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations

KINDS = {"contacts": "sync", "groups": "sync_groups"}


def copy_sync_jobs(apps, schema_editor):
    SyncJob = apps.get_model("tickets", "SyncJob")
    Job = apps.get_model("jobs", "Job")
    for old in SyncJob.objects.order_by("pk").iterator():
        job = Job.objects.create(
            token=uuid.uuid4(),
            kind=KINDS.get(old.kind, "sync"),
            user_id=old.user_id,
            status=old.status,
            step=old.step,
            done=old.done,
            total=old.total,
            parameters={"language": old.language, "sync_job": old.pk},
            result={**(old.counts or {}), "notes": old.notes or []},
            started_at=old.started_at,
            finished_at=old.finished_at,
            # A sync that was running when this ran is judged by when it
            # started: stalled, unless it ends.
            heartbeat_at=(old.started_at or old.created_at) if old.status == "running" else None,
        )
        # auto_now_add stamped it now; the job is as old as the sync.
        Job.objects.filter(pk=job.pk).update(created_at=old.created_at)


def copy_jobs_back(apps, schema_editor):
    SyncJob = apps.get_model("tickets", "SyncJob")
    Job = apps.get_model("jobs", "Job")
    kinds = {kind: name for name, kind in KINDS.items()}
    jobs = list(Job.objects.filter(kind__in=kinds).order_by("pk"))
    numbers = [job.parameters.get("sync_job") for job in jobs]
    following = max(filter(None, numbers), default=0)
    for job, number in zip(jobs, numbers, strict=True):
        if number is None:  # a sync started since: numbered after the others
            following += 1
            number = following
        old = SyncJob.objects.create(
            pk=number,  # its old address again
            kind=kinds[job.kind],
            user_id=job.user_id,
            status=job.status,
            step=job.step,
            done=job.done,
            total=job.total,
            language=job.parameters.get("language") or settings.LANGUAGE_CODE,
            counts={key: value for key, value in job.result.items() if key != "notes"},
            notes=job.result.get("notes", []),
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
        SyncJob.objects.filter(pk=old.pk).update(created_at=job.created_at)
    Job.objects.filter(kind__in=kinds).delete()
    with schema_editor.connection.cursor() as cursor:  # numbers given by hand: the sequence follows
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [SyncJob]):
            cursor.execute(sql)
    # Jobs had to have a user before: those whose user was deleted since
    # would have gone with the user.
    Job.objects.filter(user__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0002_sync_jobs"),
        ("tickets", "0004_ticket_merged_into"),
    ]

    operations = [
        migrations.RunPython(copy_sync_jobs, copy_jobs_back),
    ]
