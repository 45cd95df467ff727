"""Every background job, whatever its kind: who sees it, how it reports,
how it ends, and the addresses it had before every job had one page."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job
from jobs.registry import kind_of
from jobs.tasks import run_job

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def export_job(user, **fields) -> Job:
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=user, **fields)
    job.result_file.save("contatos.csv", ContentFile(b"Nome\r\n"))
    return job


def test_every_kind_of_job_has_a_runner_and_a_page():
    for kind in Job.Kind.values:
        registered = kind_of(Job(kind=kind))
        assert callable(registered.run) and registered.page_template and registered.result_template


def test_a_job_and_its_file_are_seen_only_by_the_user_who_started_it(client, admin_user, agent):
    job = export_job(admin_user, status=Job.Status.DONE, result={"rows": 0})
    page, file = job.get_absolute_url(), reverse("jobs:file", args=[job.token, "result"])
    assert client.get(page).status_code == 302  # to the log-in page
    client.force_login(agent)
    assert client.get(page).status_code == 404
    assert client.get(file).status_code == 404
    client.force_login(admin_user)
    assert client.get(page).status_code == 200
    assert b"".join(client.get(file).streaming_content) == b"Nome\r\n"


def test_a_running_job_polls_its_own_status_with_its_progress(admin_client, admin_user):
    now = timezone.now()
    job = Job.objects.create(
        kind=Job.Kind.IMPORT, user=admin_user, status=Job.Status.RUNNING, started_at=now - timedelta(seconds=4), heartbeat_at=now, done=400, total=1000
    )
    fragment = admin_client.get(job.get_absolute_url(), headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="job-status"')
    assert f'hx-get="{job.get_absolute_url()}"' in fragment
    assert 'value="400" max="1000"' in fragment and "Importando…" in fragment


def test_a_finished_job_stops_polling_and_shows_its_kinds_result(admin_client, admin_user):
    job = export_job(admin_user, status=Job.Status.DONE, result={"rows": 3})
    fragment = admin_client.get(job.get_absolute_url(), headers=HTMX).content.decode()
    assert "hx-get" not in fragment
    assert "3 contatos exportados." in fragment


def test_a_job_that_fails_says_why_and_what_it_left(admin_client, admin_user):
    job = Job.objects.create(kind=Job.Kind.IMPORT, user=admin_user, status=Job.Status.QUEUED)
    job.fail("A planilha está vazia.")
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "A planilha está vazia." in page and "Nada foi gravado." in page
    assert Job.objects.get(pk=job.pk).finished_at is not None


def test_a_job_whose_worker_went_away_says_so(admin_client, admin_user):
    job = Job.objects.create(kind=Job.Kind.MERGE, user=admin_user, status=Job.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert job.is_stalled and job.is_finished
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "A tarefa parou antes de terminar (o processador saiu)." in page


def test_a_job_enqueued_twice_runs_once(admin_user):
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, parameters={"format": "csv"})
    run_job.call(job.pk)
    finished = Job.objects.get(pk=job.pk)
    assert finished.status == Job.Status.DONE and finished.result_file
    assert not finished.start()  # the second delivery finds it done
    run_job.call(job.pk)
    assert Job.objects.get(pk=job.pk).finished_at == finished.finished_at


def test_progress_is_written_at_most_twice_a_second_unless_a_new_step_or_forced(admin_user):
    job = Job.objects.create(kind=Job.Kind.SYNC, user=admin_user, status=Job.Status.RUNNING)
    job.progress(1, 10)
    job.progress(2, 10)
    assert Job.objects.get(pk=job.pk).done == 1
    job.progress(3, 10, step="linking")
    job.progress(4, 10, force=True)
    stored = Job.objects.get(pk=job.pk)
    assert (stored.done, stored.step) == (4, "linking") and stored.heartbeat_at


def test_the_old_addresses_lead_to_the_jobs_page_keeping_the_method(admin_client, admin_user):
    job = export_job(admin_user)
    response = admin_client.post(reverse("contacts:job", args=[job.token]))
    assert (response.status_code, response["Location"]) == (307, job.get_absolute_url())
    response = admin_client.get(reverse("contacts:job_file", args=[job.token, "result"]))
    assert (response.status_code, response["Location"]) == (307, reverse("jobs:file", args=[job.token, "result"]))


def test_a_page_with_nothing_to_post_refuses_a_post(admin_client, admin_user):
    job = export_job(admin_user, status=Job.Status.DONE, result={"rows": 0})
    assert admin_client.post(job.get_absolute_url()).status_code == 404


def test_admin_pages_of_models_that_moved_app_lead_to_their_new_address(admin_client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    assert admin_client.get("/admin/contacts/job/?kind__exact=export")["Location"] == "/admin/jobs/job/?kind__exact=export"
    assert admin_client.get("/admin/contacts/auditevent/7/change/")["Location"] == "/admin/audit/auditevent/7/change/"
    assert admin_client.get("/admin/tickets/syncjob/3/change/")["Location"] == "/admin/jobs/job/?kind__in=sync,sync_groups"
    assert admin_client.get("/admin/jobs/job/?kind__in=sync,sync_groups").status_code == 200
