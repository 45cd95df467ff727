"""The list's bulk actions through the client: the selection, the count
to confirm, the job's page, undo, permissions."""

import pytest
from django.test import Client
from django.urls import reverse

from bulk.models import Member
from contacts.models import Contact, Segment
from contacts.tests.factories import ContactFactory, TagFactory
from jobs.models import Job

pytestmark = pytest.mark.django_db

START = "/contacts/bulk/"


def start(client, **data):
    return client.post(START, data)


def test_the_list_has_a_box_per_row_and_select_all_results(admin_client):
    ContactFactory(name="Ana Lima")
    ContactFactory(name="Ana Reis")
    page = admin_client.get("/contacts/?q=ana").content.decode()
    assert 'name="contact"' in page and 'form="bulk-form"' in page
    assert "Selecionar todos os 2 resultados" in page
    assert 'name="query" value="q=ana"' in page


def test_every_result_of_a_search_is_counted_then_tagged_once_confirmed(admin_client, django_capture_on_commit_callbacks):
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Souza", tags=[vip])
    ContactFactory(name="Ana Lima")
    ContactFactory(name="Bruno")

    response = start(admin_client, action="add_tag", tag=vip.pk, all="1", query="q=ana")
    job = Job.objects.get(kind=Job.Kind.BULK)
    assert response.url == job.get_absolute_url()
    page = admin_client.get(response.url).content.decode()
    assert "1 contato ganhará a etiqueta VIP; 1 já a tem." in page
    assert set(vip.contacts.values_list("name", flat=True)) == {"Ana Souza"}

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job.get_absolute_url())

    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert set(vip.contacts.values_list("name", flat=True)) == {"Ana Souza", "Ana Lima"}
    assert "Desfazer" in admin_client.get(job.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        undo = admin_client.post(job.get_absolute_url(), {"undo": "1"})
    assert set(vip.contacts.values_list("name", flat=True)) == {"Ana Souza"}
    assert "Desfeito: 1 contato voltou a ter o que tinha." in admin_client.get(undo.url).content.decode()


def test_only_the_rows_ticked_are_taken_among_those_the_user_sees(agent_client, agent_wallet, other_wallet):
    vip = TagFactory(name="VIP")
    mine = ContactFactory(name="Ana", wallet=agent_wallet)
    ContactFactory(name="Bia", wallet=agent_wallet)
    theirs = ContactFactory(name="Caio", wallet=other_wallet)

    start(agent_client, action="add_tag", tag=vip.pk, contact=[mine.pk, theirs.pk])

    assert sorted(Member.objects.values_list("contact_id", flat=True)) == [mine.pk]


def test_a_missing_tag_or_selection_asks_again_and_starts_nothing(admin_client):
    ContactFactory(name="Ana")
    page = start(admin_client, action="add_tag", all="1", asked="1").content.decode()
    assert "Escolha a etiqueta." in page
    page = start(admin_client, action="delete").content.decode()
    assert "Marque os contatos antes" in page
    assert not Job.objects.exists()


@pytest.mark.parametrize("action, field", [("add_tag", "tag"), ("move", "wallet")])
def test_the_lists_bar_opens_the_page_asking_for_the_tag_or_wallet_without_an_error(admin_client, action, field):
    ContactFactory(name="Ana")

    page = start(admin_client, action=action, all="1").content.decode()

    assert f'name="{field}"' in page
    assert "is-invalid" not in page and "Corrija os campos" not in page
    assert 'name="asked" value="1"' in page
    assert not Job.objects.exists()


def test_an_agent_may_not_delete_nor_move_to_another_agents_wallet(agent_client, agent_wallet, other_wallet):
    ContactFactory(name="Ana", wallet=agent_wallet)
    page = start(agent_client, action="delete", all="1").content.decode()
    assert "Só administradores podem excluir contatos em massa." in page
    page = start(agent_client, action="move", wallet=other_wallet.pk, all="1").content.decode()
    assert "Escolha a carteira." in page or "Faça uma escolha válida" in page
    assert not Job.objects.exists()


def test_a_delete_asks_for_the_count_typed(admin_client, django_capture_on_commit_callbacks):
    ContactFactory(name="Ana Lima")
    ContactFactory(name="Ana Reis")
    job_url = start(admin_client, action="delete", all="1", query="q=ana").url
    assert "Digite 2 para confirmar" in admin_client.get(job_url).content.decode()

    page = admin_client.post(job_url, {"typed": "3"}, follow=True).content.decode()
    assert "Digite o número de contatos a excluir, 2, para confirmar." in page
    assert Contact.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job_url, {"typed": "2"})
    assert Contact.objects.count() == 0


def test_another_users_bulk_job_is_a_404(admin_client, agent):
    ContactFactory(name="Ana")
    job_url = start(admin_client, action="add_tag", tag=TagFactory().pk, all="1").url
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get(job_url).status_code == 404
    assert agent_client.post(job_url).status_code == 404


def test_export_of_the_rows_ticked_leads_to_the_export_page_with_them(admin_client):
    a = ContactFactory(name="Ana")
    response = start(admin_client, action="export", contact=[a.pk], query="q=ana")
    assert response.url == reverse("contacts:export") + f"?q=ana&contact={a.pk}"
    assert "Só o 1 contato marcado na lista." in admin_client.get(response.url).content.decode()


def test_a_segment_whose_tag_was_deleted_acts_on_nothing(admin_client, admin_user):
    gone = TagFactory(name="Antiga")
    ContactFactory(name="Ana", tags=[gone])
    segment = Segment.objects.create(owner=admin_user, name="Antigos", filters={"tag": [str(gone.pk)]}, labels={"tag": {str(gone.pk): "Antiga"}})
    gone.delete()

    page = start(admin_client, action="delete", all="1", query=f"segment={segment.pk}").content.decode()

    assert "Antiga" in page
    assert not Job.objects.exists()
