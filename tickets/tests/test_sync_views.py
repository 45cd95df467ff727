"""The "Sincronizar" and "Sincronizar grupos" buttons: administrators only,
a background job, its progress, and the list showing the new contacts."""

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact
from jobs.models import Job
from jobs.tasks import run_job
from tickets import jobs
from tickets.models import Message

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def unknown_sender(whatsapp):
    return Message.objects.create(
        channel=whatsapp,
        external_id="A1",
        chat_id="5511987654321@s.whatsapp.net",
        chat_identity="5511987654321",
        sender_name="Maria Souza",
        body="Oi",
        sent_at="2026-11-25T10:00:00Z",
    )


def test_administrators_see_the_buttons_and_agents_do_not(client, admin_user, agent):
    client.force_login(admin_user)
    page = client.get(reverse("contacts:list")).content.decode()
    assert page.count(f'action="{reverse("tickets:sync")}"') == 2
    client.force_login(agent)
    assert reverse("tickets:sync") not in client.get(reverse("contacts:list")).content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_button_runs_the_sync_in_the_background_and_shows_what_it_did(admin_client, admin_user, unknown_sender, settings):
    # A backend that runs each task as soon as it is enqueued (once the
    # request's job is committed), where production has a worker.
    settings.TASKS = IMMEDIATE
    response = admin_client.post(
        reverse("tickets:sync"),
        {"kind": "contacts"},
        headers={**HTMX, "HX-Current-URL": "http://testserver/contacts/?q=maria&sort=newest"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    job = Job.objects.get()
    assert (job.status, job.kind, job.user, job.result["contacts_created"]) == ("done", "sync", admin_user, 1)
    assert "Concluída." in content and "Contatos criados" in content
    # The list under the popup is fetched again, with its filters.
    assert 'hx-get="/contacts/?q=maria&amp;sort=newest"' in content
    assert Contact.objects.get().name == "Maria Souza"


def test_without_javascript_the_button_leads_to_the_jobs_page(admin_client, unknown_sender):
    response = admin_client.post(reverse("tickets:sync"), {"kind": "groups"})
    job = Job.objects.get()
    assert job.kind == "sync_groups"
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    page = admin_client.get(response.url).content.decode()
    # The default backend waits for `manage.py db_worker`.
    assert "Aguardando um processador…" in page
    assert '<meta http-equiv="refresh" content="2">' in page


def test_a_running_job_is_polled_and_shows_its_step(admin_client, admin_user):
    job = Job.objects.create(kind="sync", user=admin_user, status="running", step="contacts", done=250, total=1000)
    content = admin_client.get(job.get_absolute_url(), headers=HTMX).content.decode()
    assert f'hx-get="{job.get_absolute_url()}"' in content
    assert "Criando contatos" in content and "250 de 1.000" in content
    assert 'value="250" max="1000"' in content


def test_the_worker_runs_a_queued_job(unknown_sender, admin_user):
    job = Job.objects.create(kind="sync", user=admin_user)
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.result["contacts_created"] == 1
    assert job.started_at and job.finished_at
    # A second delivery of the same task does not run it again.
    run_job.call(job.pk)
    assert Job.objects.get(pk=job.pk).finished_at == job.finished_at
    assert Contact.objects.count() == 1


def test_a_job_that_breaks_says_so(monkeypatch, admin_user):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs.sync, "sync_contacts", broken)
    job = Job.objects.create(kind="sync", user=admin_user)
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "RuntimeError" not in job.error and "RuntimeError: disk full" in job.error_detail
    page = client_for(admin_user).get(job.get_absolute_url()).content.decode()
    assert "A sincronização parou por um erro inesperado. O que foi feito até então fica guardado; rode-a de novo para terminar." in page


def test_notes_are_written_in_the_language_of_who_started_it(monkeypatch, admin_user, whatsapp, unknown_sender):
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = "http://127.0.0.1:9", "vendas", "k"
    whatsapp.save()
    job = Job.objects.create(kind="sync", user=admin_user, parameters={"language": "en"})
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.result["notes"][0].startswith("WhatsApp Vendas: The gateway could not be reached")


def test_a_syncs_old_address_leads_to_its_job(admin_client, admin_user):
    job = Job.objects.create(kind="sync", user=admin_user, parameters={"sync_job": 7})
    response = admin_client.get(reverse("tickets:job", args=[7]))
    assert (response.status_code, response["Location"]) == (307, job.get_absolute_url())


def test_agents_cannot_sync(agent_client):
    assert agent_client.post(reverse("tickets:sync"), {"kind": "contacts"}).status_code == 403
    assert not Job.objects.exists()


def test_an_unknown_kind_is_sent_back(admin_client):
    response = admin_client.post(reverse("tickets:sync"), {"kind": "everything"}, follow=True)
    assert "Escolha o que sincronizar." in response.content.decode()
    assert not Job.objects.exists()


def client_for(user):
    client = Client()
    client.force_login(user)
    return client
