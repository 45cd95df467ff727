"""Whether a worker is on: `manage.py db_worker` records a heartbeat, and a
waiting job says when nobody is there to run it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job, Worker
from jobs.tasks import run_job
from jobs.workers import last_worker_heartbeat

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
NO_WORKER = "Nenhum processador ativo: peça ao administrador para iniciar <code>manage.py db_worker</code>."


def worker_seen(seconds_ago: int, **queues) -> Worker:
    now = timezone.now()
    return Worker.objects.create(
        worker_id=f"w{seconds_ago}", host="app-1", pid=4242, started_at=now - timedelta(hours=1), seen_at=now - timedelta(seconds=seconds_ago), **queues
    )


def waiting_import(user) -> Job:
    return Job.objects.create(kind=Job.Kind.IMPORT, user=user, status=Job.Status.QUEUED)


def test_a_waiting_job_says_no_worker_is_on_when_none_was_ever_seen(admin_client, admin_user):
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, parameters={"format": "csv"})
    assert NO_WORKER in admin_client.get(job.get_absolute_url()).content.decode()
    fragment = admin_client.get(job.get_absolute_url(), headers=HTMX).content.decode()
    assert NO_WORKER in fragment and "hx-get" in fragment  # it goes on asking: a worker may start


def test_a_waiting_job_just_waits_while_a_worker_was_seen_in_the_last_minute(admin_client, admin_user):
    worker_seen(seconds_ago=20)
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, parameters={"format": "csv"})
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert NO_WORKER not in page and "Aguardando um processador…" in page


def test_a_worker_not_seen_for_more_than_a_minute_counts_as_gone(admin_client, admin_user):
    worker_seen(seconds_ago=90)
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, parameters={"format": "csv"})
    assert NO_WORKER in admin_client.get(job.get_absolute_url()).content.decode()


def test_a_job_that_reports_progress_shows_a_worker_is_on_even_between_its_beats(admin_client, admin_user):
    worker_seen(seconds_ago=600)  # busy with a long step
    running = Job.objects.create(kind=Job.Kind.IMPORT, user=admin_user, status=Job.Status.RUNNING, heartbeat_at=timezone.now())
    waiting = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, parameters={"format": "csv"})
    assert last_worker_heartbeat() == running.heartbeat_at
    assert NO_WORKER not in admin_client.get(waiting.get_absolute_url()).content.decode()


def test_a_worker_only_on_the_media_queue_does_not_count_for_a_waiting_import(admin_client, admin_user):
    worker_seen(seconds_ago=5, queues="media")  # manage.py db_worker --queue-name media
    assert NO_WORKER in admin_client.get(waiting_import(admin_user).get_absolute_url()).content.decode()


def test_a_worker_on_the_default_queue_counts_for_a_waiting_import(admin_client, admin_user):
    worker_seen(seconds_ago=5, queues="default")
    page = admin_client.get(waiting_import(admin_user).get_absolute_url()).content.decode()
    assert NO_WORKER not in page and "Aguardando um processador…" in page


@pytest.mark.parametrize("queues", ["default,media", "*"])
def test_a_worker_on_both_queues_or_on_every_queue_counts_for_both(admin_client, admin_user, queues):
    worker_seen(seconds_ago=5, queues=queues)
    assert Worker.objects.any_on(queue_name="default") and Worker.objects.any_on(queue_name="media")
    assert NO_WORKER not in admin_client.get(waiting_import(admin_user).get_absolute_url()).content.decode()


def test_a_worker_on_every_queue_but_the_default_one_does_not_count_for_a_waiting_import(admin_client, admin_user):
    worker_seen(seconds_ago=5, queues="*", excluded_queues="default")
    assert Worker.objects.any_on(queue_name="media")
    assert NO_WORKER in admin_client.get(waiting_import(admin_user).get_absolute_url()).content.decode()


def test_a_running_jobs_progress_counts_for_the_jobs_queue_only(admin_user):
    worker_seen(seconds_ago=600)
    Job.objects.create(kind=Job.Kind.IMPORT, user=admin_user, status=Job.Status.RUNNING, heartbeat_at=timezone.now())
    assert Worker.objects.any_on(queue_name="default")
    assert not Worker.objects.any_on(queue_name="media")


def test_a_job_waiting_on_another_queue_names_the_command_that_serves_it(admin_client, admin_user, monkeypatch):
    monkeypatch.setattr(Job, "QUEUE_NAME", "media")
    worker_seen(seconds_ago=5, queues="default")
    job = waiting_import(admin_user)
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "Nenhum processador ativo para a fila desta tarefa: peça ao administrador para iniciar <code>manage.py db_worker --queue-name media</code>." in page
    assert NO_WORKER not in page
    worker_seen(seconds_ago=1, queues="media")
    assert "Nenhum processador ativo" not in admin_client.get(job.get_absolute_url()).content.decode()


def test_admin_lists_the_queues_each_worker_serves(admin_client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    worker_seen(seconds_ago=5, queues="*", excluded_queues="media")
    changelist = admin_client.get(reverse("admin:jobs_worker_changelist")).content.decode()
    assert "Filas" in changelist and "Filas excluídas" in changelist
    assert '<td class="field-queues">*</td>' in changelist and '<td class="field-excluded_queues">media</td>' in changelist


def test_a_running_or_finished_job_does_not_speak_of_workers(admin_client, admin_user):
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, status=Job.Status.DONE, result={"rows": 0})
    assert NO_WORKER not in admin_client.get(job.get_absolute_url()).content.decode()


def test_the_last_heartbeat_is_none_before_any_worker_was_seen():
    assert last_worker_heartbeat() is None
    seen = worker_seen(seconds_ago=5)
    assert last_worker_heartbeat() == seen.seen_at


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_db_worker_records_its_heartbeat_while_it_runs_and_leaves_when_it_stops(admin_user, monkeypatch):
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, parameters={"format": "csv"})
    run_job.enqueue(job_id=job.pk)
    seen_while_running = []
    monkeypatch.setattr("jobs.management.commands.db_worker.forget_worker", lambda worker_id: seen_while_running.extend(Worker.objects.all()))
    before = timezone.now()
    call_command("db_worker", batch=True, interval=0, reload=False, verbosity=0, worker_id="worker-test")
    assert Job.objects.get(pk=job.pk).status == Job.Status.DONE
    (worker,) = seen_while_running
    assert worker.worker_id == "worker-test" and worker.pid > 0 and worker.host
    assert before <= worker.seen_at <= timezone.now()
    monkeypatch.undo()
    call_command("db_worker", batch=True, interval=0, reload=False, verbosity=0, worker_id="worker-test")
    assert not Worker.objects.exists()  # it said goodbye


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "media"]}})
@pytest.mark.parametrize(
    ("options", "queues", "excluded_queues"),
    [
        ({}, "default", ""),
        ({"queue_name": "media"}, "media", ""),
        ({"queue_name": "default,media"}, "default,media", ""),
        ({"queue_name": "*", "exclude_queues": "media"}, "*", "media"),
    ],
    ids=["plain", "media", "default-and-media", "every-queue-but-media"],
)
def test_db_worker_records_the_queues_it_serves(monkeypatch, options, queues, excluded_queues):
    seen_while_running = []
    monkeypatch.setattr("jobs.management.commands.db_worker.forget_worker", lambda worker_id: seen_while_running.extend(Worker.objects.all()))
    call_command("db_worker", batch=True, interval=0, reload=False, verbosity=0, worker_id="worker-test", **options)
    (worker,) = seen_while_running
    assert (worker.queues, worker.excluded_queues) == (queues, excluded_queues)


def test_a_worker_started_again_under_its_id_records_the_queues_it_serves_now():
    from jobs.workers import record_heartbeat

    record_heartbeat(worker_id="fixed-id", started_at=timezone.now(), queue_names=["media"])
    record_heartbeat(worker_id="fixed-id", started_at=timezone.now(), queue_names=["default"], excluded_queue_names=["media"])
    assert list(Worker.objects.values_list("queues", "excluded_queues")) == [("default", "media")]
