"""A failed job keeps its technical details apart from what its user reads,
and task workers record when they were last seen."""

from django.db import migrations, models

from contacts_portal.migrating import grant

# What a failure said before: "The job failed: KeyError", in the language of
# whoever started the job.
OLD_FAILURE_STARTS = ("The job failed: ", "A tarefa falhou: ")


def grant_administrators(apps, schema_editor):
    """Administrators see which workers are on, in admin."""
    grant(apps, group="Administrators", app_label="jobs", codenames=["view_worker"])


def move_class_names_to_details(apps, schema_editor):
    """An old failure showed the exception's class name to the user: it
    becomes the details, and the page says the generic message."""
    Job = apps.get_model("jobs", "Job")
    for start in OLD_FAILURE_STARTS:
        for job in Job.objects.filter(status="failed", error__startswith=start).only("pk", "error"):
            Job.objects.filter(pk=job.pk).update(error="", error_detail=job.error[len(start) :])


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0003_sync_jobs_copied'),
    ]

    operations = [
        migrations.CreateModel(
            name='Worker',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('worker_id', models.CharField(max_length=64, unique=True, verbose_name='worker id')),
                ('host', models.CharField(max_length=255, verbose_name='host')),
                ('pid', models.PositiveIntegerField(verbose_name='process id')),
                ('started_at', models.DateTimeField(verbose_name='started at')),
                ('seen_at', models.DateTimeField(db_index=True, verbose_name='last seen at')),
            ],
            options={
                'verbose_name': 'task worker',
                'verbose_name_plural': 'task workers',
                'ordering': ['-seen_at'],
            },
        ),
        migrations.AddField(
            model_name='job',
            name='error_detail',
            field=models.TextField(blank=True, verbose_name='error details'),
        ),
        migrations.RunPython(move_class_names_to_details, migrations.RunPython.noop),
        migrations.RunPython(grant_administrators, migrations.RunPython.noop),
    ]
