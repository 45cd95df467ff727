"""A failed job says what happened in the user's words and what to do,
never an exception's name; "Run again" starts its work anew, or says why
it cannot."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse

from contacts.tests.factories import ContactFactory
from jobs.models import Job
from jobs.tasks import run_job

pytestmark = pytest.mark.django_db

GENERIC = "Algo inesperado deu errado no servidor"


def failed_export(user, monkeypatch, error: Exception) -> Job:
    """An export whose writer breaks as `error`, run as a worker runs it."""

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr("contacts.transfer.exporting.write_csv", broken)
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=user, parameters={"format": "csv", "language": "pt-br"})
    run_job.call(job.pk)
    monkeypatch.undo()
    return Job.objects.get(pk=job.pk)


def import_job(user, *, with_file: bool, **fields) -> Job:
    job = Job.objects.create(
        kind=Job.Kind.IMPORT, user=user, file_name="clientes.csv", parameters={"mapping": ["name", "number"], "language": "pt-br"}, **fields
    )
    if with_file:
        job.source_file.save("clientes.csv", ContentFile("Nome;Telefone\r\nAna;11987654321\r\n".encode()))
    else:
        Job.objects.filter(pk=job.pk).update(source_file=f"jobs/{job.token}/clientes.csv")  # removed since
        job.refresh_from_db()
    return job


def test_an_unexpected_failure_says_so_in_plain_words_and_keeps_the_details_for_administrators(admin_client, admin_user, monkeypatch):
    job = failed_export(admin_user, monkeypatch, KeyError("coluna_secreta"))
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert job.status == Job.Status.FAILED
    assert GENERIC in page and "peça ao administrador" not in page
    assert "KeyError" not in page and "coluna_secreta" not in page and "Traceback" not in page
    assert "KeyError: 'coluna_secreta'" in job.error_detail and "Traceback" in job.error_detail
    admin_user.is_staff = True
    admin_user.save()
    admin_page = admin_client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert "coluna_secreta" in admin_page


def test_a_known_failure_says_what_happened_and_what_to_do(admin_client, admin_user, monkeypatch):
    job = failed_export(admin_user, monkeypatch, OSError(28, "No space left on device"))
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "O servidor ficou sem espaço em disco ao gravar o arquivo. Avise o administrador e depois execute de novo." in page
    assert "OSError" not in page and "No space left" not in page


def test_an_import_whose_file_is_gone_says_to_send_it_again(admin_client, admin_user):
    job = import_job(admin_user, with_file=False)
    run_job.call(job.pk)
    job.refresh_from_db()
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert job.status == Job.Status.FAILED and "FileNotFoundError" not in page
    assert "O arquivo desta tarefa não está mais no servidor (os arquivos são guardados por 7 dias). Envie o arquivo de novo." in page


def test_run_again_starts_a_new_job_that_does_the_work(admin_client, admin_user, monkeypatch, django_capture_on_commit_callbacks):
    ContactFactory(name="Maria")
    job = failed_export(admin_user, monkeypatch, KeyError("x"))
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert f'action="{reverse("jobs:again", args=[job.token])}"' in page and "Executar de novo" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("jobs:again", args=[job.token]))
    again = Job.objects.exclude(pk=job.pk).get()
    assert response.url == again.get_absolute_url()
    again.refresh_from_db()
    assert again.status == Job.Status.DONE and again.result == {"rows": 1, "format": "csv"}
    assert again.parameters["again_of"] == str(job.token) and again.user == admin_user
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED  # the failure stays, as a record


def test_run_again_of_an_import_reads_the_same_uploaded_file(admin_client, admin_user, django_capture_on_commit_callbacks):
    job = import_job(admin_user, with_file=True)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="A tarefa falhou.")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("jobs:again", args=[job.token]))
    again = Job.objects.exclude(pk=job.pk).get()
    assert (again.status, again.result["created"], again.source_file.name) == (Job.Status.DONE, 1, job.source_file.name), again.error


def test_run_again_says_why_it_cannot_when_the_uploaded_file_was_removed(admin_client, admin_user):
    job = import_job(admin_user, with_file=False, status=Job.Status.FAILED)
    page = admin_client.get(job.get_absolute_url()).content.decode()
    reason = "O arquivo que você enviou não está mais no servidor (os arquivos são guardados por 7 dias), então não dá para executar de novo: envie o arquivo de novo."
    assert reason in page and "jobs:again" not in page and reverse("jobs:again", args=[job.token]) not in page
    assert f'href="{reverse("contacts:import")}"' in page  # start over
    response = admin_client.post(reverse("jobs:again", args=[job.token]), follow=True)
    assert response.redirect_chain[-1][0] == job.get_absolute_url()
    assert reason in response.content.decode()
    assert Job.objects.count() == 1


def test_a_job_that_did_not_fail_is_not_run_again(admin_client, admin_user):
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, status=Job.Status.DONE, result={"rows": 0})
    response = admin_client.post(reverse("jobs:again", args=[job.token]), follow=True)
    assert "Só uma tarefa que falhou ou parou pode ser executada de novo." in response.content.decode()
    assert Job.objects.count() == 1


def test_only_the_user_who_started_a_job_may_run_it_again(client, admin_user, agent, monkeypatch):
    job = failed_export(admin_user, monkeypatch, KeyError("x"))
    url = reverse("jobs:again", args=[job.token])
    assert client.post(url).status_code == 302  # to the log-in page
    client.force_login(agent)
    assert client.post(url).status_code == 404
    assert Job.objects.count() == 1


def test_a_user_who_lost_the_right_to_import_cannot_run_an_import_again(client, agent):
    agent.user_permissions.add(Permission.objects.get(codename="import_contacts"))
    job = import_job(agent, with_file=True, status=Job.Status.FAILED)
    agent.user_permissions.clear()
    client.force_login(agent)
    response = client.post(reverse("jobs:again", args=[job.token]), follow=True)
    assert "Você não tem mais permissão para executar este tipo de tarefa." in response.content.decode()
    assert Job.objects.count() == 1
