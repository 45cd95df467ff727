"""Telegram posting Update objects to a bot channel's webhook."""

import json

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory, WalletFactory
from tickets.models import Message, Ticket

from . import payloads
from .conftest import TELEGRAM_SECRET

pytestmark = pytest.mark.django_db


def post(client, channel, payload, secret=TELEGRAM_SECRET):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(reverse("tickets:webhook", args=[channel.pk]), body, content_type="application/json", headers=headers)


def deliver(client, channel, **fields):
    response = post(client, channel, payloads.telegram_update(**fields))
    assert response.status_code == 200, response.content
    return response


def test_a_private_message_from_an_unknown_user_makes_them_a_contact_with_a_ticket(client, telegram):
    sender = payloads.telegram_user(424242, "João", "Pereira")
    assert deliver(client, telegram, sender=sender, text="Bom dia!", message_id=7).json() == {"stored": 1}
    message = Message.objects.get()
    assert (message.external_id, message.chat_id, message.chat_identity) == ("424242:7", "424242", "424242")
    assert (message.sender_id, message.sender_name, message.body, message.is_group) == ("424242", "João Pereira", "Bom dia!", False)
    assert (message.contact.name, message.contact.telegram_id, message.contact.number) == ("João Pereira", "424242", "")
    assert (message.ticket.contact, message.ticket.channel, message.ticket.status) == (message.contact, telegram, "pending")


def test_a_user_without_a_last_name_is_never_named_none(client, telegram):
    deliver(client, telegram, sender=payloads.telegram_user(5, "Ana", None))
    assert Message.objects.get().sender_name == "Ana"


def test_a_name_whose_parts_fit_but_whose_whole_does_not_is_cut_to_the_column(client, telegram):
    deliver(client, telegram, sender=payloads.telegram_user(6, "A" * 190, "B" * 190))
    name = Message.objects.get().sender_name
    assert len(name) == Message._meta.get_field("sender_name").max_length
    assert name.startswith("A" * 190 + " B")


def test_a_known_contact_opens_a_ticket_for_its_wallet_agent(client, telegram, agent):
    contact = ContactFactory(telegram_id="424242", wallet=WalletFactory(user=agent))
    deliver(client, telegram, sender=payloads.telegram_user(424242))
    deliver(client, telegram, sender=payloads.telegram_user(424242))
    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.user, ticket.status, ticket.messages.count()) == (contact, agent, "open", 2)


@pytest.mark.parametrize("kind", ["group", "supergroup"])
def test_a_group_message_belongs_to_the_group(client, telegram, kind):
    telegram.group_tickets = True
    telegram.save()
    group = ContactFactory(name="Clientes VIP", number="", telegram_id="-1001234567890", is_group=True)
    chat = payloads.telegram_group(-1001234567890, "Clientes VIP", kind)
    deliver(client, telegram, chat=chat, sender=payloads.telegram_user(77, "Bia", "Lima"), message_id=3)
    message = Message.objects.get()
    assert (message.external_id, message.chat_identity, message.is_group, message.group_name) == (
        "-1001234567890:3",
        "-1001234567890",
        True,
        "Clientes VIP",
    )
    assert (message.sender_id, message.sender_name, message.contact) == ("77", "Bia Lima", group)
    assert message.ticket.contact == group


def test_message_ids_count_per_chat_so_two_chats_may_share_one(client, telegram):
    deliver(client, telegram, sender=payloads.telegram_user(1), message_id=10)
    deliver(client, telegram, sender=payloads.telegram_user(2), message_id=10)
    assert Message.objects.count() == 2


def test_a_repeated_update_is_stored_once(client, telegram):
    update = payloads.telegram_update(message_id=55)
    assert post(client, telegram, update).json() == {"stored": 1}
    assert post(client, telegram, update).json() == {"stored": 0}
    assert Message.objects.count() == 1


def test_an_edited_message_replaces_the_text(client, telegram):
    deliver(client, telegram, message_id=9, text="Chego às 10h")
    deliver(client, telegram, edited=True, message_id=9, text="Chego às 11h", edit_date=1764079600)
    message = Message.objects.get()
    assert message.body == "Chego às 11h"
    assert message.edited_at is not None


def test_an_edit_of_a_message_never_received_is_stored(client, telegram):
    assert deliver(client, telegram, edited=True, message_id=99, text="editada").json() == {"stored": 1}
    assert Message.objects.get().body == "editada"


@pytest.mark.parametrize(
    ("fields", "kind", "body"),
    [
        ({"text": None, "photo": [{"file_id": "A", "width": 90, "height": 90}], "caption": "o produto"}, "image", "o produto"),
        ({"text": None, "voice": {"file_id": "V", "duration": 3}}, "audio", ""),
        ({"text": None, "document": {"file_id": "D", "file_name": "nota.pdf"}}, "document", ""),
        ({"text": None, "sticker": {"file_id": "S", "emoji": "😀"}}, "sticker", "😀"),
        ({"text": None, "location": {"latitude": -23.5, "longitude": -46.6}}, "location", ""),
        ({"text": None, "contact": {"phone_number": "+5511", "first_name": "Rui"}}, "contact", "Rui"),
        ({"text": None, "poll": {"id": "1", "question": "Sim ou não?", "options": []}}, "other", "Sim ou não?"),
        ({"text": None, "dice": {"emoji": "🎲", "value": 3}}, "other", ""),
    ],
)
def test_non_text_messages_keep_their_kind_and_caption(client, telegram, fields, kind, body):
    deliver(client, telegram, **fields)
    message = Message.objects.get()
    assert (message.kind, message.body) == (kind, body)


def test_service_messages_are_not_stored(client, telegram):
    chat = payloads.telegram_group()
    response = deliver(client, telegram, chat=chat, text=None, new_chat_members=[payloads.telegram_user(9)])
    assert response.json() == {"stored": 0}


@pytest.mark.parametrize(
    "event",
    [
        {"write_access_allowed": {"from_request": True}},
        {"forum_topic_created": {"name": "Suporte", "icon_color": 7322096}},
        {"video_chat_started": {}},
        {"boost_added": {"boost_count": 1}},
        {"chat_background_set": {"type": {"type": "fill"}}},
        {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
    ],
    ids=lambda event: next(iter(event)),
)
def test_service_events_store_nothing_and_open_no_ticket(client, telegram, event):
    # The bot is allowed to write to a known contact: an event, not a message from them.
    ContactFactory(telegram_id="424242")
    response = deliver(client, telegram, sender=payloads.telegram_user(424242), text=None, **event)
    assert response.json() == {"stored": 0}
    assert not Message.objects.exists() and not Ticket.objects.exists()


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "channel_post": {"message_id": 1, "chat": {"id": -100, "type": "channel"}, "date": 1, "text": "x"}},
        {"update_id": 2, "callback_query": {"id": "1", "from": {"id": 1, "is_bot": False, "first_name": "A"}, "data": "x"}},
        {"update_id": 3, "my_chat_member": {"chat": {"id": 1, "type": "private"}}},
        {"update_id": 4, "message": {"message_id": 1, "chat": {"id": -100, "type": "channel"}, "date": 1, "text": "x"}},
    ],
)
def test_other_updates_are_acknowledged_and_ignored(client, telegram, update):
    response = post(client, telegram, update)
    assert (response.status_code, response.json()) == (200, {"stored": 0})
    assert not Message.objects.exists()


@pytest.mark.parametrize("secret", [None, "", "wrong", TELEGRAM_SECRET.upper()])
def test_a_wrong_or_missing_secret_header_is_refused(client, telegram, secret):
    assert post(client, telegram, payloads.telegram_update(), secret=secret).status_code == 403
    assert not Message.objects.exists()


def test_the_secret_in_the_body_does_not_count_for_telegram(client, telegram):
    update = payloads.telegram_update()
    update["apikey"] = TELEGRAM_SECRET
    assert post(client, telegram, update, secret=None).status_code == 403


@pytest.mark.parametrize(
    "update",
    [
        {"message": {"message_id": 1}},
        {"update_id": True, "message": {}},
        {"update_id": "1", "message": {}},
        {"update_id": 1, "message": "text"},
        {"update_id": 1, "message": {"message_id": "1", "chat": {"id": 1, "type": "private"}}},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": "1", "type": "private"}}},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1.5, "type": "private"}}},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1}}},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 10**40, "type": "private"}}},
        {"update_id": 1, "message": {"message_id": 1}},
        [1],
    ],
)
def test_an_update_in_the_wrong_shape_is_refused_with_400(client, telegram, update):
    assert post(client, telegram, update).status_code == 400
    assert not Message.objects.exists()


def test_a_body_that_is_not_json_is_refused_with_400(client, telegram):
    assert post(client, telegram, b"\x00\x01garbage").status_code == 400


def test_fields_of_the_wrong_type_are_left_out_not_a_failure(client, telegram):
    sender = {"id": 5, "is_bot": False, "first_name": ["A"], "last_name": 7}
    deliver(client, telegram, sender=sender, text={"not": "text"}, date="yesterday")
    message = Message.objects.get()
    assert (message.sender_name, message.body) == ("", "")
