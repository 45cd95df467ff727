""""Sincronizar" and "Sincronizar grupos": from the stored history and from
Evolution API's own lists (served here by a local HTTP server)."""

import json
import socket
import time

import pytest
from django.core.management import CommandError, call_command
from werkzeug import Response

from audit.models import AuditEvent
from contacts.history import contact_timeline
from contacts.models import Contact, ContactIdentity
from contacts.tests.factories import ContactFactory, WalletFactory
from tickets import gateways
from tickets.providers import evolution
from tickets.models import Message, Ticket
from tickets.sync import sync_contacts, sync_groups

from . import payloads
from .stored import stored_before
from .conftest import WHATSAPP_SECRET

pytestmark = pytest.mark.django_db


def whatsapp_delivers(client, channel, **fields):
    stored_before(channel, payloads.upsert(WHATSAPP_SECRET, **fields))


def telegram_delivers(client, channel, **fields):
    stored_before(channel, payloads.telegram_update(**fields))


@pytest.fixture
def history(client, whatsapp, telegram):
    """Unknown senders on both channels, and a group."""
    whatsapp_delivers(client, whatsapp, remote_jid="5511987654321@s.whatsapp.net", push_name="Mari", text="oi")
    whatsapp_delivers(client, whatsapp, remote_jid="5511987654321@s.whatsapp.net", push_name="Maria Souza", text="?")
    whatsapp_delivers(client, whatsapp, remote_jid="5511987654321@s.whatsapp.net", text="Olá Maria", from_me=True)
    # Only we have written to this one: it has still talked with our users.
    whatsapp_delivers(client, whatsapp, remote_jid="552134567890@s.whatsapp.net", text="Seu pedido saiu", from_me=True)
    whatsapp_delivers(client, whatsapp, remote_jid="99887766554433@lid", text="sem número")
    whatsapp_delivers(client, whatsapp, remote_jid="120363025246125888@g.us", participant="5511911112222@s.whatsapp.net")
    telegram_delivers(client, telegram, sender=payloads.telegram_user(424242, "Ana", None), text="Olá")
    telegram_delivers(client, telegram, chat=payloads.telegram_group(-100777, "Clientes VIP"), text="Bom dia")


def test_sync_creates_a_contact_for_every_private_chat_and_puts_its_messages_in_tickets(history, whatsapp, telegram):
    report = sync_contacts()

    assert report.counts == {"contacts_created": 4, "messages_linked": 6, "tickets_opened": 3, "chats_skipped": 0}
    assert set(Contact.objects.values_list("name", "number", "telegram_id", "is_group")) == {
        ("Maria Souza", "5511987654321", "", False),  # the latest profile name
        ("+55 21 3456-7890", "552134567890", "", False),  # no profile name: the number
        ("Ana", "", "424242", False),  # Telegram's first name, no "None"
        ("Maria Souza", "", "", False),  # a LID alone: no number yet
    }
    maria = Contact.objects.get(number="5511987654321")
    ticket = Ticket.objects.get(contact=maria)
    assert (ticket.channel, ticket.status, ticket.user) == (whatsapp, "pending", None)
    assert ticket.messages.count() == 3  # ours included
    # We wrote first and nobody answered: no ticket to serve.
    assert not Ticket.objects.filter(contact__number="552134567890").exists()
    assert Message.objects.filter(contact__number="552134567890").count() == 1
    assert Ticket.objects.get(contact__telegram_id="424242").channel == telegram
    lid_contact = Contact.objects.get(identities__kind="lid", identities__value="99887766554433")
    assert (lid_contact.number, lid_contact.history.get().history_source) == ("", "sync")
    # Groups wait for "Sincronizar grupos".
    assert Message.objects.filter(contact__isnull=True).count() == 2


def test_a_second_sync_creates_nothing(history):
    sync_contacts()
    counts = (Contact.objects.count(), Ticket.objects.count(), Message.objects.filter(contact__isnull=True).count())
    assert sync_contacts().counts == {"contacts_created": 0, "messages_linked": 0, "tickets_opened": 0, "chats_skipped": 0}
    assert (Contact.objects.count(), Ticket.objects.count(), Message.objects.filter(contact__isnull=True).count()) == counts


def test_a_name_edited_by_hand_is_never_overwritten(client, whatsapp, agent):
    contact = ContactFactory(name="Sra. Maria (VIP)", number="5511987654321", wallet=WalletFactory(user=agent))
    Message.objects.create(
        channel=whatsapp,
        external_id="old",
        chat_id="5511987654321@s.whatsapp.net",
        chat_identity="5511987654321",
        sender_name="Maria Souza",
        body="antes do contato existir",
        sent_at=contact.created_at,
    )
    report = sync_contacts()
    contact.refresh_from_db()
    assert contact.name == "Sra. Maria (VIP)"
    assert (report.created, report.messages_linked, report.tickets_opened) == (0, 1, 1)
    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.user, ticket.status) == (contact, agent, "open")


def test_created_contacts_show_the_sync_in_their_history_and_the_run_is_audited(history, admin_user):
    sync_contacts(user=admin_user)
    maria = Contact.objects.get(number="5511987654321")
    record = maria.history.get()
    assert (record.history_type, record.history_source, record.history_user) == ("+", "sync", admin_user)
    entry = contact_timeline(maria.pk)[0]
    assert entry.verb == "created"
    assert entry.through == "sincronização"
    event = AuditEvent.objects.get()
    assert (event.action, event.user, event.source) == ("sync", admin_user, "sync")
    assert event.counts == {"contacts_created": 4, "messages_linked": 6, "tickets_opened": 3, "chats_skipped": 0}


def test_sync_groups_creates_the_groups_and_leaves_people_alone(history, whatsapp, telegram):
    report = sync_groups()
    assert (report.created, report.messages_linked, report.tickets_opened) == (2, 2, 2)
    assert set(Contact.objects.values_list("name", "number", "telegram_id", "is_group")) == {
        ("120363025246125888", "120363025246125888", "", True),  # WhatsApp does not send the subject
        ("Clientes VIP", "", "-100777", True),
    }
    assert AuditEvent.objects.get().action == "sync_groups"
    assert sync_groups().created == 0


# The gateway's lists ------------------------------------------------------


@pytest.fixture
def gateway(httpserver, whatsapp):
    whatsapp.gateway_url = httpserver.url_for("/")
    whatsapp.instance = "vendas"
    whatsapp.api_key = "chave-da-instancia"
    whatsapp.save()
    return httpserver


def serve_lists(httpserver, *, chats=(), contacts=(), groups=()):
    headers = {"apikey": "chave-da-instancia"}
    httpserver.expect_request("/chat/findChats/vendas", method="POST", headers=headers).respond_with_json(list(chats))
    httpserver.expect_request("/chat/findContacts/vendas", method="POST", headers=headers).respond_with_json(list(contacts))
    httpserver.expect_request("/group/fetchAllGroups/vendas", method="GET", headers=headers).respond_with_json(list(groups))


def test_the_gateways_chats_reach_back_before_the_webhook(gateway):
    serve_lists(
        gateway,
        chats=[
            payloads.gateway_chat("5511955554444@s.whatsapp.net", "Pedro"),
            payloads.gateway_chat("551133334444@s.whatsapp.net", "Padaria", last_from_me=True),
            payloads.gateway_chat("551188887777@s.whatsapp.net", "Nome do chat"),
            payloads.gateway_chat("120363000000000001@g.us", "Um grupo"),
            payloads.gateway_chat("12345678901234@lid", "Sem número"),
            payloads.gateway_chat("status@broadcast", None),
        ],
        contacts=[
            payloads.gateway_contact("551188887777@s.whatsapp.net", "Júlia D'Ávila 🌻\x00\u202e"),
            payloads.gateway_contact("5511900001111@s.whatsapp.net", "Só nos grupos"),
        ],
    )
    report = sync_contacts()
    assert report.notes == []
    assert set(Contact.objects.values_list("name", "number")) == {
        ("Pedro", "5511955554444"),
        ("+55 11 3333-4444", "551133334444"),  # the chat's name was ours ("Você")
        ("Júlia D'Ávila 🌻", "5511988887777"),  # the contact list's name, cleaned; 9th digit added
        ("Sem número", ""),  # a LID chat whose number nobody told: a contact with its LID
    }
    assert report.skipped == 0
    assert not Ticket.objects.exists()  # no stored messages to serve


def test_the_gateways_lists_are_read_page_by_page(gateway, monkeypatch):
    monkeypatch.setattr(evolution, "PAGE_SIZE", 2)
    chats = [payloads.gateway_chat(f"55119876500{n:02d}@s.whatsapp.net", f"Cliente {n}") for n in range(5)]
    pages = []

    def find_chats(request):
        body = request.get_json()
        pages.append((body["take"], body["skip"]))
        return Response(json.dumps(chats[body["skip"] : body["skip"] + body["take"]]), content_type="application/json")

    gateway.expect_request("/chat/findChats/vendas").respond_with_handler(find_chats)
    gateway.expect_request("/chat/findContacts/vendas").respond_with_json([])
    assert sync_contacts().created == 5
    assert pages == [(2, 0), (2, 2), (2, 4)]


def test_sync_groups_names_whatsapp_groups_by_their_subject(gateway, client, whatsapp):
    whatsapp_delivers(client, whatsapp, remote_jid="120363025246125888@g.us", participant="5511911112222@s.whatsapp.net")
    serve_lists(
        gateway,
        groups=[
            payloads.gateway_group("120363025246125888@g.us", "Vendas \"Sul\" 🚚"),
            payloads.gateway_group("5511987654321-1612345678@g.us", "Grupo antigo"),
            payloads.gateway_group("not-a-group@s.whatsapp.net", "x"),
        ],
    )
    report = sync_groups()
    assert set(Contact.objects.values_list("name", "number", "is_group")) == {
        ("Vendas \"Sul\" 🚚", "120363025246125888", True),
        ("Grupo antigo", "5511987654321-1612345678", True),
    }
    assert (report.messages_linked, report.tickets_opened) == (1, 1)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_gateway_that_is_down_is_named_and_the_history_still_syncs(history, whatsapp):
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = f"http://127.0.0.1:{unused_port()}", "vendas", "k"
    whatsapp.save()
    report = sync_contacts()
    assert report.created == 4
    assert report.notes == [
        "WhatsApp Vendas: Não foi possível falar com o gateway (ConnectError). As conversas do gateway ficaram "
        "de fora; o histórico de mensagens foi sincronizado."
    ]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (Response("<html>Bad gateway</html>", status=200, content_type="text/html"), "O gateway respondeu algo que não é JSON."),
        (Response('{"chats": "nope"}', content_type="application/json"), "O gateway respondeu algo que não é uma lista."),
        (
            Response('{"status":401,"error":"Unauthorized","response":{"message":"Unauthorized"}}', status=401),
            "O gateway recusou o pedido: confira a chave de API ou o token. (Unauthorized)",
        ),
        (Response("oops", status=500), "O gateway respondeu com o erro 500."),
    ],
)
def test_a_gateway_that_answers_garbage_is_named_and_the_history_still_syncs(history, gateway, response, message):
    gateway.expect_request("/chat/findContacts/vendas").respond_with_response(response)
    report = sync_contacts()
    assert report.created == 4
    assert len(report.notes) == 1 and message in report.notes[0]


def test_a_slow_gateway_is_given_up_on(history, gateway, monkeypatch):
    monkeypatch.setattr(gateways, "TIMEOUT", gateways.httpx.Timeout(0.3))

    def slow(request):
        time.sleep(1)
        return Response("[]", content_type="application/json")

    gateway.expect_request("/chat/findContacts/vendas").respond_with_handler(slow)
    report = sync_contacts()
    assert report.created == 4
    assert "O gateway não respondeu a tempo." in report.notes[0]


def test_a_telegram_channel_has_no_chat_list_to_ask(history, telegram):
    telegram.bot_token = "123:ABC"
    telegram.save()
    assert sync_contacts().notes == []


# The commands -------------------------------------------------------------


def test_the_command_syncs_and_says_what_it_did(history, admin_user, capsys):
    call_command("sync_contacts", user=admin_user.username)
    out = capsys.readouterr().out
    assert "Contatos criados: 4; mensagens ligadas: 6; atendimentos abertos: 3" in out
    event = AuditEvent.objects.get()
    assert (event.user, event.source) == (admin_user, "command")
    assert Contact.objects.get(number="5511987654321").history.get().history_source == "sync"


def test_the_groups_command_syncs_groups(history, capsys):
    call_command("sync_groups")
    assert Contact.objects.filter(is_group=True).count() == 2


def test_the_command_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="Não há usuário “ninguem”"):
        call_command("sync_contacts", user="ninguem")


def test_a_gateway_error_is_written_to_stderr(history, whatsapp, capsys):
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = f"http://127.0.0.1:{unused_port()}", "vendas", "k"
    whatsapp.save()
    call_command("sync_contacts")
    assert "WhatsApp Vendas: Não foi possível falar com o gateway" in capsys.readouterr().err



# WhatsApp LIDs -------------------------------------------------------------


def test_the_contact_list_tells_lids_numbers_and_sync_gives_each_lid_contact_its_number(gateway, client, whatsapp):
    lid_contact = ContactFactory(name="Bia", number="")
    ContactIdentity.objects.create(contact=lid_contact, kind="lid", value="123456789012345", seen="message")
    serve_lists(
        gateway,
        chats=[payloads.gateway_chat("123456789012345@lid", "Bia"), payloads.gateway_chat("98765432109876@lid", "Caio")],
        contacts=[
            {**payloads.gateway_contact("123456789012345@lid", "Bia"), "phoneNumber": "5511987654321@s.whatsapp.net"},
            {**payloads.gateway_contact("98765432109876@lid", "Caio"), "phoneNumber": "5521988887777@s.whatsapp.net"},
            # Only in the address book: remembered, not made a contact.
            {**payloads.gateway_contact("55555555555555@lid", "Dora"), "phoneNumber": "5531977776666@s.whatsapp.net"},
        ],
    )
    report = sync_contacts()
    lid_contact.refresh_from_db()
    assert lid_contact.number == "5511987654321"
    assert set(Contact.objects.values_list("name", "number")) == {("Bia", "5511987654321"), ("Caio", "5521988887777")}
    assert report.created == 1
    dora = ContactIdentity.objects.get(value="55555555555555")
    assert (dora.contact, dora.number, dora.seen, dora.place) == (None, "5531977776666", "sync", "WhatsApp Vendas")


def test_stored_lid_messages_whose_number_was_revealed_since_join_a_contact_with_that_number(client, whatsapp):
    stored_before(whatsapp, payloads.upsert(WHATSAPP_SECRET, remote_jid="123456789012345@lid", push_name="Bia"))
    ContactIdentity.objects.create(kind="lid", value="123456789012345", number="5511987654321", seen="gateway")
    report = sync_contacts()
    contact = Contact.objects.get()
    assert (contact.name, contact.number) == ("Bia", "5511987654321")
    assert (report.created, report.messages_linked, report.tickets_opened) == (1, 1, 1)
    assert Message.objects.get().contact == contact


def test_a_ticket_the_sync_opens_is_placed_by_its_newest_message(client, whatsapp):
    whatsapp_delivers(client, whatsapp, remote_jid="5511987654321@s.whatsapp.net", text="oi", timestamp=1764079500)
    whatsapp_delivers(client, whatsapp, remote_jid="5511987654321@s.whatsapp.net", text="?", timestamp=1764079600)
    sync_contacts()
    ticket = Ticket.objects.get()
    assert ticket.last_message_at == Message.objects.order_by("sent_at").last().sent_at
    assert ticket.last_message_at.timestamp() == 1764079600


def test_messages_the_sync_joins_to_an_open_ticket_move_it_forward(client, whatsapp):
    from datetime import UTC, datetime

    contact = ContactFactory(name="Maria", number="5511987654321")
    opened = Ticket.objects.create(contact=contact, channel=whatsapp, last_message_at=datetime(2025, 1, 1, tzinfo=UTC))
    Message.objects.create(
        channel=whatsapp, external_id="later", chat_id="5511987654321@s.whatsapp.net", chat_identity="5511987654321",
        contact=contact, sent_at=datetime(2025, 6, 1, tzinfo=UTC), body="depois",
    )
    sync_contacts()
    opened.refresh_from_db()
    assert opened.messages.count() == 1 and opened.last_message_at == datetime(2025, 6, 1, tzinfo=UTC)
