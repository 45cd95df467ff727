"""Minhas importações e exportações: each user finds their past imports
and exports, with status, when and counts, and downloads their files until
they expire; an administrator may list everyone's."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job

pytestmark = pytest.mark.django_db

LIST = reverse("jobs:list")


def export_job(user, *, days_ago: float = 0, rows: int = 3, **fields) -> Job:
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=user, status=Job.Status.DONE, result={"rows": rows, "format": "csv"}, **fields)
    job.result_file.save("contatos.csv", ContentFile(b"Nome\r\n"))
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return Job.objects.get(pk=job.pk)


def import_job(user, **fields) -> Job:
    job = Job.objects.create(
        kind=Job.Kind.IMPORT, user=user, status=Job.Status.DONE, file_name="clientes.xlsx",
        result={"rows": 10, "created": 4, "updated": 3, "unchanged": 2, "rejected": 1}, **fields,
    )
    job.report_file.save("erros.xlsx", ContentFile(b"x"))
    return job


def test_my_jobs_lists_my_imports_and_exports_newest_first_with_status_when_counts_and_files(client, agent):
    agent.user_permissions.add(*Permission.objects.filter(codename__in=["import_contacts", "export_contacts"]))
    client.force_login(agent)
    older = export_job(agent, days_ago=1, rows=1234)
    newer = import_job(agent)
    failed = Job.objects.create(kind=Job.Kind.EXPORT, user=agent, status=Job.Status.FAILED, error="x")
    Job.objects.create(kind=Job.Kind.DUPLICATES, user=agent, status=Job.Status.DONE)  # not an import or export
    page = client.get(LIST).content.decode()
    assert "Minhas importações e exportações" in page
    assert page.index(f"job-{failed.token}") < page.index(f"job-{newer.token}") < page.index(f"job-{older.token}")
    assert page.count('<tr id="job-') == 3
    assert "1.234 contatos" in page and "4 novos · 3 atualizados · 2 sem mudança · 1 recusados" in page
    assert "clientes.xlsx" in page and "falhou" in page and "nada foi gravado" in page
    assert older.created_at.astimezone(timezone.get_current_timezone()).strftime("%d/%m/%Y %H:%M") in page
    assert f'href="{reverse("jobs:file", args=[older.token, "result"])}"' in page
    assert f'href="{reverse("jobs:file", args=[newer.token, "report"])}"' in page
    assert f'href="{newer.get_absolute_url()}"' in page
    expires = (older.created_at + timedelta(days=7)).astimezone(timezone.get_current_timezone()).strftime("%d/%m/%Y")
    assert f"até {expires}" in page


def test_the_list_is_reachable_from_the_menu_and_the_contacts_page(admin_client):
    page = admin_client.get(reverse("contacts:list")).content.decode()
    assert page.count(f'href="{LIST}"') == 2  # the menu and the list's actions


def test_nobody_sees_another_users_jobs_or_files(client, agent, other_agent):
    theirs = export_job(other_agent)
    client.force_login(agent)
    page = client.get(LIST).content.decode()
    assert str(theirs.token) not in page and "Você ainda não importou nem exportou contatos." in page
    assert client.get(reverse("jobs:file", args=[theirs.token, "result"])).status_code == 404


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_administrator_may_list_everyones_jobs_but_their_pages_and_files_stay_their_owners(admin_client, admin_user, agent):
    mine = export_job(admin_user)
    theirs = export_job(agent)
    own_page = admin_client.get(LIST).content.decode()
    assert str(mine.token) in own_page and str(theirs.token) not in own_page
    assert f'href="{LIST}?everyone=1"' in own_page
    everyone = admin_client.get(LIST, {"everyone": "1"}).content.decode()
    assert "Importações e exportações de todos" in everyone and "Iniciada por" in everyone
    assert str(mine.token) in everyone and f"job-{theirs.token}" in everyone and agent.get_username() in everyone
    assert reverse("jobs:file", args=[theirs.token, "result"]) not in everyone and theirs.get_absolute_url() not in everyone
    assert admin_client.get(reverse("jobs:file", args=[theirs.token, "result"])).status_code == 404


def test_an_agent_asking_for_everyones_jobs_sees_only_their_own(client, agent, other_agent):
    export_job(other_agent)
    mine = export_job(agent)
    client.force_login(agent)
    page = client.get(LIST, {"everyone": "1"}).content.decode()
    assert page.count('<tr id="job-') == 1 and str(mine.token) in page and f'href="{LIST}?everyone=1"' not in page


def test_a_file_past_the_retention_is_not_offered_and_its_address_says_it_was_removed(admin_client, admin_user, settings):
    settings.JOB_FILE_RETENTION_DAYS = 7
    fresh = export_job(admin_user, days_ago=6.9)
    expired = export_job(admin_user, days_ago=7.1)  # not purged yet: still refused
    page = admin_client.get(LIST).content.decode()
    assert reverse("jobs:file", args=[fresh.token, "result"]) in page
    assert reverse("jobs:file", args=[expired.token, "result"]) not in page and "arquivo removido" in page
    response = admin_client.get(reverse("jobs:file", args=[expired.token, "result"]), follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert "Este arquivo foi removido: os arquivos são guardados por 7 dias depois da tarefa." in response.content.decode()
    assert admin_client.get(reverse("jobs:file", args=[fresh.token, "result"])).status_code == 200


def test_the_list_is_paged_and_a_page_out_of_range_shows_the_last(admin_client, admin_user):
    for n in range(23):
        Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user, status=Job.Status.DONE, result={"rows": n})
    first = admin_client.get(LIST).content.decode()
    assert first.count('<tr id="job-') == 20 and "?page=2" in first
    last = admin_client.get(LIST, {"page": "99"}).content.decode()
    assert last.count('<tr id="job-') == 3
    fragment = admin_client.get(LIST, {"page": "2"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and fragment.count('<tr id="job-') == 3
