"""Remover duplicados in the panel, in admin and as a command."""

from datetime import timedelta
from io import StringIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from contacts.models import Contact, MergeRecord
from dedup.models import DuplicateGroup
from jobs.models import Job

from contacts.tests.factories import WalletFactory, stored_contact

pytestmark = pytest.mark.django_db




@pytest.fixture
def duplicates():
    """Two groups: Maria by number (old 8-digit writing), João by e-mail."""
    return {
        "maria": stored_contact(9, name="Maria Souza", number="5511987654321"),
        "maria 2": stored_contact(2, name="Maria S.", number="551187654321"),
        "joao": stored_contact(8, name="João Lima", email="joao@example.com"),
        "joao 2": stored_contact(1, name="João", email="JOAO@example.com"),
        "ana": stored_contact(5, name="Ana", email="ana@example.com"),
    }


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """Jobs are enqueued once their transaction commits; run them then
    (the test settings run tasks at once)."""

    def post(client, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(*args, **kwargs)

    return post


def search(client, post) -> Job:
    response = post(client, reverse("contacts:duplicates"))
    job = Job.objects.get(kind=Job.Kind.DUPLICATES)
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    return job


def test_an_administrator_searches_sees_the_groups_and_merges_them_all(client, admin_user, duplicates, post):
    client.force_login(admin_user)
    page = client.get(reverse("contacts:list"))
    assert reverse("contacts:duplicates").encode() in page.content
    job = search(client, post)
    page = client.get(job.get_absolute_url())
    text = page.content.decode()
    assert "Maria Souza" in text and "Maria S." in text and "João Lima" in text
    assert "Ana" not in text.split("app-dup-groups")[1]
    assert job.duplicate_groups.count() == 2
    assert Contact.objects.count() == 5  # nothing merged by the search

    response = post(client, reverse("contacts:duplicates_merge", args=[job.token]), {"all": "1"})
    merge = Job.objects.get(kind=Job.Kind.MERGE)
    assert response.url == merge.get_absolute_url()
    assert merge.status == Job.Status.DONE, merge.error
    assert merge.result["groups"] == 2 and merge.result["contacts"] == 2
    assert set(Contact.objects.values_list("name", flat=True)) == {"Maria Souza", "João Lima", "Ana"}
    page = client.get(merge.get_absolute_url()).content.decode()
    assert "Maria Souza" in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.REMOVE_DUPLICATES)
    assert event.user == admin_user and event.counts["contacts"] == 2
    # The survivor's page tells of the merge, with what was merged.
    history = client.get(reverse("contacts:history", args=[duplicates["maria"].pk])).content.decode()
    assert "“Maria S.”" in history and "551187654321" in history


def test_only_the_chosen_groups_are_merged(client, admin_user, duplicates, post):
    client.force_login(admin_user)
    job = search(client, post)
    joao = next(g for g in job.duplicate_groups.all() if duplicates["joao"].pk in g.contact_ids)
    post(client, reverse("contacts:duplicates_merge", args=[job.token]), {"group": [str(joao.pk)]})
    assert Contact.objects.filter(name__startswith="Maria").count() == 2
    assert list(Contact.objects.filter(name__startswith="Jo").values_list("pk", flat=True)) == [duplicates["joao"].pk]
    assert DuplicateGroup.objects.get(pk=joao.pk).merged


def test_choosing_no_group_says_so_and_merges_nothing(client, admin_user, duplicates, post):
    client.force_login(admin_user)
    job = search(client, post)
    for data in ({}, {"group": ["x", "99999999999999999999999", "-1"]}):
        response = client.post(reverse("contacts:duplicates_merge", args=[job.token]), data, follow=True)
        assert "Escolha ao menos um grupo" in response.content.decode()
    assert Contact.objects.count() == 5
    assert not Job.objects.filter(kind=Job.Kind.MERGE).exists()


def test_a_search_with_nothing_to_merge_says_so(client, admin_user, post):
    stored_contact(name="Só eu", email="so@example.com")
    client.force_login(admin_user)
    job = search(client, post)
    assert "Nenhum duplicado encontrado" in client.get(job.get_absolute_url()).content.decode()


def test_agents_cannot_remove_duplicates(client, agent, duplicates):
    client.force_login(agent)
    assert client.get(reverse("contacts:duplicates")).status_code == 403
    assert client.post(reverse("contacts:duplicates")).status_code == 403
    assert reverse("contacts:duplicates").encode() not in client.get(reverse("contacts:list")).content


def test_merge_with_finds_the_other_contact_previews_and_merges(client, admin_user):
    older = stored_contact(9, name="Carla Dias", number="5511987654321", company="")
    newer = stored_contact(1, name="Carla (trabalho)", number="5521999998888", company="ACME")
    client.force_login(admin_user)
    url = reverse("contacts:merge", args=[newer.pk])
    found = client.get(url, {"q": "carla"}).content.decode()
    assert "Carla Dias" in found
    preview = client.get(url, {"other": older.pk}).content.decode()
    assert "“Carla Dias”, o contato mais antigo, é mantido" in preview
    assert "ACME" in preview  # its blank company is filled in
    response = client.post(url, {"other": older.pk})
    assert response.status_code == 302 and response.url == older.get_absolute_url()
    older.refresh_from_db()
    assert older.company == "ACME"
    assert not Contact.objects.filter(pk=newer.pk).exists()
    assert MergeRecord.objects.get().rules == ["manual"]


def test_merge_with_never_joins_a_person_and_a_group(client, admin_user):
    person = stored_contact(2, name="Pessoa", number="5511987654321")
    group = stored_contact(1, name="Grupo", number="120363025246125888", is_group=True)
    client.force_login(admin_user)
    assert client.post(reverse("contacts:merge", args=[person.pk]), {"other": group.pk}).status_code == 404
    assert Contact.objects.count() == 2


def test_the_command_lists_the_groups_with_dry_run_and_merges_without(duplicates):
    out = StringIO()
    call_command("remove_duplicates", "--dry-run", stdout=out)
    assert "Would merge 2 groups: 2 contacts removed" in out.getvalue()
    assert "keep #%d 'Maria Souza'" % duplicates["maria"].pk in out.getvalue()
    assert Contact.objects.count() == 5
    out = StringIO()
    call_command("remove_duplicates", stdout=out)
    assert "Merged 2 groups: 2 contacts removed" in out.getvalue()
    assert Contact.objects.count() == 3
    assert AuditEvent.objects.get(action=AuditEvent.Action.REMOVE_DUPLICATES).parameters == {"from": "command"}
    out = StringIO()
    call_command("remove_duplicates", stdout=out)
    assert "Would merge 0 groups" in out.getvalue()


def test_admin_merges_the_selected_contacts_into_the_oldest(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    older = stored_contact(5, name="Velho", number="5511987654321")
    newer = stored_contact(1, name="Novo", number="5521999998888", email="novo@example.com")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "merge_selected", "_selected_action": [older.pk, newer.pk]},
        follow=True,
    )
    assert "1 contato foi mesclado no mais antigo" in response.content.decode()
    older.refresh_from_db()
    assert older.email == "novo@example.com"


def test_an_old_searchs_groups_go_with_the_retention_period(client, admin_user, duplicates, post, settings):
    from jobs.files import purge_expired_job_files

    client.force_login(admin_user)
    job = search(client, post)
    assert job.duplicate_groups.exists()
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=settings.JOB_FILE_RETENTION_DAYS + 1))
    purge_expired_job_files()
    assert not DuplicateGroup.objects.exists()
    assert Job.objects.filter(pk=job.pk).exists()


ANY_TEXT = st.text(max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(group=ANY_TEXT, other=ANY_TEXT.filter(lambda text: not text.isdigit()), page=ANY_TEXT, q=ANY_TEXT)
def test_whatever_the_bytes_the_duplicate_pages_answer_without_an_error_and_merge_nothing_unasked(
    client, admin_user, duplicates, post, group, other, page, q
):
    client.force_login(admin_user)
    job = Job.objects.filter(kind=Job.Kind.DUPLICATES).first() or search(client, post)
    before = Contact.objects.count()
    assert client.get(job.get_absolute_url(), {"page": page}).status_code == 200
    assert client.post(reverse("contacts:duplicates_merge", args=[job.token]), {"group": [group]}).status_code == 302
    target = duplicates["ana"]
    assert client.get(reverse("contacts:merge", args=[target.pk]), {"q": q, "other": other}).status_code == 200
    assert client.post(reverse("contacts:merge", args=[target.pk]), {"other": other}).status_code == 404
    assert Contact.objects.count() == before


def test_merge_with_previews_every_blank_it_fills(client, admin_user):
    wallet = WalletFactory(name="Carteira Sul")
    older = stored_contact(9, name="Dora", number="5511987654321")
    newer = stored_contact(1, name="Dora Lima", number="5521999998888", telegram_id="4242", email="dora@example.com", wallet=wallet)
    client.force_login(admin_user)
    preview = client.get(reverse("contacts:merge", args=[newer.pk]), {"other": older.pk})
    assert preview.status_code == 200
    text = preview.content.decode()
    for value in ("4242", "dora@example.com", "Carteira Sul"):
        assert f"“{value}”" in text


def test_after_merging_some_groups_the_search_offers_the_rest_and_counts_what_is_left(client, admin_user, duplicates, post):
    stored_contact(3, name="Ana B.", email="ANA@example.com")  # a third group
    client.force_login(admin_user)
    job = search(client, post)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Mesclar todos os 3 grupos" in page
    joao = next(g for g in job.duplicate_groups.all() if duplicates["joao"].pk in g.contact_ids)

    post(client, reverse("contacts:duplicates_merge", args=[job.token]), {"group": [str(joao.pk)]})

    merge_page = client.get(Job.objects.get(kind=Job.Kind.MERGE).get_absolute_url()).content.decode()
    assert "Faltam mesclar 2 grupos da busca." in merge_page
    assert f'href="{job.get_absolute_url()}">Ver os grupos que faltam</a>' in merge_page
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Faltam mesclar 2 grupos de 3" in page
    assert "Mesclar todos os 2 grupos" in page
    counts = page.split('<dl class="app-counts">')[1].split("</dl>")[0]
    assert "<dd>2</dd>" in counts and "<dd>3</dd>" not in counts
    assert page.count('type="checkbox" name="group"') == 3 and page.count(" disabled>") == 1

    post(client, reverse("contacts:duplicates_merge", args=[job.token]), {"all": "1"})

    page = client.get(job.get_absolute_url()).content.decode()
    assert "Todos os grupos desta busca foram mesclados." in page
    assert "Mesclar todos" not in page and "Mesclar os grupos escolhidos" not in page
    assert Contact.objects.count() == 3


def test_a_search_shows_only_the_contacts_its_viewer_may_see_now(client, admin_user, duplicates, post):
    from django.contrib.auth.models import Group

    wallet = WalletFactory(name="Carteira Outra")
    Contact.objects.filter(pk=duplicates["joao"].pk).update(wallet=wallet)
    client.force_login(admin_user)
    job = search(client, post)
    assert "João Lima" in client.get(job.get_absolute_url()).content.decode()

    # Later an agent, of no wallet: the same search's page.
    admin_user.groups.set([Group.objects.get(name="Agents")])

    page = client.get(job.get_absolute_url()).content.decode()
    assert "João Lima" not in page
    assert "Maria Souza" in page  # no wallet: an agent sees it
    assert "fora das suas carteiras" in page
    assert "Mesclar todos" not in page
