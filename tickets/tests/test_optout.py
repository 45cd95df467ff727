"""Opt-out: a person who writes "SAIR", "PARAR", "STOP" or "DESCADASTRAR"
alone asks not to receive messages on that channel; agents see it, writing
to them asks for a reason, imports never clear it, and an administrator
lifts it with a note."""

import io
import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.history import contact_timeline
from contacts.models import Contact, OptOut
from contacts.tests.factories import ContactFactory
from contacts.tests.spreadsheet_files import csv_bytes
from contacts.transfer.importing import import_contacts
from contacts.transfer.reading import read_table
from dedup.merging import contacts_merge
from tickets.models import Message, OptOutReason, Ticket
from tickets.optout import asks_to_opt_out

from . import payloads
from .conftest import TELEGRAM_SECRET, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db

NUMBER = "5511987654321"


def deliver(client, channel, **fields):
    body = json.dumps(payloads.upsert(WHATSAPP_SECRET, **fields))
    response = client.post(reverse("tickets:webhook", args=[channel.pk]), body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def sendable(whatsapp):
    """The WhatsApp channel with its gateway configured (replies can go out)."""
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = "https://evolution.example.com", "atendimento", "key"
    whatsapp.save()
    return whatsapp


@pytest.fixture
def gateway(monkeypatch):
    """Replies "sent" without a gateway: the provider's id back."""
    from tickets.providers.evolution import EvolutionProvider

    monkeypatch.setattr(EvolutionProvider, "send", lambda self, message: f"SENT{message.pk}")


@pytest.mark.parametrize("text", ["SAIR", "sair", "Sáir", "  PARAR. ", "stop!", "Stop", "DESCADASTRAR 🙏", "*descadastrar*", "\nPARAR\n"])
def test_each_opt_out_word_alone_in_any_case_or_accent_asks_to_opt_out(text):
    assert asks_to_opt_out(text)


@pytest.mark.parametrize("text", ["quero sair", "parar de receber", "stopped", "SAIR SAIR", "", "s a i r", "Olá"])
def test_a_sentence_or_another_word_does_not(text):
    assert not asks_to_opt_out(text)


def test_a_person_writing_sair_is_opted_out_of_that_channel_with_the_message_as_evidence(client, whatsapp):
    contact = ContactFactory(number=NUMBER)
    deliver(client, whatsapp, remote_jid=f"{NUMBER}@s.whatsapp.net", text="Sair!")

    opt_out = OptOut.objects.get()
    message = Message.objects.get()
    assert (opt_out.contact, opt_out.channel_id, opt_out.channel_name) == (contact, whatsapp.pk, "WhatsApp Vendas")
    assert (opt_out.evidence, opt_out.message_id, opt_out.asked_at) == ("Sair!", message.pk, message.sent_at)
    assert opt_out.is_active
    record = opt_out.history.get()
    assert (record.history_type, record.history_source) == ("+", Source.MESSAGE)


def test_a_new_sender_whose_first_message_is_stop_is_opted_out_too(client, whatsapp):
    deliver(client, whatsapp, remote_jid=f"{NUMBER}@s.whatsapp.net", text="STOP")
    assert OptOut.objects.get().contact == Contact.objects.get(number=NUMBER)


def test_a_second_opt_out_message_keeps_the_first_evidence(client, whatsapp):
    ContactFactory(number=NUMBER)
    deliver(client, whatsapp, text="PARAR")
    deliver(client, whatsapp, text="descadastrar")
    assert list(OptOut.objects.values_list("evidence", flat=True)) == ["PARAR"]


def test_a_sentence_a_group_message_or_our_own_sair_opts_nobody_out(client, whatsapp):
    ContactFactory(number=NUMBER)
    deliver(client, whatsapp, text="quero sair do grupo")
    deliver(client, whatsapp, text="SAIR", from_me=True)
    deliver(client, whatsapp, remote_jid="120363025246125486@g.us", participant=f"{NUMBER}@s.whatsapp.net", text="SAIR")
    assert not OptOut.objects.exists()


def test_an_opt_out_is_for_its_channel_only(client, whatsapp, telegram):
    contact = ContactFactory(number=NUMBER, telegram_id="777000")
    deliver(client, whatsapp, text="SAIR")
    assert not OptOut.objects.filter(contact=contact, channel_id=telegram.pk).exists()
    assert OptOut.objects.filter(contact=contact, channel_id=whatsapp.pk).exists()


def test_a_telegram_parar_opts_out_of_the_bot(client, telegram):
    contact = ContactFactory(telegram_id="424242")
    response = client.post(
        reverse("tickets:webhook", args=[telegram.pk]),
        json.dumps(payloads.telegram_update(text="Parar")),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status_code == 200
    assert OptOut.objects.get().contact == contact
    assert OptOut.objects.get().channel_id == telegram.pk


def test_agents_see_the_opt_out_on_the_ticket(client, whatsapp, agent, agent_wallet):
    ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, whatsapp, text="SAIR")
    client.force_login(agent)
    page = client.get(Ticket.objects.get().get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="ticket-opt-out"' in text and "“SAIR”" in text
    assert 'name="reason"' in text


def test_a_reply_to_a_person_who_opted_out_needs_a_reason_and_nothing_is_stored_without_it(client, sendable, gateway, agent, agent_wallet):
    ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, sendable, text="SAIR")
    ticket = Ticket.objects.get()
    client.force_login(agent)

    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Tudo bem?"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Say why you are writing to them" in response.content.decode() or "Diga por que" in response.content.decode()
    assert not Message.objects.filter(from_me=True).exists()
    assert not OptOutReason.objects.exists()

    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]), {"text": "Confirmado: removido.", "reason": "Confirmar a remoção"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    given = OptOutReason.objects.get()
    assert (given.ticket, given.user, given.reason) == (ticket, agent, "Confirmar a remoção")
    assert Message.objects.filter(from_me=True).count() == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.OPT_OUT_OVERRIDE)
    assert event.user == agent and event.parameters["ticket"] == ticket.pk
    assert "Confirmar a remoção" in response.content.decode()

    # Once per ticket: the next reply needs none.
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Até logo"}, headers={"HX-Request": "true"})
    assert Message.objects.filter(from_me=True).count() == 2
    assert OptOutReason.objects.count() == 1


def test_without_javascript_a_reply_without_a_reason_says_why_it_was_not_sent(client, sendable, gateway, agent, agent_wallet):
    ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, sendable, text="SAIR")
    ticket = Ticket.objects.get()
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"}, follow=True)
    assert response.status_code == 200
    assert not Message.objects.filter(from_me=True).exists()
    assert any("Say why" in str(m) or "Diga por que" in str(m) for m in response.context["messages"])


def test_starting_a_ticket_with_a_person_who_opted_out_asks_for_a_reason(client, whatsapp, agent, agent_wallet):
    contact = ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, whatsapp, text="SAIR")
    Ticket.objects.update(status=Ticket.Status.CLOSED)
    client.force_login(agent)
    url = reverse("tickets:start", args=[contact.pk])

    # The only channel is not started at once: the form asks.
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'name="reason"' in response.content.decode()
    response = client.post(url, {"channel": whatsapp.pk, "reason": "  "}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert Ticket.objects.active().count() == 0
    assert not OptOutReason.objects.exists()

    response = client.post(url, {"channel": whatsapp.pk, "reason": "Cliente ligou pedindo retorno"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    ticket = Ticket.objects.active().get()
    given = OptOutReason.objects.get()
    assert (given.ticket, given.user, given.reason) == (ticket, agent, "Cliente ligou pedindo retorno")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.OPT_OUT_OVERRIDE).count() == 1


def test_starting_a_ticket_on_another_channel_needs_no_reason(client, whatsapp, telegram, agent, agent_wallet):
    contact = ContactFactory(number=NUMBER, telegram_id="777000", wallet=agent_wallet)
    deliver(client, whatsapp, text="SAIR")
    client.force_login(agent)
    response = client.post(reverse("tickets:start", args=[contact.pk]), {"channel": telegram.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert Ticket.objects.filter(channel=telegram, contact=contact).exists()


def test_the_contact_list_marks_and_filters_people_who_opted_out(client, whatsapp, admin_user):
    quiet = ContactFactory(number=NUMBER, name="Quieta Silva")
    ContactFactory(number="5511911112222", name="Falante Souza")
    deliver(client, whatsapp, text="SAIR")
    client.force_login(admin_user)

    opted = client.get(reverse("contacts:list"), {"optout": "yes"})
    assert [c.pk for c in opted.context["page_obj"].object_list] == [quiet.pk]
    assert "app-opt-out-badge" in opted.content.decode()
    others = client.get(reverse("contacts:list"), {"optout": "no"})
    assert [c.name for c in others.context["page_obj"].object_list] == ["Falante Souza"]
    assert len(opted.context["filter"].chips) == 1


def test_an_import_that_updates_the_person_never_clears_the_opt_out(client, whatsapp):
    contact = ContactFactory(number=NUMBER, name="Maria")
    deliver(client, whatsapp, text="SAIR")
    content = csv_bytes([["Nome", "Telefone", "E-mail"], ["Maria Souza", "+55 11 98765-4321", "maria@example.com"]])
    with recording(source=Source.IMPORT):
        import_contacts(table=read_table(io.BytesIO(content)))
    contact.refresh_from_db()
    assert contact.email == "maria@example.com"
    assert OptOut.objects.active().filter(contact=contact).count() == 1


def test_an_administrator_lifts_an_opt_out_with_a_note_kept_in_history_and_audit(client, whatsapp, admin_user):
    contact = ContactFactory(number=NUMBER)
    deliver(client, whatsapp, text="SAIR")
    opt_out = OptOut.objects.get()
    client.force_login(admin_user)
    url = reverse("contacts:optout_lift", args=[opt_out.pk])

    page = client.get(url)
    assert page.status_code == 200 and "“SAIR”" in page.content.decode()
    edit = client.get(reverse("contacts:update", args=[contact.pk]))
    assert url in edit.content.decode()

    response = client.post(url, {"note": "  "})
    assert response.status_code == 200
    opt_out.refresh_from_db()
    assert opt_out.is_active

    response = client.post(url, {"note": "Pediu por telefone para voltar a receber"})
    assert response.status_code == 302
    opt_out.refresh_from_db()
    assert (opt_out.lifted_by, opt_out.lift_note) == (admin_user, "Pediu por telefone para voltar a receber")
    assert not opt_out.is_active
    event = AuditEvent.objects.get(action=AuditEvent.Action.OPT_OUT_LIFT)
    assert event.user == admin_user and event.parameters["opt_out"] == opt_out.pk
    sentences = [entry.sentence for entry in contact_timeline(contact.pk)]
    assert any("Pediu por telefone" in s for s in sentences)
    assert any("“SAIR”" in s for s in sentences)
    # Lifted: a second lift changes nothing, and the page is gone.
    assert client.post(url, {"note": "de novo"}).status_code == 404


def test_an_agent_cannot_lift_an_opt_out(client, whatsapp, agent, agent_wallet):
    contact = ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, whatsapp, text="SAIR")
    opt_out = OptOut.objects.get()
    client.force_login(agent)
    assert client.post(reverse("contacts:optout_lift", args=[opt_out.pk]), {"note": "quero"}).status_code == 403
    assert OptOut.objects.get().is_active
    edit = client.get(reverse("contacts:update", args=[contact.pk]))
    assert "“SAIR”" in edit.content.decode()
    assert reverse("contacts:optout_lift", args=[opt_out.pk]) not in edit.content.decode()


def test_a_merge_keeps_the_merged_persons_opt_out_on_the_survivor(client, whatsapp):
    survivor = ContactFactory(name="Maria", email="maria@example.com")
    duplicate = ContactFactory(name="Maria", number=NUMBER)
    deliver(client, whatsapp, text="SAIR")
    with recording(source=Source.MERGE):
        contacts_merge(groups=[[survivor.pk, duplicate.pk]])
    assert OptOut.objects.active().get().contact_id == survivor.pk


@pytest.mark.parametrize("text", ["SAÍR", "Párar", "DESCADASTRÁR", "/stop", "stop."])
def test_accents_on_capitals_and_a_telegram_command_are_the_word_alone_too(text):
    assert asks_to_opt_out(text)


def test_a_whatsapp_text_with_a_link_preview_or_a_reply_quoted_opts_out_too(client, whatsapp):
    contact = ContactFactory(number=NUMBER)
    deliver(client, whatsapp, message={"extendedTextMessage": {"text": "DESCADASTRAR", "contextInfo": {"stanzaId": "ABC"}}}, message_type="extendedTextMessage")
    opt_out = OptOut.objects.get()
    assert (opt_out.contact, opt_out.evidence) == (contact, "DESCADASTRAR")


def test_a_photo_captioned_sair_opts_nobody_out(client, whatsapp):
    ContactFactory(number=NUMBER)
    deliver(client, whatsapp, message={"imageMessage": payloads.image(caption="SAIR")}, message_type="imageMessage")
    assert Message.objects.get().body == "SAIR"
    assert not OptOut.objects.exists()


@pytest.mark.parametrize("conflicts", ["skip", "overwrite"])
def test_an_import_with_an_opt_out_column_saying_no_never_clears_the_opt_out(client, whatsapp, conflicts):
    contact = ContactFactory(number=NUMBER, name="Maria")
    deliver(client, whatsapp, text="SAIR")
    content = csv_bytes(
        [["Nome", "Telefone", "Descadastro", "Opt-out", "Não receber"], ["Maria Souza", "+55 11 98765-4321", "não", "no", "false"]]
    )
    with recording(source=Source.IMPORT):
        result = import_contacts(table=read_table(io.BytesIO(content)), conflicts=conflicts)
    assert result.updated == 1
    opt_out = OptOut.objects.get()
    assert opt_out.is_active and opt_out.contact == contact
    assert opt_out.history.count() == 1  # the import wrote nothing to it


def test_after_a_lift_a_reply_needs_no_reason_and_a_new_sair_opts_out_again(client, sendable, gateway, admin_user, agent, agent_wallet):
    ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, sendable, text="SAIR")
    first = OptOut.objects.get()
    client.force_login(admin_user)
    client.post(reverse("contacts:optout_lift", args=[first.pk]), {"note": "Pediu para voltar"})
    ticket = Ticket.objects.get()

    client.force_login(agent)
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Bem-vinda de volta"}, headers={"HX-Request": "true"})
    assert Message.objects.filter(from_me=True).count() == 1
    assert not OptOutReason.objects.exists()
    assert 'id="ticket-opt-out"' not in client.get(ticket.get_absolute_url()).content.decode()

    deliver(client, sendable, text="Parar")
    again = OptOut.objects.active().get()
    assert again.pk != first.pk and again.evidence == "Parar"
    assert not OptOut.objects.get(pk=first.pk).is_active


def test_the_retention_policy_keeps_the_opt_out_and_its_evidence(client, whatsapp, agent, agent_wallet, settings):
    from django.core.management import call_command

    ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, whatsapp, text="SAIR")  # the payload's date is a year ago
    settings.MESSAGE_RETENTION_DAYS = 30
    call_command("apply_message_retention", stdout=io.StringIO())

    assert Message.objects.get().body == ""
    opt_out = OptOut.objects.get()
    assert opt_out.is_active and opt_out.evidence == "SAIR"
    client.force_login(agent)
    text = client.get(Ticket.objects.get().get_absolute_url()).content.decode()
    assert 'id="ticket-opt-out"' in text and "“SAIR”" in text


def test_going_back_to_a_ticket_that_has_its_reason_already_asks_nothing_more(client, sendable, gateway, agent, agent_wallet):
    contact = ContactFactory(number=NUMBER, wallet=agent_wallet)
    deliver(client, sendable, text="SAIR")
    ticket = Ticket.objects.get()
    client.force_login(agent)
    client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Confirmado", "reason": "Confirmar a remoção"}, headers={"HX-Request": "true"})
    assert OptOutReason.objects.count() == 1

    response = client.post(reverse("tickets:start", args=[contact.pk]), {"channel": sendable.pk}, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert Ticket.objects.active().get() == ticket
    assert OptOutReason.objects.count() == 1
