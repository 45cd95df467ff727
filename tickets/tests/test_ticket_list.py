"""The tickets list as agents work in it all day: newest conversation
first, the start of each last message, what the viewer has not read yet,
the queue for administrators, and the page asking by itself whether it
changed."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory, UserFactory
from tickets.models import Message, Ticket, TicketRead

from . import payloads
from .conftest import WHATSAPP_SECRET
from .test_ticket_views import sent_text

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def maria(agent_wallet):
    return ContactFactory(name="Maria Souza", number="5511987654321", wallet=agent_wallet)


@pytest.fixture
def joao(agent_wallet):
    return ContactFactory(name="João Pereira", number="5521912340000", wallet=agent_wallet)


def deliver(client, channel, **fields):
    """The gateway posting one message to the webhook."""
    fields.setdefault("timestamp", int(timezone.now().timestamp()))
    body = json.dumps(payloads.upsert(WHATSAPP_SECRET, **fields))
    assert client.post(reverse("tickets:webhook", args=[channel.pk]), body, content_type="application/json").status_code == 200


def page(client, **params):
    response = client.get(reverse("tickets:list"), params)
    assert response.status_code == 200
    return response


def rows(response) -> list[Ticket]:
    return list(response.context["page_obj"].object_list)


def test_the_newest_conversation_comes_first(agent_client, agent, maria, joao, whatsapp):
    now = timezone.now()
    older = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent, last_message_at=now - timedelta(hours=2))
    newer = Ticket.objects.create(contact=joao, channel=whatsapp, user=agent, last_message_at=now - timedelta(minutes=5))
    # Taking or closing a ticket is no message: it does not move it up.
    older.take(agent)
    assert [ticket.pk for ticket in rows(page(agent_client))] == [newer.pk, older.pk]


def test_a_reply_moves_its_ticket_to_the_top(agent_client, agent, maria, joao, whatsapp, httpserver):
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = httpserver.url_for("/"), "vendas", "k"
    whatsapp.save()
    httpserver.expect_request("/message/sendText/vendas").respond_with_json(sent_text(), status=201)
    now = timezone.now()
    older = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent, last_message_at=now - timedelta(hours=2))
    newer = Ticket.objects.create(contact=joao, channel=whatsapp, user=agent, last_message_at=now - timedelta(minutes=5))
    agent_client.post(reverse("tickets:reply", args=[older.pk]), {"text": "Já verifico!"})
    assert [ticket.pk for ticket in rows(page(agent_client))] == [older.pk, newer.pk]


def test_a_message_that_opens_a_ticket_puts_it_at_the_top(client, agent_client, agent, maria, joao, whatsapp):
    Ticket.objects.create(contact=joao, channel=whatsapp, user=agent, last_message_at=timezone.now() - timedelta(minutes=1))
    deliver(client, whatsapp, text="Oi, tudo bem?")
    first = rows(page(agent_client))[0]
    assert first.contact == maria


def test_a_message_on_an_open_ticket_moves_it_to_the_top(client, agent_client, agent, maria, joao, whatsapp):
    now = timezone.now()
    older = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent, last_message_at=now - timedelta(hours=2))
    Ticket.objects.create(contact=joao, channel=whatsapp, user=agent, last_message_at=now - timedelta(minutes=5))
    deliver(client, whatsapp, text="Alguma novidade?")
    assert rows(page(agent_client))[0] == older


def test_each_row_shows_the_start_of_its_last_message(client, agent_client, agent, maria, whatsapp):
    deliver(client, whatsapp, text="Primeira mensagem", timestamp=1764079500)
    deliver(client, whatsapp, text="Meu pedido 123 não chegou " + "e continua sem previsão " * 20, timestamp=1764079600)
    content = page(agent_client).content.decode()
    assert "Meu pedido 123 não chegou e continua" in content
    assert "Primeira mensagem" not in content
    assert "sem previsão " * 10 not in content  # the first words, not the whole text


def test_a_last_message_of_ours_is_marked_as_ours(agent_client, agent, maria, whatsapp):
    ticket = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent)
    Message.objects.create(channel=whatsapp, external_id="ours", chat_id="x", sent_at=timezone.now(), ticket=ticket, from_me=True, body="Pode deixar")
    content = page(agent_client).content.decode()
    assert '<span class="visually-hidden">Você:</span> Pode deixar' in content


def test_a_last_message_without_text_says_its_kind(agent_client, agent, maria, whatsapp):
    ticket = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent)
    Message.objects.create(channel=whatsapp, external_id="img", chat_id="x", sent_at=timezone.now(), ticket=ticket, kind="image")
    assert "<em>Imagem</em>" in page(agent_client).content.decode()


def unread(client, ticket) -> int:
    return {row.pk: row.unread for row in rows(page(client, view="all"))}[ticket.pk]


def test_the_unread_count_goes_up_with_each_message_and_to_zero_once_opened(client, agent_client, agent, maria, whatsapp):
    deliver(client, whatsapp, text="Oi")
    ticket = Ticket.objects.get()
    assert unread(agent_client, ticket) == 1
    deliver(client, whatsapp, text="Alguém aí?")
    assert unread(agent_client, ticket) == 2
    content = page(agent_client).content.decode()
    assert 'title="2 mensagens não lidas"' in content

    agent_client.get(ticket.get_absolute_url())
    assert unread(agent_client, ticket) == 0
    assert "mensagens não lidas" not in page(agent_client).content.decode()  # no badge at 0

    deliver(client, whatsapp, text="Obrigada!")
    assert unread(agent_client, ticket) == 1


def test_our_own_messages_are_never_unread(client, agent_client, agent, maria, whatsapp):
    deliver(client, whatsapp, text="Oi")
    ticket = Ticket.objects.get()
    agent_client.get(ticket.get_absolute_url())
    deliver(client, whatsapp, from_me=True, text="Respondido pelo celular")
    assert unread(agent_client, ticket) == 0


def test_unread_is_counted_for_each_user_apart(client, agent_client, admin_user, agent, maria, whatsapp):
    deliver(client, whatsapp, text="Oi")
    deliver(client, whatsapp, text="Bom dia")
    ticket = Ticket.objects.get()
    agent_client.get(ticket.get_absolute_url())
    assert unread(agent_client, ticket) == 0
    admin = client.__class__()
    admin.force_login(admin_user)
    assert unread(admin, ticket) == 2
    assert TicketRead.objects.get().user == agent


def test_the_conversation_refresh_marks_what_it_shows_as_read(client, agent_client, agent, maria, whatsapp):
    deliver(client, whatsapp, text="Oi")
    ticket = Ticket.objects.get()
    first = agent_client.get(ticket.get_absolute_url(), headers=HTMX)
    deliver(client, whatsapp, text="Ainda preciso de ajuda")
    assert unread(agent_client, ticket) == 1
    refreshed = agent_client.get(ticket.get_absolute_url(), {"version": first.context["version"]}, headers=HTMX)
    assert refreshed.status_code == 200
    assert unread(agent_client, ticket) == 0


def test_the_read_marker_never_moves_back(agent, maria, whatsapp):
    ticket = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent)
    ticket.mark_read(agent, message_id=40)
    ticket.mark_read(agent, message_id=12)
    assert TicketRead.objects.get().last_message_id == 40


def test_administrators_land_on_the_open_tickets(client, admin_user, agent, maria, joao, whatsapp):
    mine_elsewhere = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent)
    Ticket.objects.create(contact=joao, channel=whatsapp, user=agent, status="closed")
    client.force_login(admin_user)
    response = page(client)
    assert [ticket.pk for ticket in rows(response)] == [mine_elsewhere.pk]
    assert response.context["filter"].current_view == "open"
    assert 'class="active" aria-current="page">Abertos' in response.content.decode()


def test_superusers_land_on_the_open_tickets_too(client, agent, maria, whatsapp):
    ticket = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent)
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert rows(page(client)) == [ticket]


def test_agents_land_on_their_own_tickets(agent_client, other_agent, agent, maria, joao, whatsapp):
    mine = Ticket.objects.create(contact=maria, channel=whatsapp, user=agent)
    Ticket.objects.create(contact=joao, channel=whatsapp, status="pending")
    assert rows(page(agent_client)) == [mine]


def test_an_explicit_view_wins_over_the_landing(client, admin_user, agent, maria, whatsapp):
    Ticket.objects.create(contact=maria, channel=whatsapp, user=agent)
    client.force_login(admin_user)
    assert rows(page(client, view="mine")) == []
    assert len(rows(page(client, view="all"))) == 1


def poll(client, version, **params):
    return client.get(reverse("tickets:list"), params, headers={**HTMX, "X-List-Version": version})


def test_the_list_answers_204_while_nothing_changes_and_the_page_when_a_message_arrives(client, agent_client, agent, maria, whatsapp):
    deliver(client, whatsapp, text="Oi")
    version = page(agent_client).context["version"]
    assert poll(agent_client, version).status_code == 204

    deliver(client, whatsapp, text="Tem alguém aí?")
    changed = poll(agent_client, version)
    assert changed.status_code == 200
    content = changed.content.decode()
    assert "<html" not in content and "Tem alguém aí?" in content
    assert changed.context["version"] != version


def test_the_list_answers_the_page_when_a_new_ticket_comes(client, agent_client, agent, maria, joao, whatsapp):
    version = page(agent_client).context["version"]
    assert poll(agent_client, version).status_code == 204
    deliver(client, whatsapp, remote_jid="5521912340000@s.whatsapp.net", push_name="João", text="Bom dia")
    changed = poll(agent_client, version)
    assert changed.status_code == 200 and "João Pereira" in changed.content.decode()


def test_the_refresh_keeps_the_page_and_filters_it_was_asked_with(client, agent_client, agent, agent_wallet, whatsapp, telegram):
    for n in range(30):
        contact = ContactFactory(name=f"Cliente {n:02}", number=f"55119{n:08}", wallet=agent_wallet)
        Ticket.objects.create(contact=contact, channel=whatsapp, user=agent, last_message_at=timezone.now() - timedelta(minutes=n))
    second = page(agent_client, view="all", channel=whatsapp.pk, page=2)
    assert second.context["page_obj"].number == 2
    content = second.content.decode()
    poller = f'hx-get="{reverse("tickets:list")}?view=all&amp;channel={whatsapp.pk}&amp;page=2"'
    assert poller in content and 'hx-push-url="false"' in content
    version = second.context["version"]
    assert poll(agent_client, version, view="all", channel=whatsapp.pk, page=2).status_code == 204
    # The first page's version is not the second's.
    assert poll(agent_client, version, view="all", channel=whatsapp.pk).status_code == 200


def test_a_version_without_htmx_still_gets_the_whole_page(agent_client, agent, maria, whatsapp):
    version = page(agent_client).context["version"]
    response = agent_client.get(reverse("tickets:list"), headers={"X-List-Version": version})
    assert response.status_code == 200 and "<html" in response.content.decode()


def test_an_agent_never_sees_another_wallets_ticket_appear(client, agent_client, other_wallet, whatsapp):
    ContactFactory(name="Pedro Bruno", number="5521999990000", wallet=other_wallet)
    version = page(agent_client, view="all").context["version"]
    deliver(client, whatsapp, remote_jid="5521999990000@s.whatsapp.net", text="Oi")
    assert Ticket.objects.count() == 1
    assert poll(agent_client, version, view="all").status_code == 204


def test_the_page_counts_unread_messages_for_its_rows_only(agent_client, agent, agent_wallet, whatsapp, django_assert_max_num_queries):
    for n in range(40):
        contact = ContactFactory(name=f"Cliente {n:02}", number=f"55119{n:08}", wallet=agent_wallet)
        ticket = Ticket.objects.create(contact=contact, channel=whatsapp, user=agent)
        Message.objects.create(channel=whatsapp, external_id=f"m{n}", chat_id="x", sent_at=timezone.now(), ticket=ticket, body="Oi")
    # A constant number of queries, whatever the number of tickets.
    with django_assert_max_num_queries(12):
        response = page(agent_client)
    assert len(rows(response)) == 25 and all(row.unread == 1 for row in rows(response))
