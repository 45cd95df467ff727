"""Tickets in the panel: starting one from a contact, the list, the page
with its conversation, replying (through a local stand-in for the gateway),
closing and reopening; each for the roles that may and may not."""

import json

import pytest
from django.urls import reverse
from werkzeug import Response

from contacts.tests.factories import ContactFactory
from tickets.models import Channel, Message, Ticket
from tickets.providers.evolution import EvolutionGateway

from . import payloads
from .conftest import BOT_TOKEN, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def sent_text(message_id="3EB0SENT000000000001", remote_jid="5511987654321@s.whatsapp.net", text="Olá"):
    """Evolution API's answer to sendText: the message as WhatsApp took it."""
    return {
        "key": {"remoteJid": remote_jid, "fromMe": True, "id": message_id},
        "pushName": "",
        "status": "PENDING",
        "message": {"conversation": text},
        "messageType": "conversation",
        "messageTimestamp": 1764079600,
        "instanceId": "6f1c2b0e-6a1d-4a51-a0a5-3f1d7f1e9b11",
        "source": "unknown",
    }


# Starting a ticket -----------------------------------------------------------


def test_start_with_one_channel_opens_a_ticket_for_the_agent(agent_client, agent, contact, whatsapp):
    response = agent_client.post(reverse("tickets:start", args=[contact.pk]))
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == ticket.get_absolute_url()
    assert (ticket.contact, ticket.channel, ticket.user, ticket.status) == (contact, whatsapp, agent, "open")


def test_start_goes_to_the_open_ticket_instead_of_opening_a_second(agent_client, contact, whatsapp, other_agent):
    existing = Ticket.objects.create(contact=contact, channel=whatsapp, user=other_agent)
    response = agent_client.post(reverse("tickets:start", args=[contact.pk]), {"channel": whatsapp.pk}, follow=True)
    assert response.redirect_chain[-1][0] == existing.get_absolute_url()
    assert Ticket.objects.count() == 1
    assert "já tinha um atendimento aberto" in response.content.decode()


def test_with_several_channels_the_agent_chooses_one(agent_client, contact, whatsapp, telegram):
    page = agent_client.post(reverse("tickets:start", args=[contact.pk]), headers=HTMX)
    assert page.status_code == 200
    assert "Por qual canal atender Maria Souza?" in page.content.decode()
    assert not Ticket.objects.exists()

    response = agent_client.post(reverse("tickets:start", args=[contact.pk]), {"channel": telegram.pk}, headers=HTMX)
    ticket = Ticket.objects.get()
    assert (response.status_code, response["HX-Redirect"]) == (204, ticket.get_absolute_url())
    assert ticket.channel == telegram


def test_only_channels_that_reach_the_contact_are_offered(agent_client, agent_wallet, whatsapp, telegram):
    on_whatsapp_only = ContactFactory(number="5511911112222", telegram_id="", wallet=agent_wallet)
    response = agent_client.post(reverse("tickets:start", args=[on_whatsapp_only.pk]), {"channel": telegram.pk})
    assert response.status_code == 200
    assert "Escolha um dos canais listados." in response.content.decode()
    assert not Ticket.objects.exists()
    agent_client.post(reverse("tickets:start", args=[on_whatsapp_only.pk]))
    assert Ticket.objects.get().channel == whatsapp


def test_a_contact_no_channel_reaches_is_told_so(agent_client, agent_wallet, telegram):
    contact = ContactFactory(number="5511911112222", wallet=agent_wallet)
    response = agent_client.post(reverse("tickets:start", args=[contact.pk]))
    assert "Nenhum canal alcança" in response.content.decode()


def test_another_wallets_contact_is_a_404(client, other_agent, other_wallet, contact, whatsapp):
    client.force_login(other_agent)
    assert client.post(reverse("tickets:start", args=[contact.pk])).status_code == 404
    assert not Ticket.objects.exists()


def test_the_contacts_list_offers_the_start_button_to_agents(agent_client, contact, whatsapp):
    page = agent_client.get(reverse("contacts:list")).content.decode()
    assert f'action="{reverse("tickets:start", args=[contact.pk])}"' in page
    assert "Iniciar atendimento" in page


# The list ----------------------------------------------------------------


@pytest.fixture
def tickets(contact, whatsapp, telegram, agent, other_agent, other_wallet):
    other_contact = ContactFactory(name="Pedro Bruno", number="5521999990000", wallet=other_wallet)
    unassigned = ContactFactory(name="Sem Carteira", number="5531988887777", wallet=None)
    return {
        "mine": Ticket.objects.create(contact=contact, channel=whatsapp, user=agent),
        "mine_closed": Ticket.objects.create(contact=contact, channel=telegram, user=agent, status="closed"),
        "pending": Ticket.objects.create(contact=unassigned, channel=whatsapp, status="pending"),
        "other_wallet": Ticket.objects.create(contact=other_contact, channel=whatsapp, user=other_agent),
    }


def listed(client, **params):
    response = client.get(reverse("tickets:list"), params)
    assert response.status_code == 200
    return {ticket.pk for ticket in response.context["page_obj"].object_list}


def test_the_list_shows_mine_by_default_then_open_or_all(agent_client, tickets):
    assert listed(agent_client) == {tickets["mine"].pk, tickets["mine_closed"].pk}
    assert listed(agent_client, view="open") == {tickets["mine"].pk, tickets["pending"].pk}
    assert listed(agent_client, view="all") == {tickets["mine"].pk, tickets["mine_closed"].pk, tickets["pending"].pk}


def test_the_list_filters_by_channel_and_status(agent_client, tickets, telegram):
    assert listed(agent_client, view="all", channel=telegram.pk) == {tickets["mine_closed"].pk}
    assert listed(agent_client, view="all", status="pending") == {tickets["pending"].pk}


def test_a_stale_or_garbled_filter_is_left_out(agent_client, tickets):
    assert listed(agent_client, view="all", channel="999", status="nope") == listed(agent_client, view="all")
    assert listed(agent_client, view="everything") == listed(agent_client)


def test_an_agent_never_sees_another_wallets_tickets(agent_client, tickets):
    assert tickets["other_wallet"].pk not in listed(agent_client, view="all")
    assert agent_client.get(reverse("tickets:detail", args=[tickets["other_wallet"].pk])).status_code == 404


def test_administrators_see_every_ticket(client, admin_user, tickets):
    client.force_login(admin_user)
    assert listed(client, view="all") == {ticket.pk for ticket in tickets.values()}


def test_the_list_filters_with_htmx_return_only_the_results(agent_client, tickets):
    response = agent_client.get(reverse("tickets:list"), {"view": "all"}, headers=HTMX)
    content = response.content.decode()
    assert "<html" not in content and "Maria Souza" in content


def test_an_empty_list_says_how_tickets_come(agent_client):
    assert "Os atendimentos abrem quando um contato escreve" in agent_client.get(reverse("tickets:list")).content.decode()


# The ticket page ----------------------------------------------------------


def test_the_page_shows_the_conversation_oldest_first_newest_at_the_bottom(client, agent_client, contact, whatsapp):
    for text, timestamp in (("segunda", 1764079600), ("primeira", 1764079500)):
        body = payloads.upsert(WHATSAPP_SECRET, text=text, timestamp=timestamp)
        client.post(reverse("tickets:webhook", args=[whatsapp.pk]), json.dumps(body), content_type="application/json")
    ticket = Ticket.objects.get()
    content = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert content.index("primeira") < content.index("segunda")
    assert "Maria Souza" in content and "WhatsApp Vendas" in content


def test_polling_gets_nothing_until_something_changes(agent_client, contact, whatsapp):
    ticket = Ticket.objects.create(contact=contact, channel=whatsapp, user=contact.wallet.user)
    first = agent_client.get(ticket.get_absolute_url(), headers=HTMX)
    version = first.context["version"]
    assert agent_client.get(ticket.get_absolute_url(), {"version": version}, headers=HTMX).status_code == 204

    Message.objects.create(channel=whatsapp, external_id="new", chat_id="x", sent_at=ticket.created_at, ticket=ticket, body="nova")
    again = agent_client.get(ticket.get_absolute_url(), {"version": version}, headers=HTMX)
    assert again.status_code == 200
    assert "nova" in again.content.decode() and "<html" not in again.content.decode()


# Replying -----------------------------------------------------------------


@pytest.fixture
def ticket(contact, whatsapp, agent):
    return Ticket.objects.create(contact=contact, channel=whatsapp, user=agent)


def test_a_reply_goes_out_through_evolution_api_and_its_echo_is_not_stored_twice(agent_client, client, agent, ticket, evolution):
    evolution.expect_request(
        "/message/sendText/vendas",
        method="POST",
        headers={"apikey": "chave-da-instancia"},
        json={"number": "5511987654321", "text": "Olá, Maria! Como posso ajudar?"},
    ).respond_with_json(sent_text(text="Olá, Maria! Como posso ajudar?"), status=201)

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Olá, Maria! Como posso ajudar?"}, headers=HTMX)
    evolution.check_assertions()
    assert response.status_code == 200
    assert "Olá, Maria! Como posso ajudar?" in response.content.decode()
    reply = Message.objects.get()
    assert (reply.from_me, reply.external_id, reply.delivery, reply.sent_by, reply.ticket) == (
        True,
        "3EB0SENT000000000001",
        "sent",
        agent,
        ticket,
    )

    data = payloads.whatsapp_message(from_me=True, message_id="3EB0SENT000000000001", text="Olá, Maria! Como posso ajudar?")
    echo = json.dumps(payloads.evolution("messages.upsert", data, apikey=WHATSAPP_SECRET))
    webhook = reverse("tickets:webhook", args=[ticket.channel.pk])
    assert client.post(webhook, echo, content_type="application/json").json() == {"stored": 0}
    assert Message.objects.count() == 1


def test_an_echo_that_arrives_before_the_gateway_answers_is_merged_into_the_reply(
    agent_client, client, ticket, whatsapp, evolution, monkeypatch
):
    evolution.expect_request("/message/sendText/vendas").respond_with_json(sent_text(message_id="3EB0RACE", text="Oi"), status=201)
    real_send_text = EvolutionGateway.send_text

    def send_text_echoed_early(self, number, text):
        message_id = real_send_text(self, number, text)
        # The gateway's webhook for the sent message wins the race against
        # its own answer to sendText.
        data = payloads.whatsapp_message(from_me=True, message_id=message_id, text=text)
        echo = payloads.evolution("send.message", data, apikey=WHATSAPP_SECRET)
        client.post(reverse("tickets:webhook", args=[whatsapp.pk]), json.dumps(echo), content_type="application/json")
        assert Message.objects.filter(external_id="3EB0RACE").exists()
        return message_id

    monkeypatch.setattr(EvolutionGateway, "send_text", send_text_echoed_early)
    agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"}, headers=HTMX)
    reply = Message.objects.get()
    assert (reply.external_id, reply.sent_by is not None, reply.ticket) == ("3EB0RACE", True, ticket)


def test_a_reply_goes_to_the_chat_the_contact_wrote_from(agent_client, client, ticket, whatsapp, evolution):
    body = payloads.upsert(WHATSAPP_SECRET, remote_jid="551187654321@s.whatsapp.net", text="oi")
    client.post(reverse("tickets:webhook", args=[whatsapp.pk]), json.dumps(body), content_type="application/json")
    evolution.expect_request(
        "/message/sendText/vendas", json={"number": "551187654321@s.whatsapp.net", "text": "Oi!"}
    ).respond_with_json(sent_text(), status=201)
    agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi!"})
    evolution.check_assertions()


def test_a_reply_goes_out_through_telegram_send_message(agent_client, contact, telegram, bot, agent):
    ticket = Ticket.objects.create(contact=contact, channel=telegram, user=agent)
    bot.expect_request(f"/bot{BOT_TOKEN}/sendMessage", method="POST", json={"chat_id": "424242", "text": "Bom dia!"}).respond_with_json(
        {"ok": True, "result": {"message_id": 321, "chat": {"id": 424242, "type": "private"}, "date": 1764079600, "text": "Bom dia!"}}
    )
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Bom dia!"})
    bot.check_assertions()
    assert response.status_code == 302
    reply = Message.objects.get()
    assert (reply.external_id, reply.delivery, reply.from_me) == ("424242:321", "sent", True)


def test_a_failed_send_says_so_and_can_be_retried(agent_client, ticket, evolution):
    evolution.expect_oneshot_request("/message/sendText/vendas").respond_with_response(
        Response(
            '{"status":400,"error":"Bad Request","response":{"message":[{"exists":false,"jid":"5511987654321@s.whatsapp.net"}]}}',
            status=400,
        )
    )
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"}, headers=HTMX)
    content = response.content.decode()
    assert "Não enviada: O gateway respondeu com o erro 400." in content
    assert "Tentar novamente" in content
    reply = Message.objects.get()
    assert reply.delivery == "failed"

    evolution.expect_oneshot_request("/message/sendText/vendas").respond_with_json(sent_text(message_id="3EB0RETRY"), status=201)
    response = agent_client.post(reverse("tickets:retry", args=[reply.pk]), headers=HTMX)
    reply.refresh_from_db()
    assert (reply.delivery, reply.external_id, reply.error) == ("sent", "3EB0RETRY", "")
    assert "Não enviada" not in response.content.decode()


def test_a_failed_send_without_javascript_is_told_on_the_page(agent_client, ticket, whatsapp):
    # No gateway configured at all.
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"}, follow=True)
    assert "O canal WhatsApp Vendas não pode enviar respostas" in response.content.decode()
    assert not Message.objects.exists()


def test_a_gateway_that_is_down_leaves_the_reply_failed_with_the_reason(agent_client, ticket, whatsapp):
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = "http://127.0.0.1:9", "vendas", "k"
    whatsapp.save()
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"}, follow=True)
    assert "A resposta não foi enviada: Não foi possível falar com o gateway" in response.content.decode()
    assert Message.objects.get().delivery == "failed"


def test_an_empty_reply_is_refused(agent_client, ticket, evolution):
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "  \u200b "}, headers=HTMX)
    assert "Escreva a resposta antes de enviar." in response.content.decode()
    assert not Message.objects.exists()


def test_a_reply_longer_than_the_channel_takes_is_refused(agent_client, contact, telegram, agent):
    telegram.bot_token = "123:ABC"
    telegram.save()
    ticket = Ticket.objects.create(contact=contact, channel=telegram, user=agent)
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "x" * 4097}, headers=HTMX)
    assert "até 4096 caracteres" in response.content.decode()
    assert not Message.objects.exists()


def test_replying_to_a_ticket_nobody_serves_makes_it_yours(agent_client, agent, contact, whatsapp, evolution):
    ticket = Ticket.objects.create(contact=contact, channel=whatsapp, status="pending")
    evolution.expect_request("/message/sendText/vendas").respond_with_json(sent_text(), status=201)
    agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"})
    ticket.refresh_from_db()
    assert (ticket.user, ticket.status) == (agent, "open")


def test_a_closed_ticket_takes_no_reply(agent_client, ticket, evolution):
    ticket.close()
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"}, follow=True)
    assert "Este atendimento está fechado: reabra-o para responder." in response.content.decode()
    assert not Message.objects.exists()


def test_another_wallets_agent_cannot_reply_or_retry(client, other_agent, other_wallet, ticket):
    client.force_login(other_agent)
    assert client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Oi"}).status_code == 404
    failed = Message.objects.create(
        channel=ticket.channel,
        external_id="local:x",
        chat_id="x",
        sent_at=ticket.created_at,
        ticket=ticket,
        from_me=True,
        delivery="failed",
    )
    assert client.post(reverse("tickets:retry", args=[failed.pk])).status_code == 404


# Close, reopen, take -------------------------------------------------------


def test_close_and_reopen(agent_client, ticket):
    response = agent_client.post(reverse("tickets:close", args=[ticket.pk]), follow=True)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at is not None) == ("closed", True)
    assert f"Atendimento #{ticket.pk} fechado." in response.content.decode()
    agent_client.post(reverse("tickets:reopen", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at) == ("open", None)


def test_reopening_when_another_ticket_is_open_says_so(agent_client, ticket, contact, whatsapp):
    ticket.close()
    Ticket.objects.create(contact=contact, channel=whatsapp)
    response = agent_client.post(reverse("tickets:reopen", args=[ticket.pk]), follow=True)
    assert "Este contato já tem um atendimento aberto neste canal: " in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_taking_a_pending_ticket(agent_client, agent, contact, whatsapp):
    ticket = Ticket.objects.create(contact=contact, channel=whatsapp, status="pending")
    agent_client.post(reverse("tickets:take", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert (ticket.user, ticket.status) == (agent, "open")


def test_a_user_without_a_role_gets_403(client, contact, ticket):
    from contacts.tests.factories import UserFactory

    client.force_login(UserFactory(username="sem-papel"))
    assert client.get(reverse("tickets:list")).status_code == 403
    assert client.post(reverse("tickets:close", args=[ticket.pk])).status_code == 403


def test_the_channel_kind_choices_are_fixed():
    assert Channel.Kind.values == ["whatsapp", "telegram"]


def test_messages_follow_the_users_language(agent_client, ticket, settings):
    agent_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = agent_client.post(reverse("tickets:close", args=[ticket.pk]), follow=True)
    content = response.content.decode()
    assert f"Ticket #{ticket.pk} closed." in content
    assert "Reopen" in content and "This ticket was closed on" in content


def test_a_reply_whose_sending_never_finished_can_be_sent_again(agent_client, ticket, evolution):
    from datetime import timedelta

    from django.utils import timezone

    stuck = Message.objects.create(
        channel=ticket.channel,
        external_id="local:stuck",
        chat_id="5511987654321",
        sent_at=ticket.created_at,
        ticket=ticket,
        from_me=True,
        body="Oi",
        delivery="sending",
        updated_at=timezone.now() - timedelta(minutes=5),
    )
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "O envio não terminou" in page and "Tentar novamente" in page
    evolution.expect_request("/message/sendText/vendas").respond_with_json(sent_text(message_id="3EB0LATE"), status=201)
    agent_client.post(reverse("tickets:retry", args=[stuck.pk]))
    stuck.refresh_from_db()
    assert (stuck.delivery, stuck.external_id) == ("sent", "3EB0LATE")


def test_a_reply_being_sent_or_sent_is_not_sent_again(agent_client, ticket, evolution):
    sent_reply = Message.objects.create(
        channel=ticket.channel, external_id="3EB0DONE", chat_id="x", sent_at=ticket.created_at, ticket=ticket, from_me=True, delivery="sent"
    )
    agent_client.post(reverse("tickets:retry", args=[sent_reply.pk]))
    sent_reply.refresh_from_db()
    assert sent_reply.external_id == "3EB0DONE"
    assert len(evolution.log) == 0


def test_a_refused_reopen_links_to_the_ticket_that_is_open(agent_client, ticket, contact, whatsapp):
    ticket.close()
    open_one = Ticket.objects.create(contact=contact, channel=whatsapp)
    response = agent_client.post(reverse("tickets:reopen", args=[ticket.pk]), follow=True)
    content = response.content.decode()
    assert (
        "Este contato já tem um atendimento aberto neste canal: "
        f'<a href="{open_one.get_absolute_url()}">atendimento #{open_one.pk}</a>.'
    ) in content
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_a_reply_keeps_its_line_breaks(agent_client, ticket, evolution):
    evolution.expect_request(
        "/message/sendText/vendas", json={"number": "5511987654321", "text": "Olá!\nSeu pedido saiu hoje.\n\nAbraços"}
    ).respond_with_json(sent_text(), status=201)
    agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Olá!\r\nSeu pedido saiu hoje.\r\n\r\nAbraços\r\n"})
    evolution.check_assertions()
    assert Message.objects.get().body == "Olá!\nSeu pedido saiu hoje.\n\nAbraços"
