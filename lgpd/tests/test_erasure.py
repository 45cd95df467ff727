""""Apagar dados pessoais": the typed confirmation, what goes and what
stays, who may, `manage.py lgpd_erase`; test_erasure_proof.py scans the
whole database and every stored file after one."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from contacts.models import Contact, ContactIdentity, CustomField, OptOut
from contacts.tests.factories import ContactFactory, TagFactory
from tickets.models import Channel, Message, MessageEdit, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(db):
    return Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", webhook_secret="s" * 32)


def with_conversation(contact, channel, text, *, user=None) -> Ticket:
    ticket = Ticket.objects.create(contact=contact, channel=channel, user=user)
    message = Message.objects.create(
        channel=channel, external_id=f"id-{contact.pk}", chat_id=f"{contact.number}@s.whatsapp.net", chat_identity=contact.number,
        sender_id=contact.number, sender_name=contact.name, body=text, sent_at=timezone.now(), ticket=ticket, contact=contact,
    )
    MessageEdit.objects.create(message=message, body=f"{text} (antes)", replaced_at=timezone.now())
    return ticket


@pytest.fixture
def person(channel, agent):
    contact = ContactFactory(name="Lucélia Prado", number="5521987650000", email="lucelia@exemplo.com", cpf_cnpj="529.982.247-25", tags=[TagFactory(name="VIP")])
    CustomField.objects.create(contact=contact, name="Cidade", value="Niterói")
    ContactIdentity.objects.create(contact=contact, kind="lid", value="111222333444555@lid", number=contact.number, seen="message")
    OptOut.objects.create(contact=contact, channel_id=channel.pk, channel_name=channel.name, evidence="SAIR", asked_at=timezone.now())
    with_conversation(contact, channel, "Quero o boleto", user=agent)
    return contact


@pytest.fixture
def bystander(channel):
    """Someone else, who must come out of an erasure untouched."""
    contact = ContactFactory(name="Maria Souza", number="5511987654321", email="maria@exemplo.com")
    CustomField.objects.create(contact=contact, name="Cidade", value="Recife")
    with_conversation(contact, channel, "Bom dia")
    contact.name = "Maria Souza Lima"
    contact.save()
    return contact


def erase(client, contact, typed):
    return client.post(reverse("lgpd:erase", args=[contact.pk]), {"confirmation": typed})


def test_the_page_says_what_goes_and_what_stays_and_asks_for_the_name(admin_client, person):
    page = admin_client.get(reverse("lgpd:erase", args=[person.pk])).content.decode()

    assert "Apagar tudo o que guardamos sobre <strong>Lucélia Prado</strong>?" in page
    assert "1 informação adicional" in page or "1 campo" in page
    assert "1 atendimento: quando, em qual canal e quem atendeu, sem quem era a pessoa" in page
    assert "Digite “Lucélia Prado”." in page


def test_a_contact_without_tickets_is_not_told_of_0_tickets_kept(admin_client):
    contact = ContactFactory(name="Sem Conversas")

    page = admin_client.get(reverse("lgpd:erase", args=[contact.pk])).content.decode()

    assert "0 atendimento" not in page
    assert "um registro de auditoria" in page or "uma entrada" in page


def test_an_erasure_keeps_the_tickets_facts_and_removes_who_the_person_was(admin_client, admin_user, agent, person, channel, django_capture_on_commit_callbacks):
    ticket = person.tickets.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = erase(admin_client, person, "  lucelia PRADO ")

    assert response.status_code == 302 and response.url == reverse("lgpd:contact", args=[person.pk])
    person.refresh_from_db()
    assert person.name == f"Contato apagado #{person.pk}"
    assert (person.number, person.email, person.cpf_cnpj, person.search_text) == ("", "", "", f"contato apagado #{person.pk}")
    assert not person.tags.exists() and not person.custom_fields.exists() and not person.opt_outs.exists()
    assert not ContactIdentity.objects.exists()
    assert not Contact.history.filter(id=person.pk).exists()
    kept = Ticket.objects.get()
    assert (kept.pk, kept.channel, kept.user, kept.created_at) == (ticket.pk, channel, agent, ticket.created_at)
    message = Message.objects.get()
    assert (message.body, message.sender_name, message.chat_id, message.sender_id) == ("", "", "", "")
    assert message.ticket == kept and not MessageEdit.objects.exists()
    event = AuditEvent.objects.get(action="lgpd_request")
    assert (event.user, event.parameters) == (admin_user, {"request": "erasure", "contact": person.pk})
    tab = admin_client.get(reverse("lgpd:contact", args=[person.pk])).content.decode()
    assert "Os dados pessoais deste contato foram apagados." in tab


def test_someone_elses_data_is_left_as_it_was(admin_client, person, bystander, django_capture_on_commit_callbacks):
    history = list(Contact.history.filter(id=bystander.pk).values_list("history_id", "name"))
    with django_capture_on_commit_callbacks(execute=True):
        erase(admin_client, person, "Lucélia Prado")

    bystander.refresh_from_db()
    assert (bystander.name, bystander.number, bystander.email) == ("Maria Souza Lima", "5511987654321", "maria@exemplo.com")
    assert list(Contact.history.filter(id=bystander.pk).values_list("history_id", "name")) == history
    assert bystander.custom_fields.get().value == "Recife"
    message = Message.objects.get(contact=bystander)
    assert (message.body, message.sender_name) == ("Bom dia", "Maria Souza") and message.edits.exists()


@pytest.mark.parametrize(
    "typed, said",
    [
        ("", "Este campo é obrigatório."),
        ("Lucélia", "Digite o nome do contato como aparece, “Lucélia Prado”, para apagar os dados."),
        ("Maria Souza", "Digite o nome do contato como aparece, “Lucélia Prado”, para apagar os dados."),
        ("x" * 400, "no máximo 300 caracteres"),
    ],
)
def test_a_wrong_confirmation_says_what_to_type_and_erases_nothing(admin_client, person, typed, said):
    response = erase(admin_client, person, typed)

    assert response.status_code == 200
    assert said in response.content.decode()
    person.refresh_from_db()
    assert person.name == "Lucélia Prado" and person.custom_fields.exists() and Message.objects.get().body == "Quero o boleto"
    assert not AuditEvent.objects.filter(action="lgpd_request").exists()


def test_agents_get_403_and_erase_nothing(agent_client, agent_wallet, channel):
    contact = ContactFactory(name="Da Carteira", wallet=agent_wallet)

    assert agent_client.get(reverse("lgpd:erase", args=[contact.pk])).status_code == 403
    assert erase(agent_client, contact, "Da Carteira").status_code == 403
    contact.refresh_from_db()
    assert contact.name == "Da Carteira"


def test_who_may_report_but_not_erase_gets_403_and_no_erase_button(agent_client, agent, agent_wallet):
    agent.user_permissions.add(Permission.objects.get(codename="report_personal_data"))
    contact = ContactFactory(name="Da Carteira", wallet=agent_wallet)

    assert erase(agent_client, contact, "Da Carteira").status_code == 403
    tab = agent_client.get(reverse("lgpd:contact", args=[contact.pk])).content.decode()
    assert "Relatório LGPD (JSON)" in tab and reverse("lgpd:erase", args=[contact.pk]) not in tab


def test_a_user_with_the_permission_gets_404_for_a_contact_they_may_not_see(agent_client, agent, other_wallet):
    agent.user_permissions.add(*Permission.objects.filter(codename__in=["report_personal_data", "erase_personal_data"]))
    contact = ContactFactory(name="De Outro", wallet=other_wallet)

    assert erase(agent_client, contact, "De Outro").status_code == 404
    assert erase(agent_client, ContactFactory.build(pk=999999), "x").status_code == 404
    contact.refresh_from_db()
    assert contact.name == "De Outro"


def test_the_command_without_confirm_says_what_it_would_erase_and_changes_nothing(person):
    with pytest.raises(CommandError) as refused:
        call_command("lgpd_erase", str(person.pk))

    assert "Nothing erased: add --confirm" in str(refused.value)
    assert "extra fields: 1" in str(refused.value) and "messages: 1" in str(refused.value)
    person.refresh_from_db()
    assert person.name == "Lucélia Prado"
    assert not AuditEvent.objects.filter(action="lgpd_request").exists()


def test_the_command_with_confirm_erases(person, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("lgpd_erase", str(person.pk), "--confirm")

    assert f"Personal data of contact {person.pk} erased" in capsys.readouterr().out
    person.refresh_from_db()
    assert person.name == f"Contato apagado #{person.pk}" and Message.objects.get().body == ""
    assert AuditEvent.objects.get(action="lgpd_request").source == "command"


def test_the_command_refuses_an_unknown_contact():
    with pytest.raises(CommandError, match="No contact 999999"):
        call_command("lgpd_erase", "999999", "--confirm")
