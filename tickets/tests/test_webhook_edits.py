"""Edits arriving at the webhook: applied only when they come from the
edited message's own sender, with the text they replace kept and shown on
the ticket's page; forged ones change nothing."""

import json

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory
from tickets.models import Message, MessageEdit, Ticket

from . import payloads
from .conftest import TELEGRAM_SECRET, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db

CONTACT_JID = "5511987654321@s.whatsapp.net"
OUR_JID = f"{payloads.OUR_NUMBER}@s.whatsapp.net"


def post(client, channel, payload, **headers):
    response = client.post(
        reverse("tickets:webhook", args=[channel.pk]), json.dumps(payload), content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def reply(agent_client, contact, whatsapp, evolution):
    """The agent's reply "Entrega amanhã, frete grátis", sent through the
    panel: WhatsApp's id for it is 3EB0REPLY0001."""
    post(agent_client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0ASK0001", text="Quando chega?"))
    sent = {"key": {"remoteJid": CONTACT_JID, "fromMe": True, "id": "3EB0REPLY0001"}, "message": {"conversation": "ok"}}
    evolution.expect_request("/message/sendText/vendas").respond_with_json(sent, status=201)
    ticket = Ticket.objects.get()
    agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Entrega amanhã, frete grátis"})
    return Message.objects.get(external_id="3EB0REPLY0001", sent_by__isnull=False)


# The other person's own edits -------------------------------------------------


@pytest.mark.parametrize("addressed", [OUR_JID, "551190000000:12@s.whatsapp.net", "205432167890123@lid"])
def test_a_contacts_edit_of_its_own_message_applies_and_the_ticket_page_shows_the_earlier_text(
    agent_client, contact, whatsapp, addressed
):
    post(agent_client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0EDIT0001", text="Quero 2 caixas"))
    # The editor names the chat from its side: our number (or our LID).
    response = post(agent_client, whatsapp, payloads.edited(WHATSAPP_SECRET, "3EB0EDIT0001", "Quero 3 caixas", addressed=addressed))

    assert response.json() == {"stored": 0}
    message = Message.objects.get()
    assert (message.body, message.edited_at is not None) == ("Quero 3 caixas", True)
    assert list(message.edits.values_list("body", flat=True)) == ["Quero 2 caixas"]
    page = agent_client.get(message.ticket.get_absolute_url()).content.decode()
    assert "Quero 3 caixas" in page and "editada" in page
    earlier = page[page.index('<details class="app-message-edits">') :]
    assert "Quero 2 caixas" in earlier[: earlier.index("</details>")]


def test_a_second_edit_keeps_both_earlier_texts_and_a_repeated_one_adds_none(client, whatsapp):
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0EDIT0002", text="um"))
    for text in ("dois", "três", "três"):
        post(client, whatsapp, payloads.edited(WHATSAPP_SECRET, "3EB0EDIT0002", text))
    # Evolution API 2.2 posts the phone's edit twice: messages.edited and messages.upsert.
    post(client, whatsapp, payloads.edit_upsert(WHATSAPP_SECRET, "3EB0EDIT0002", "três", addressed=OUR_JID))

    message = Message.objects.get()
    assert message.body == "três"
    assert list(message.edits.values_list("body", flat=True)) == ["um", "dois"]


def test_an_edit_carried_by_messages_upsert_applies_under_its_envelope(client, whatsapp):
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0EDIT0003", text="Rua A, 10"))
    edit = payloads.edit_upsert(WHATSAPP_SECRET, "3EB0EDIT0003", "Rua A, 100", addressed=OUR_JID, remote_jid=CONTACT_JID)
    assert post(client, whatsapp, edit).json() == {"stored": 0}
    assert Message.objects.get().body == "Rua A, 100"


# Forged edits ---------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        # The contact's own edit event naming our reply's id.
        payloads.edited(WHATSAPP_SECRET, "3EB0REPLY0001", "Entrega amanhã, 90% de desconto", addressed=OUR_JID),
        # The same, written to look like our phone's edit: messages.edited
        # has no envelope to tell them apart.
        payloads.edited(WHATSAPP_SECRET, "3EB0REPLY0001", "Entrega amanhã, 90% de desconto", addressed=CONTACT_JID),
        # Under its envelope: the contact sent it.
        payloads.edit_upsert(
            WHATSAPP_SECRET, "3EB0REPLY0001", "Entrega amanhã, 90% de desconto", addressed=CONTACT_JID, remote_jid=CONTACT_JID
        ),
    ],
)
def test_a_forged_edit_of_an_agents_reply_is_refused_and_the_reply_keeps_its_text(agent_client, reply, whatsapp, edit):
    post(agent_client, whatsapp, edit)

    reply.refresh_from_db()
    assert (reply.body, reply.edited_at) == ("Entrega amanhã, frete grátis", None)
    assert not MessageEdit.objects.exists()
    assert Message.objects.count() == 2
    page = agent_client.get(reply.ticket.get_absolute_url()).content.decode()
    assert "90% de desconto" not in page


def test_our_own_edit_made_on_the_phone_applies(client, contact, whatsapp):
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0ASK0002", text="Oi"))
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0MINE0001", from_me=True, text="Custa R$ 10"))
    # Our phone's edit, under its envelope: fromMe, in the contact's chat.
    edit = payloads.edit_upsert(
        WHATSAPP_SECRET, "3EB0MINE0001", "Custa R$ 12", addressed=CONTACT_JID, remote_jid=CONTACT_JID, from_me=True
    )
    post(client, whatsapp, edit)

    message = Message.objects.get(external_id="3EB0MINE0001")
    assert (message.body, message.from_me) == ("Custa R$ 12", True)
    assert list(message.edits.values_list("body", flat=True)) == ["Custa R$ 10"]


def test_an_edit_of_the_contacts_message_claiming_to_be_ours_is_refused(client, whatsapp):
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0EDIT0004", text="Cancelem meu pedido"))
    edit = payloads.edit_upsert(
        WHATSAPP_SECRET, "3EB0EDIT0004", "Não cancelem", addressed=CONTACT_JID, remote_jid=CONTACT_JID, from_me=True
    )
    post(client, whatsapp, edit)
    assert Message.objects.get().body == "Cancelem meu pedido"


def test_a_group_edit_applies_for_its_author_only(client, whatsapp):
    ContactFactory(number="120363025246125888", is_group=True)
    author, other = "552199887766@s.whatsapp.net", "553188776655@s.whatsapp.net"
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, remote_jid=payloads.GROUP_JID, participant=author, message_id="3EB0GRP0001", text="Pago"))

    group = {"addressed": payloads.GROUP_JID, "remote_jid": payloads.GROUP_JID}
    post(client, whatsapp, payloads.edit_upsert(WHATSAPP_SECRET, "3EB0GRP0001", "Não pago", participant=other, **group))
    # messages.edited does not say which member sent it.
    post(client, whatsapp, payloads.edited(WHATSAPP_SECRET, "3EB0GRP0001", "Não pago", addressed=payloads.GROUP_JID))
    assert (Message.objects.get().body, MessageEdit.objects.count()) == ("Pago", 0)

    post(client, whatsapp, payloads.edit_upsert(WHATSAPP_SECRET, "3EB0GRP0001", "Pago, via Pix", participant=author, **group))
    assert Message.objects.get().body == "Pago, via Pix"


@pytest.mark.parametrize("number_known", ["revealed before", "in the edit itself"])
def test_an_edit_by_number_of_a_message_that_came_by_lid_alone_applies(client, whatsapp, number_known):
    lid, phone = "205432167890123", "5511987654321"
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, remote_jid=f"{lid}@lid", message_id="3EB0LIDE0001", text="Quero 2"))
    assert Message.objects.get().sender_id == f"{lid}@lid"
    if number_known == "revealed before":
        post(client, whatsapp, payloads.evolution("contacts.update", [{"id": f"{phone}@s.whatsapp.net", "lid": f"{lid}@lid"}], apikey=WHATSAPP_SECRET))
        envelope = {"remote_jid": f"{phone}@s.whatsapp.net"}
    else:
        envelope = {"remote_jid": f"{lid}@lid", "remoteJidAlt": f"{phone}@s.whatsapp.net"}

    post(client, whatsapp, payloads.edit_upsert(WHATSAPP_SECRET, "3EB0LIDE0001", "Quero 3", addressed=OUR_JID, **envelope))

    message = Message.objects.get(external_id="3EB0LIDE0001")
    assert (message.body, list(message.edits.values_list("body", flat=True))) == ("Quero 3", ["Quero 2"])


def test_an_edit_by_another_number_of_a_message_that_came_by_lid_alone_is_refused(client, whatsapp):
    lid = "205432167890123"
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, remote_jid=f"{lid}@lid", message_id="3EB0LIDE0002", text="Quero 2"))
    post(client, whatsapp, payloads.evolution("contacts.update", [{"id": "5511987654321@s.whatsapp.net", "lid": f"{lid}@lid"}], apikey=WHATSAPP_SECRET))

    forged = payloads.edit_upsert(WHATSAPP_SECRET, "3EB0LIDE0002", "Quero 30", addressed=OUR_JID, remote_jid="5521911112222@s.whatsapp.net")
    post(client, whatsapp, forged)

    assert (Message.objects.get(external_id="3EB0LIDE0002").body, MessageEdit.objects.count()) == ("Quero 2", 0)


# Edits of messages never received -------------------------------------------


def test_an_edit_arriving_before_its_original_is_stored_as_the_message(client, contact, whatsapp):
    edit = payloads.edit_upsert(WHATSAPP_SECRET, "3EB0LATE0001", "Chego às 11h", addressed=OUR_JID, remote_jid=CONTACT_JID)
    assert post(client, whatsapp, edit).json() == {"stored": 1}
    message = Message.objects.get()
    assert (message.external_id, message.body, message.contact, message.from_me) == ("3EB0LATE0001", "Chego às 11h", contact, False)
    assert message.edited_at is not None and message.ticket is not None


def test_a_messages_edited_event_without_its_original_in_a_1_1_chat_stores_nothing(client, contact, whatsapp):
    # It names our number as its chat, and nobody as its sender.
    assert post(client, whatsapp, payloads.edited(WHATSAPP_SECRET, "3EB0LATE0002", "Chego às 11h")).json() == {"stored": 0}
    assert post(client, whatsapp, payloads.edited(WHATSAPP_SECRET, "3EB0LATE0003", "Oi", addressed=CONTACT_JID)).json() == {"stored": 0}
    assert not Message.objects.exists() and not Ticket.objects.exists()


@pytest.mark.parametrize("kind", ["REVOKE", "EPHEMERAL_SETTING"])
def test_other_protocol_messages_posted_as_messages_edited_change_nothing(client, whatsapp, kind):
    post(client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0EDIT0005", text="Oi"))
    event = {"key": {"remoteJid": OUR_JID, "fromMe": True, "id": "3EB0EDIT0005"}, "type": kind}
    post(client, whatsapp, payloads.evolution("messages.edited", event, apikey=WHATSAPP_SECRET))
    assert (Message.objects.get().body, Message.objects.get().edited_at) == ("Oi", None)


# Telegram --------------------------------------------------------------------


def bot_update(client, channel, update):
    return post(client, channel, update, **{"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})


def test_a_telegram_edit_applies_for_its_author_only(client, telegram):
    group = payloads.telegram_group()
    author, other = payloads.telegram_user(424242), payloads.telegram_user(515151, first_name="Outro")
    bot_update(client, telegram, payloads.telegram_update(chat=group, sender=author, message_id=9, text="Chego às 10h"))

    bot_update(client, telegram, payloads.telegram_update(edited=True, chat=group, sender=other, message_id=9, text="Não vou"))
    assert (Message.objects.get().body, MessageEdit.objects.count()) == ("Chego às 10h", 0)

    bot_update(client, telegram, payloads.telegram_update(edited=True, chat=group, sender=author, message_id=9, text="Chego às 11h"))
    message = Message.objects.get()
    assert message.body == "Chego às 11h"
    assert list(message.edits.values_list("body", flat=True)) == ["Chego às 10h"]
