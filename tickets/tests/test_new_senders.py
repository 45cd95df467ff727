"""A new customer's first message opens a conversation at once: the
contact, its history and a ticket, in the webhook's own request."""

import json

import pytest
from django.urls import reverse

from contacts.history import contact_timeline
from contacts.models import Contact, ContactIdentity
from contacts.tests.factories import ContactFactory, WalletFactory
from tickets.models import Message, Ticket

from . import payloads
from .conftest import TELEGRAM_SECRET, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db


def deliver(client, channel, body):
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET} if channel.kind == "telegram" else {}
    url = reverse("tickets:webhook", args=[channel.pk])
    response = client.post(url, json.dumps(body), content_type="application/json", headers=headers)
    assert response.status_code == 200, response.content
    return response.json()["stored"]


def evolution_says(client, channel, **fields):
    return deliver(client, channel, payloads.upsert(WHATSAPP_SECRET, **fields))


def test_a_new_senders_first_message_creates_the_contact_and_a_pending_ticket_in_the_same_request(client, whatsapp):
    assert whatsapp_say(client, whatsapp, push_name="Maria Souza", text="Quero um orçamento") == 1
    contact = Contact.objects.get()
    assert (contact.name, contact.number, contact.wallet, contact.is_group) == ("Maria Souza", "5511987654321", None, False)
    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.channel, ticket.status, ticket.user) == (contact, whatsapp, "pending", None)
    assert list(ticket.messages.values_list("body", flat=True)) == ["Quero um orçamento"]


def whatsapp_say(client, channel, **fields):
    return evolution_says(client, channel, remote_jid="5511987654321@s.whatsapp.net", **fields)


def test_the_new_contacts_history_says_it_came_from_a_received_message(client, whatsapp):
    whatsapp_say(client, whatsapp)
    contact = Contact.objects.get()
    assert contact.history.get().history_source == "message"
    entry = contact_timeline(contact.pk)[0]
    assert (entry.verb, entry.sentence) == ("created", "Mensagem recebida criou o contato")


def test_a_sender_without_a_profile_name_is_named_by_the_number(client, whatsapp):
    whatsapp_say(client, whatsapp, push_name="")
    assert Contact.objects.get().name == "+55 11 98765-4321"


def test_repeated_deliveries_of_a_first_message_make_one_contact_one_ticket_one_message(client, whatsapp):
    body = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0FIRST000000001")
    assert [deliver(client, whatsapp, body) for _ in range(3)] == [1, 0, 0]
    assert (Contact.objects.count(), Ticket.objects.count(), Message.objects.count()) == (1, 1, 1)


def test_the_next_messages_join_the_ticket_the_first_one_opened(client, whatsapp):
    whatsapp_say(client, whatsapp, text="oi")
    whatsapp_say(client, whatsapp, text="tem alguém aí?")
    assert Ticket.objects.get().messages.count() == 2
    assert Contact.objects.count() == 1


def test_our_own_message_to_a_new_number_waits_and_joins_the_conversation_when_they_answer(client, whatsapp):
    whatsapp_say(client, whatsapp, from_me=True, text="Olá, aqui é da loja")
    assert not Contact.objects.exists() and not Ticket.objects.exists()
    whatsapp_say(client, whatsapp, text="Oi, pode falar")
    ticket = Ticket.objects.get()
    assert list(ticket.messages.values_list("body", flat=True)) == ["Olá, aqui é da loja", "Oi, pode falar"]


def test_a_known_contact_in_an_agents_wallet_gets_an_open_ticket_for_the_agent(client, whatsapp, agent):
    contact = ContactFactory(number="5511987654321", wallet=WalletFactory(user=agent))
    whatsapp_say(client, whatsapp)
    assert Ticket.objects.get().user == agent
    assert Ticket.objects.get().status == "open"
    assert Contact.objects.get() == contact


def test_a_telegram_users_first_message_makes_them_a_contact_by_chat_id(client, telegram):
    sender = payloads.telegram_user(5151, "Ana", None)
    assert deliver(client, telegram, payloads.telegram_update(sender=sender, text="Olá")) == 1
    contact = Contact.objects.get()
    assert (contact.name, contact.telegram_id, contact.number) == ("Ana", "5151", "")
    assert Ticket.objects.get().contact == contact
    assert deliver(client, telegram, payloads.telegram_update(sender=sender, text="?")) == 1
    assert (Contact.objects.count(), Ticket.objects.get().messages.count()) == (1, 2)


# Groups ---------------------------------------------------------------------


def test_group_messages_by_default_wait_for_sincronizar_grupos(client, whatsapp):
    evolution_says(client, whatsapp, remote_jid="120363025246125888@g.us", participant="5511911112222@s.whatsapp.net")
    assert not Contact.objects.exists() and not Ticket.objects.exists()
    assert Message.objects.get().contact is None


def test_a_known_groups_messages_join_its_open_ticket_but_open_none_by_default(client, whatsapp):
    group = ContactFactory(name="Grupo", number="120363025246125888", is_group=True)
    evolution_says(client, whatsapp, remote_jid="120363025246125888@g.us", participant="5511911112222@s.whatsapp.net")
    assert Message.objects.get().contact == group and not Ticket.objects.exists()
    ticket = Ticket.objects.create(contact=group, channel=whatsapp)
    evolution_says(client, whatsapp, remote_jid="120363025246125888@g.us", participant="5511911112222@s.whatsapp.net")
    assert ticket.messages.count() == 1


def test_a_channel_whose_groups_open_tickets_makes_a_new_group_a_contact_with_a_ticket(client, whatsapp, telegram):
    for channel in (whatsapp, telegram):
        channel.group_tickets = True
        channel.save()
    evolution_says(client, whatsapp, remote_jid="120363025246125888@g.us", participant="5511911112222@s.whatsapp.net")
    deliver(client, telegram, payloads.telegram_update(chat=payloads.telegram_group(-100777, "Clientes VIP")))
    assert set(Contact.objects.values_list("name", "number", "telegram_id", "is_group")) == {
        ("120363025246125888", "120363025246125888", "", True),
        ("Clientes VIP", "", "-100777", True),
    }
    assert Ticket.objects.count() == 2
    # The participant is not made a contact.
    assert not Contact.objects.filter(number="5511911112222").exists()


# The business's own number -------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        {"remote_jid": f"{payloads.OUR_NUMBER}@s.whatsapp.net"},  # a note to ourselves
        {"remote_jid": "123456789012345@lid", "remoteJidAlt": f"{payloads.OUR_NUMBER}@s.whatsapp.net"},
        {"remote_jid": "5511900000000@s.whatsapp.net", "senderPn": "5511900000000@s.whatsapp.net"},
    ],
)
def test_the_business_own_number_never_becomes_a_contact(client, whatsapp, key):
    evolution_says(client, whatsapp, push_name="Loja", **key)
    # Nor its LID beside it: no contact, no ticket, no address remembered.
    assert not Contact.objects.exists()
    assert not Ticket.objects.exists()
    assert not ContactIdentity.objects.exists()
    assert Message.objects.count() == 1  # kept all the same


def test_the_channels_own_number_is_known_even_when_the_envelope_names_another(client, whatsapp):
    body = payloads.evolution(
        "messages.upsert",
        payloads.whatsapp_message(remote_jid="5511900000000@s.whatsapp.net"),
        apikey=WHATSAPP_SECRET,
        sender="123456789@lid",
    )
    deliver(client, whatsapp, body)
    assert not Contact.objects.exists()


def test_a_message_stored_before_its_sender_was_a_contact_delivered_again_makes_no_contact(client, whatsapp):
    body = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0EARLY00000001", remote_jid="5511987654321@s.whatsapp.net")
    deliver(client, whatsapp, body)
    Contact.objects.all().delete()
    Ticket.objects.all().delete()

    assert deliver(client, whatsapp, body) == 0

    assert (Contact.objects.count(), Ticket.objects.count()) == (0, 0)
    assert Message.objects.get().contact_id is None


def test_a_new_senders_contact_history_ticket_and_lid_are_written_together(client, whatsapp):
    evolution_says(
        client, whatsapp, remote_jid="123456789012345@lid", remoteJidAlt="5511987654321@s.whatsapp.net", push_name="Ana"
    )
    contact = Contact.objects.get()
    assert (contact.name, contact.number) == ("Ana", "5511987654321")
    assert list(contact.identities.values_list("kind", "value", "number")) == [("lid", "123456789012345", "5511987654321")]
    record = contact.history.get()
    assert (record.history_type, record.name, record.number) == ("+", "Ana", "5511987654321")
    message = Message.objects.get()
    assert (message.contact, message.ticket) == (contact, Ticket.objects.get(contact=contact))


def test_a_message_to_a_conversation_going_on_moves_its_activity_at_most_every_ten_seconds(client, whatsapp):
    from datetime import timedelta

    whatsapp_say(client, whatsapp, text="primeira")
    ticket = Ticket.objects.get()
    long_ago = ticket.last_message_at - timedelta(minutes=5)
    Ticket.objects.filter(pk=ticket.pk).update(last_message_at=long_ago)

    whatsapp_say(client, whatsapp, text="segunda")
    ticket.refresh_from_db()
    moved = ticket.last_message_at
    assert moved > long_ago + timedelta(minutes=4)
    whatsapp_say(client, whatsapp, text="terceira")
    ticket.refresh_from_db()
    assert ticket.last_message_at == moved
    assert ticket.messages.count() == 3
