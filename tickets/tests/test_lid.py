"""WhatsApp LIDs are addresses of their own: a person may write by LID,
by number, or both, in every shape Evolution API's releases send; every
LID and number pair the gateway reveals puts their contacts together."""

import json

import pytest
from django.urls import reverse

from contacts.models import Contact, ContactIdentity, MergeRecord
from contacts.tests.factories import ContactFactory
from tickets.models import Message, Ticket

from . import payloads
from .conftest import WHATSAPP_SECRET

pytestmark = pytest.mark.django_db

LID = "123456789012345"
PHONE = "5511987654321"


def post(client, channel, body):
    response = client.post(reverse("tickets:webhook", args=[channel.pk]), json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["stored"]


def say(client, channel, **fields):
    return post(client, channel, payloads.upsert(WHATSAPP_SECRET, **fields))


def event(client, channel, name, items):
    return post(client, channel, payloads.evolution(name, items, apikey=WHATSAPP_SECRET))


def lid_row():
    return ContactIdentity.objects.get(kind="lid", value=LID)


@pytest.mark.parametrize(
    "key",
    [
        # 2.3.6: the LID in remoteJid, the phone beside it.
        {"remote_jid": f"{LID}@lid", "remoteJidAlt": f"{PHONE}@s.whatsapp.net", "addressingMode": "lid"},
        # 2.4.0: the other way round.
        {"remote_jid": f"{PHONE}@s.whatsapp.net", "remoteJidAlt": f"{LID}@lid", "addressingMode": "pn"},
        # addressingMode is not trusted: it says "pn" of a LID here.
        {"remote_jid": f"{LID}@lid", "remoteJidAlt": f"{PHONE}@s.whatsapp.net", "addressingMode": "pn"},
        # Older builds: senderPn.
        {"remote_jid": f"{LID}@lid", "senderPn": f"{PHONE}@s.whatsapp.net"},
    ],
)
def test_a_message_with_a_lid_and_a_phone_makes_one_contact_with_both(client, whatsapp, key):
    say(client, whatsapp, push_name="Maria", **key)
    contact = Contact.objects.get()
    assert (contact.name, contact.number) == ("Maria", PHONE)
    row = lid_row()
    assert (row.contact, row.number, row.seen, row.place) == (contact, PHONE, "message", "WhatsApp Vendas")
    message = Message.objects.get()
    assert (message.contact, message.chat_identity) == (contact, PHONE)


def test_a_237_message_with_the_phone_in_both_fields_has_no_lid(client, whatsapp):
    say(client, whatsapp, remote_jid=f"{PHONE}@s.whatsapp.net", remoteJidAlt=f"{PHONE}@s.whatsapp.net")
    assert Contact.objects.get().number == PHONE
    assert not ContactIdentity.objects.exists()


def test_a_lid_only_sender_is_a_contact_without_a_number_and_in_the_queue(client, whatsapp):
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia", addressingMode="lid")
    contact = Contact.objects.get()
    assert (contact.name, contact.number) == ("Bia", "")  # never the LID's digits as a number
    assert lid_row().contact == contact
    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.status) == (contact, "pending")
    say(client, whatsapp, remote_jid=f"{LID}@lid", text="de novo")
    assert (Contact.objects.count(), ticket.messages.count()) == (1, 2)


def test_a_lid_only_sender_without_a_profile_name_gets_a_neutral_name(client, whatsapp):
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="")
    assert Contact.objects.get().name == "Contato do WhatsApp"


def test_lid_then_phone_the_lid_contact_takes_the_number_and_its_history_says_so(client, whatsapp):
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    say(client, whatsapp, remote_jid=f"{LID}@lid", remoteJidAlt=f"{PHONE}@s.whatsapp.net", push_name="Bia")
    contact = Contact.objects.get()
    assert contact.number == PHONE
    assert [record.number for record in contact.history.order_by("history_id")] == ["", PHONE]
    assert contact.history.latest("history_id").history_source == "message"
    # A later message by the number alone reaches the same contact and ticket.
    say(client, whatsapp, remote_jid=f"{PHONE}@s.whatsapp.net", text="pelo número")
    assert (Contact.objects.count(), Ticket.objects.count(), Ticket.objects.get().messages.count()) == (1, 1, 3)


def test_phone_then_lid_the_contact_takes_the_lid_and_a_lid_only_message_reaches_it(client, whatsapp):
    contact = ContactFactory(name="Maria", number=PHONE)
    say(client, whatsapp, remote_jid=f"{PHONE}@s.whatsapp.net", remoteJidAlt=f"{LID}@lid")
    assert lid_row().contact == contact
    say(client, whatsapp, remote_jid=f"{LID}@lid", text="só pelo LID")
    assert Contact.objects.get() == contact
    assert Ticket.objects.get().messages.count() == 2


@pytest.mark.parametrize(
    ("name", "item"),
    [
        ("contacts.upsert", {"remoteJid": f"{LID}@lid", "phoneNumber": f"{PHONE}@s.whatsapp.net", "pushName": "Bia"}),
        ("CONTACTS_UPDATE", {"id": f"{PHONE}@s.whatsapp.net", "lid": f"{LID}@lid"}),
        ("chats.upsert", {"remoteJid": f"{PHONE}@s.whatsapp.net", "remoteJidAlt": f"{LID}@lid"}),
    ],
)
def test_a_revealed_pair_merges_the_lid_contact_into_the_older_number_contact(client, whatsapp, name, item):
    older = ContactFactory(name="Maria Souza", number=PHONE)
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia", text="pelo LID")
    lid_contact = Contact.objects.exclude(pk=older.pk).get()
    assert Ticket.objects.get().contact == lid_contact

    event(client, whatsapp, name, [item])

    assert list(Contact.objects.all()) == [older]
    assert lid_row().contact == older
    assert Ticket.objects.get().contact == older
    assert Message.objects.get().contact == older
    record = MergeRecord.objects.get()
    assert (record.survivor, record.rules, record.source) == (older, ["lid"], "message")
    assert record.contacts.get().contact_id == lid_contact.pk
    # Either address reaches the one contact from now on.
    say(client, whatsapp, remote_jid=f"{LID}@lid", text="de novo pelo LID")
    say(client, whatsapp, remote_jid=f"{PHONE}@s.whatsapp.net", text="pelo número")
    assert Ticket.objects.get().messages.count() == 3


def test_a_message_naming_both_merges_two_contacts_each_knew_by_one(client, whatsapp):
    older = ContactFactory(number=PHONE)
    say(client, whatsapp, remote_jid=f"{LID}@lid", text="pelo LID")
    say(client, whatsapp, remote_jid=f"{LID}@lid", remoteJidAlt=f"{PHONE}@s.whatsapp.net", text="com os dois")
    assert list(Contact.objects.all()) == [older]
    assert Ticket.objects.get().messages.count() == 2


def test_a_pair_revealed_before_anyone_wrote_gives_the_lid_only_sender_their_number(client, whatsapp):
    event(client, whatsapp, "contacts.upsert", [{"remoteJid": f"{LID}@lid", "phoneNumber": f"{PHONE}@s.whatsapp.net"}])
    row = lid_row()
    assert (row.contact, row.number, row.seen) == (None, PHONE, "gateway")
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    contact = Contact.objects.get()
    assert (contact.name, contact.number) == ("Bia", PHONE)
    assert lid_row().contact == contact
    assert Message.objects.get().chat_identity == PHONE


@pytest.mark.parametrize(
    "author",
    [
        {"participant": f"{LID}@lid", "participantAlt": f"{PHONE}@s.whatsapp.net"},  # 2.3.6
        {"participant": f"{PHONE}@s.whatsapp.net", "participantAlt": f"{LID}@lid", "addressingMode": "pn"},  # 2.4.0
        {"participant": f"{LID}@lid", "participantPn": f"{PHONE}@s.whatsapp.net"},  # older builds
    ],
    ids=["2.3.6", "2.4.0", "participantPn"],
)
def test_a_group_participants_pair_is_remembered(client, whatsapp, author):
    say(client, whatsapp, remote_jid="120363025246125888@g.us", **author)
    assert lid_row().number == PHONE
    message = Message.objects.get()
    assert (message.sender_id, message.chat_identity, message.is_group) == (PHONE, "120363025246125888", True)
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    assert Contact.objects.get(is_group=False).number == PHONE
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    assert Contact.objects.get(is_group=False).number == PHONE


def test_a_237_group_message_with_the_phone_in_both_fields_names_its_author_by_number(client, whatsapp):
    phone_jid = f"{PHONE}@s.whatsapp.net"
    say(client, whatsapp, remote_jid="120363025246125888@g.us", participant=phone_jid, participantAlt=phone_jid)
    assert Message.objects.get().sender_id == PHONE
    assert not ContactIdentity.objects.exists()


def test_a_lid_contact_that_has_another_number_keeps_it_and_learns_the_new_one(client, whatsapp):
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    contact = Contact.objects.get()
    contact.number = "5521988887777"
    contact.save()
    event(client, whatsapp, "contacts.update", [{"id": f"{PHONE}@s.whatsapp.net", "lid": f"{LID}@lid"}])
    contact.refresh_from_db()
    assert contact.number == "5521988887777"
    assert ContactIdentity.objects.get(kind="number").contact == contact
    say(client, whatsapp, remote_jid=f"{PHONE}@s.whatsapp.net", text="pelo outro número")
    assert Contact.objects.count() == 1


def test_our_own_lid_and_number_are_never_paired_into_a_contact(client, whatsapp):
    body = payloads.evolution(
        "contacts.upsert",
        [{"remoteJid": "999999999999999@lid", "phoneNumber": f"{payloads.OUR_NUMBER}@s.whatsapp.net"}],
        apikey=WHATSAPP_SECRET,
    )
    post(client, whatsapp, body)
    assert not ContactIdentity.objects.exists()


def test_the_list_says_a_lid_only_contacts_number_is_not_known_yet(client, whatsapp, admin_user):
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    client.force_login(admin_user)
    row = client.get(reverse("contacts:list"), {"q": "Bia"}).content.decode()
    assert "número ainda desconhecido" in row
    assert LID not in row  # the LID's digits are never shown as a number


def test_the_contacts_popup_shows_its_identities_with_where_and_when_they_were_seen(client, whatsapp, admin_user):
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    contact = Contact.objects.get()
    client.force_login(admin_user)
    page = client.get(reverse("contacts:update", args=[contact.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "Outros endereços" in page
    assert "LID do WhatsApp" in page and LID in page
    assert "visto em mensagem recebida" in page and "WhatsApp Vendas" in page
    assert "O número ainda não é conhecido" in page


def test_a_lid_only_contact_can_be_reached_and_a_new_ticket_replies_to_the_lid(client, whatsapp):
    say(client, whatsapp, remote_jid=f"{LID}@lid", push_name="Bia")
    contact = Contact.objects.get()
    assert whatsapp.reaches(contact)
    assert whatsapp.provider.chat_id_of(contact) == f"{LID}@lid"
