"""Evolution API posting WhatsApp events to a channel's webhook."""

import base64
import json

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory, WalletFactory
from contacts_portal import database  # noqa: F401 (the skipif condition reads it)
from tickets.event_body import largest_event_bytes
from tickets.models import Message, Ticket

from . import payloads
from .conftest import WHATSAPP_SECRET

pytestmark = pytest.mark.django_db


def post(client, channel, payload, **headers):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(reverse("tickets:webhook", args=[channel.pk]), body, content_type="application/json", headers=headers)


def deliver(client, channel, **fields):
    response = post(client, channel, payloads.upsert(WHATSAPP_SECRET, **fields))
    assert response.status_code == 200, response.content
    return response


def test_a_message_from_an_unknown_person_is_stored_with_its_new_contact_and_ticket(client, whatsapp):
    response = deliver(client, whatsapp, remote_jid="5511987654321@s.whatsapp.net", push_name="Maria Souza", text="Olá!")

    assert response.json() == {"stored": 1}
    message = Message.objects.get()
    assert message.chat_id == "5511987654321@s.whatsapp.net"
    assert message.chat_identity == "5511987654321"
    assert (message.sender_id, message.sender_name, message.body) == ("5511987654321", "Maria Souza", "Olá!")
    assert (message.from_me, message.is_group, message.kind) == (False, False, "text")
    assert message.sent_at.timestamp() == 1764079510
    assert (message.contact.name, message.contact.number) == ("Maria Souza", "5511987654321")
    assert message.ticket == Ticket.objects.get(contact=message.contact, channel=whatsapp, status="pending")


def test_a_known_contact_written_without_the_ninth_digit_opens_a_ticket_for_its_wallet_agent(client, whatsapp, agent):
    wallet = WalletFactory(user=agent)
    contact = ContactFactory(number="5511987654321", wallet=wallet)

    deliver(client, whatsapp, remote_jid="551187654321@s.whatsapp.net", text="Primeira")
    deliver(client, whatsapp, remote_jid="5511987654321@s.whatsapp.net", text="Segunda")

    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.channel, ticket.user, ticket.status) == (contact, whatsapp, agent, "open")
    assert list(ticket.messages.values_list("body", flat=True)) == ["Primeira", "Segunda"]
    assert set(Message.objects.values_list("contact", flat=True)) == {contact.pk}


def test_a_contact_without_a_wallet_gets_a_pending_ticket_with_no_agent(client, whatsapp):
    ContactFactory(number="5511987654321", wallet=None)
    deliver(client, whatsapp)
    ticket = Ticket.objects.get()
    assert (ticket.user, ticket.status) == (None, "pending")


@pytest.mark.skipif("not database.writes_in_with()", reason="SQLite writes a statement at a time")
def test_a_known_contacts_first_message_opens_its_agents_ticket_in_one_statement(client, whatsapp, agent, django_assert_num_queries):
    contact = ContactFactory(number="5511987654321", wallet=WalletFactory(user=agent))

    with django_assert_num_queries(2):  # the channel, then the message with its ticket
        deliver(client, whatsapp, text="Primeira")

    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.user, ticket.status) == (contact, agent, "open")
    assert ticket.last_message_at == ticket.created_at == ticket.messages.get().created_at


@pytest.mark.skipif("not database.prepares_statements()", reason="SQLite, or DATABASE_PREPARED_STATEMENTS off")
def test_the_statements_every_message_runs_are_planned_once_per_connection(client, whatsapp):
    ContactFactory(number="5511987654321")
    for n in range(3):
        deliver(client, whatsapp, message_id=f"3EB0{n:016X}", text=f"Mensagem {n}")

    with database.hot_cursor() as cursor:
        cursor.execute("SELECT statement, custom_plans + generic_plans FROM pg_prepared_statements WHERE from_sql IS FALSE")
        prepared = cursor.fetchall()
    # The channel's read, and the message's statement with its conversation.
    channel = [runs for statement, runs in prepared if statement.startswith('SELECT "id", "kind", "name"')]
    message = [runs for statement, runs in prepared if statement.startswith("WITH conv ")]
    assert (channel, message) == ([3], [3])
    assert Message.objects.count() == 3


@pytest.mark.skipif("not database.writes_in_with()", reason="SQLite writes a statement at a time")
def test_a_known_contacts_first_message_by_a_new_lid_claims_it_then_opens_the_ticket_in_one_statement(
    client, whatsapp, django_assert_num_queries
):
    contact = ContactFactory(number="5511987654321", wallet=None)

    # The channel, the conversation (the LID is nobody's), the LID's claim,
    # then the message with its ticket.
    with django_assert_num_queries(4):
        deliver(
            client, whatsapp, remote_jid="123456789012345@lid", remoteJidAlt="5511987654321@s.whatsapp.net", addressingMode="lid"
        )

    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.user, ticket.status) == (contact, None, "pending")
    assert ticket.messages.get().contact == contact
    assert list(contact.identities.values_list("value", "number")) == [("123456789012345", "5511987654321")]


def test_after_a_ticket_is_closed_the_next_message_opens_another(client, whatsapp):
    ContactFactory(number="5511987654321")
    deliver(client, whatsapp, text="um")
    Ticket.objects.get().close()
    deliver(client, whatsapp, text="dois")
    assert list(Ticket.objects.order_by("id").values_list("status", flat=True)) == ["closed", "pending"]
    assert Ticket.objects.get(status="pending").messages.get().body == "dois"


def test_a_repeated_delivery_is_stored_once(client, whatsapp):
    ContactFactory(number="5511987654321")
    payload = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0AAAA0000000001")
    assert post(client, whatsapp, payload).json() == {"stored": 1}
    assert post(client, whatsapp, payload).json() == {"stored": 0}
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_repeated_delivery_after_its_ticket_was_closed_opens_no_ticket(client, whatsapp):
    ContactFactory(number="5511987654321")
    payload = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0AAAA0000000003")
    post(client, whatsapp, payload)
    Ticket.objects.update(status=Ticket.Status.CLOSED)

    assert post(client, whatsapp, payload).json() == {"stored": 0}
    assert Message.objects.count() == 1
    assert list(Ticket.objects.values_list("status", flat=True)) == [Ticket.Status.CLOSED]


def test_the_same_id_on_another_channel_is_another_message(client, whatsapp):
    other = type(whatsapp).objects.create(kind="whatsapp", name="Outro", webhook_secret="outro-segredo-123")
    payload = payloads.whatsapp_message(message_id="3EB0AAAA0000000002")
    post(client, whatsapp, payloads.evolution("messages.upsert", payload, apikey=WHATSAPP_SECRET))
    post(client, other, payloads.evolution("messages.upsert", payload, apikey="outro-segredo-123"))
    assert Message.objects.count() == 2


def test_a_group_message_belongs_to_the_group_and_names_its_participant(client, whatsapp):
    whatsapp.group_tickets = True
    whatsapp.save()
    group = ContactFactory(name="Grupo Vendas", number="120363025246125888", is_group=True)
    deliver(
        client,
        whatsapp,
        remote_jid="120363025246125888@g.us",
        participant="552199887766@s.whatsapp.net",
        push_name="Carlos",
        text="Bom dia, grupo",
    )
    message = Message.objects.get()
    assert (message.is_group, message.chat_identity, message.sender_id, message.sender_name) == (
        True,
        "120363025246125888",
        "5521999887766",
        "Carlos",
    )
    assert message.contact == group
    assert message.ticket.contact == group


def test_a_lid_chat_is_known_by_the_phone_number_sent_beside_it(client, whatsapp):
    contact = ContactFactory(number="5511987654321")
    deliver(
        client,
        whatsapp,
        remote_jid="123456789012345@lid",
        remoteJidAlt="5511987654321@s.whatsapp.net",
        addressingMode="lid",
    )
    message = Message.objects.get()
    assert (message.chat_id, message.chat_identity, message.contact) == ("123456789012345@lid", "5511987654321", contact)


def test_a_lid_chat_without_its_number_is_stored_without_an_identity(client, whatsapp):
    deliver(client, whatsapp, remote_jid="123456789012345@lid", addressingMode="lid")
    assert Message.objects.get().chat_identity == ""


def test_a_lid_participant_in_a_group_is_named_by_its_number(client, whatsapp):
    deliver(
        client,
        whatsapp,
        remote_jid="120363025246125888@g.us",
        participant="99887766554433@lid",
        participantAlt="5521999887766@s.whatsapp.net",
    )
    assert Message.objects.get().sender_id == "5521999887766"


def test_our_own_message_from_the_phone_joins_the_open_ticket_and_is_marked_from_me(client, whatsapp):
    contact = ContactFactory(number="5511987654321")
    deliver(client, whatsapp, text="Oi")
    deliver(client, whatsapp, text="Já te ajudo", from_me=True)
    ours = Message.objects.get(from_me=True)
    assert ours.ticket == Ticket.objects.get()
    assert ours.sender_name == ""  # Evolution names it "Você"
    assert ours.sender_id == payloads.OUR_NUMBER
    assert ours.contact == contact


def test_our_own_message_does_not_open_a_ticket(client, whatsapp):
    contact = ContactFactory(number="5511987654321")
    deliver(client, whatsapp, text="Promoção!", from_me=True)
    assert not Ticket.objects.exists()
    assert Message.objects.get().contact == contact


@pytest.mark.parametrize(
    ("message", "kind", "body"),
    [
        ({"extendedTextMessage": {"text": "com link https://exemplo.com.br"}}, "text", "com link https://exemplo.com.br"),
        ({"imageMessage": {"caption": "a nota fiscal", "mimetype": "image/jpeg"}}, "image", "a nota fiscal"),
        ({"videoMessage": {"mimetype": "video/mp4", "seconds": 12}}, "video", ""),
        ({"audioMessage": {"ptt": True, "seconds": 7}}, "audio", ""),
        ({"documentMessage": {"fileName": "boleto.pdf", "mimetype": "application/pdf"}}, "document", "boleto.pdf"),
        (
            {"documentWithCaptionMessage": {"message": {"documentMessage": {"fileName": "a.pdf", "caption": "segue"}}}},
            "document",
            "segue",
        ),
        ({"stickerMessage": {"mimetype": "image/webp"}}, "sticker", ""),
        ({"locationMessage": {"degreesLatitude": -23.55, "degreesLongitude": -46.63, "name": "Loja Centro"}}, "location", "Loja Centro"),
        ({"contactMessage": {"displayName": "Pedro", "vcard": "BEGIN:VCARD..."}}, "contact", "Pedro"),
        ({"ephemeralMessage": {"message": {"conversation": "some em 24h"}}}, "text", "some em 24h"),
        ({"viewOnceMessageV2": {"message": {"imageMessage": {"caption": "uma vez"}}}}, "image", "uma vez"),
        ({"pollCreationMessageV3": {"name": "Qual horário?", "options": []}}, "other", "Qual horário?"),
        ({"someFutureMessage": {"x": 1}}, "other", ""),
    ],
)
def test_non_text_messages_keep_their_kind_and_caption(client, whatsapp, message, kind, body):
    deliver(client, whatsapp, message=message)
    stored = Message.objects.get()
    assert (stored.kind, stored.body) == (kind, body)


@pytest.mark.parametrize(
    "message",
    [
        {"reactionMessage": {"key": {"id": "X"}, "text": "👍"}},
        {"protocolMessage": {"type": "REVOKE", "key": {"id": "X"}}},
        {"messageContextInfo": {}},
        {},
    ],
)
def test_reactions_deletions_and_empty_messages_are_acknowledged_not_stored(client, whatsapp, message):
    assert deliver(client, whatsapp, message=message).json() == {"stored": 0}
    assert not Message.objects.exists()


def test_a_group_photo_beside_its_sender_key_is_stored_with_its_caption(client, whatsapp):
    whatsapp.group_tickets = True
    whatsapp.save()
    group = ContactFactory(name="Grupo Vendas", number="120363025246125888", is_group=True)
    photo = {
        "senderKeyDistributionMessage": payloads.sender_key(),
        "imageMessage": payloads.image("foto do defeito"),
        "messageContextInfo": payloads.context_info(),
    }
    voice = {
        "audioMessage": {"mimetype": "audio/ogg; codecs=opus", "seconds": 9, "ptt": True},
        "senderKeyDistributionMessage": payloads.sender_key(),
    }
    for message in (photo, voice):
        deliver(client, whatsapp, remote_jid=payloads.GROUP_JID, participant="552199887766@s.whatsapp.net", message=message)

    stored = list(Message.objects.order_by("id").values_list("kind", "body", "contact", "sender_id"))
    assert stored == [("image", "foto do defeito", group.pk, "5521999887766"), ("audio", "", group.pk, "5521999887766")]
    assert Ticket.objects.get().contact == group


@pytest.mark.parametrize(
    "message",
    [
        {"senderKeyDistributionMessage": payloads.sender_key(), "messageContextInfo": payloads.context_info()},
        {"fastRatchetKeySenderKeyDistributionMessage": payloads.sender_key()},
    ],
)
def test_a_key_exchange_alone_stores_nothing(client, whatsapp, message):
    ContactFactory(number="120363025246125888", is_group=True)
    response = deliver(client, whatsapp, remote_jid=payloads.GROUP_JID, participant="552199887766@s.whatsapp.net", message=message)
    assert response.json() == {"stored": 0}
    assert not Message.objects.exists() and not Ticket.objects.exists()


def test_album_photos_keep_their_own_captions_and_the_album_itself_is_not_a_message(client, whatsapp):
    ContactFactory(number="120363025246125888", is_group=True)
    participant = "552199887766@s.whatsapp.net"
    album = {"albumMessage": {"expectedImageCount": 3, "expectedVideoCount": 0}, "messageContextInfo": payloads.context_info()}
    deliver(client, whatsapp, remote_jid=payloads.GROUP_JID, participant=participant, message_id="3EB0ALBUM0001", message=album)
    first = {**payloads.album_child("3EB0ALBUM0001", "frente"), "senderKeyDistributionMessage": payloads.sender_key()}
    second = payloads.album_child("3EB0ALBUM0001", "verso")
    # Newer phones wrap the child as Baileys' normalizeMessageContent unwraps it.
    third = {"associatedChildMessage": {"message": payloads.album_child("3EB0ALBUM0001", "etiqueta")}}
    for message in (first, second, third):
        deliver(client, whatsapp, remote_jid=payloads.GROUP_JID, participant=participant, message=message, message_type="imageMessage")

    assert list(Message.objects.order_by("id").values_list("kind", "body")) == [
        ("image", "frente"),
        ("image", "verso"),
        ("image", "etiqueta"),
    ]
    assert not Message.objects.filter(external_id="3EB0ALBUM0001").exists()


@pytest.mark.parametrize(
    "message",
    [
        payloads.event_response("3EB0EVENT0001"),
        {**payloads.event_response("3EB0EVENT0001"), "senderKeyDistributionMessage": payloads.sender_key()},
        payloads.event_response("3EB0EVENT0001", encrypted=False),
        {"pollUpdateMessage": {"pollCreationMessageKey": {"id": "3EB0POLL"}, "vote": {"encPayload": "x", "encIv": "y"}}},
        {"pinInChatMessage": {"key": {"id": "3EB0PIN"}, "type": "PIN_FOR_ALL", "senderTimestampMs": "1764079600000"}},
        {"keepInChatMessage": {"key": {"id": "3EB0KEEP"}, "keepType": "KEEP_FOR_ALL", "timestampMs": "1764079600000"}},
        {"callLogMesssage": {"isVideo": False, "callOutcome": "MISSED", "durationSecs": "0", "callType": "REGULAR"}},
        {"scheduledCallEditMessage": {"key": {"id": "3EB0CALL"}, "editType": "CANCEL"}},
        {"requestPhoneNumberMessage": {"contextInfo": {}}, "messageContextInfo": payloads.context_info()},
        {"secretEncryptedMessage": {"targetMessageKey": {"id": "3EB0ORIG"}, "encPayload": "x", "encIv": "y", "secretEncType": "MESSAGE_EDIT"}},
    ],
)
def test_answers_to_events_pins_calls_and_other_service_events_store_nothing_and_open_no_ticket(client, whatsapp, message):
    ContactFactory(number="120363025246125888", is_group=True)
    ContactFactory(number="5511987654321")
    for chat in ({"remote_jid": payloads.GROUP_JID, "participant": "552199887766@s.whatsapp.net"}, {}):
        assert deliver(client, whatsapp, message=message, **chat).json() == {"stored": 0}
    assert not Message.objects.exists() and not Ticket.objects.exists()


def test_an_event_invitation_is_stored_with_its_name(client, whatsapp):
    invitation = {
        "eventMessage": {"name": "Reunião de alinhamento", "description": "Pauta: entregas", "startTime": "1764165600", "isCanceled": False},
        "messageContextInfo": payloads.context_info(),
    }
    deliver(client, whatsapp, message=invitation, message_type="eventMessage")
    assert (Message.objects.get().kind, Message.objects.get().body) == ("other", "Reunião de alinhamento")


@pytest.mark.parametrize("remote_jid", ["status@broadcast", "120363000000000000@newsletter", "1234@broadcast"])
def test_status_updates_newsletters_and_broadcast_lists_are_not_stored(client, whatsapp, remote_jid):
    assert deliver(client, whatsapp, remote_jid=remote_jid).json() == {"stored": 0}


@pytest.mark.parametrize("event", ["connection.update", "contacts.upsert", "chats.update", "messages.update", "qrcode.updated"])
def test_other_events_are_acknowledged_and_ignored(client, whatsapp, event):
    response = post(client, whatsapp, payloads.evolution(event, {"state": "open"}, apikey=WHATSAPP_SECRET))
    assert (response.status_code, response.json()) == (200, {"stored": 0})
    assert not Message.objects.exists()


def test_the_event_name_may_come_in_upper_case(client, whatsapp):
    response = post(client, whatsapp, payloads.evolution("MESSAGES_UPSERT", payloads.whatsapp_message(), apikey=WHATSAPP_SECRET))
    assert response.json() == {"stored": 1}


def test_a_message_sent_through_the_gateway_by_another_tool_is_stored_as_ours(client, whatsapp):
    data = payloads.whatsapp_message(from_me=True, text="Mensagem automática")
    assert post(client, whatsapp, payloads.evolution("send.message", data, apikey=WHATSAPP_SECRET)).json() == {"stored": 1}
    assert Message.objects.get().from_me


def test_the_secret_may_come_in_the_apikey_header(client, whatsapp):
    payload = payloads.upsert("")
    assert post(client, whatsapp, payload, apikey=WHATSAPP_SECRET).json() == {"stored": 1}


@pytest.mark.parametrize("apikey", ["", "wrong", WHATSAPP_SECRET + "x", WHATSAPP_SECRET[:-1], None, 123, ["x"]])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_written(client, whatsapp, apikey):
    payload = payloads.upsert("")
    payload["apikey"] = apikey
    assert post(client, whatsapp, payload).status_code == 403
    assert post(client, whatsapp, payload, apikey="wrong").status_code == 403
    assert not Message.objects.exists()


def test_the_secret_of_another_channel_is_refused(client, whatsapp, telegram):
    assert post(client, whatsapp, payloads.upsert(telegram.webhook_secret)).status_code == 403


def test_an_unknown_channel_is_refused(client, whatsapp):
    url = reverse("tickets:webhook", args=[whatsapp.pk + 100])
    response = client.post(url, json.dumps(payloads.upsert(WHATSAPP_SECRET)), content_type="application/json")
    assert response.status_code == 403


def test_only_post_is_answered(client, whatsapp):
    assert client.get(reverse("tickets:webhook", args=[whatsapp.pk])).status_code == 405


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'"a string"',
        b"null",
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_with_400(client, whatsapp, body):
    assert post(client, whatsapp, body, apikey=WHATSAPP_SECRET).status_code == 400
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"pushName": "sem key"},
        {"key": "5511987654321@s.whatsapp.net"},
        {"key": {"remoteJid": 5511987654321, "id": "X"}},
        {"key": {"remoteJid": "5511987654321@s.whatsapp.net"}},
        {"key": {"remoteJid": "sem-arroba", "id": "X"}},
        {"key": {"remoteJid": "5511987654321@s.whatsapp.net", "id": "X" * 500}},
        [{"key": {"remoteJid": "5511987654321@s.whatsapp.net", "id": "A"}, "message": {"conversation": "ok"}}, "nope"],
        "a string",
        None,
    ],
)
def test_a_message_event_in_the_wrong_shape_is_refused_with_400(client, whatsapp, data):
    response = post(client, whatsapp, payloads.evolution("messages.upsert", data, apikey=WHATSAPP_SECRET))
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_an_event_without_a_name_is_refused(client, whatsapp):
    payload = payloads.upsert(WHATSAPP_SECRET)
    payload["event"] = ["messages.upsert"]
    assert post(client, whatsapp, payload).status_code == 400


def test_an_oversized_body_is_refused_with_400_and_nothing_written(client, whatsapp):
    payload = payloads.upsert(WHATSAPP_SECRET, text="x" * 600_000)
    assert post(client, whatsapp, payload).status_code == 400
    assert not Message.objects.exists()


def photo_event(*, inline_bytes: int, caption: str = "foto") -> dict:
    """A photo event with the photo inline (Evolution API's "webhook base64")."""
    message = {"imageMessage": {"mimetype": "image/jpeg", "caption": caption}, "base64": base64.b64encode(bytes(inline_bytes)).decode()}
    return payloads.upsert(WHATSAPP_SECRET, message=message, message_type="imageMessage")


def test_a_body_declared_over_the_largest_file_an_event_may_carry_is_refused_and_nothing_written(client, whatsapp, settings):
    payload = photo_event(inline_bytes=1_200_000)
    settings.MESSAGE_MEDIA_MAX_DOCUMENT_BYTES = 600_000
    assert len(json.dumps(payload)) > largest_event_bytes()
    assert post(client, whatsapp, payload, apikey=WHATSAPP_SECRET).status_code == 400
    assert not Message.objects.exists()

    settings.MESSAGE_MEDIA_MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
    assert post(client, whatsapp, payload, apikey=WHATSAPP_SECRET).json() == {"stored": 1}


def test_a_large_event_whose_secret_is_only_in_its_body_is_refused_unread(client, whatsapp):
    # Anybody could send one: only a sender known by its header is read
    # past 512 KB (the panel registers the webhook so).
    payload = photo_event(inline_bytes=1_000_000)
    assert post(client, whatsapp, payload).status_code == 400
    assert not Message.objects.exists()
    assert post(client, whatsapp, payload, apikey=WHATSAPP_SECRET).json() == {"stored": 1}


def test_a_large_event_whose_message_alone_is_over_512_kb_is_refused_and_nothing_written(client, whatsapp):
    payload = photo_event(inline_bytes=1_000_000, caption="x" * 600_000)
    assert post(client, whatsapp, payload, apikey=WHATSAPP_SECRET).status_code == 400
    assert not Message.objects.exists()


def test_a_large_event_that_is_not_json_once_its_file_is_set_aside_is_refused(client, whatsapp):
    body = json.dumps(photo_event(inline_bytes=1_000_000)).encode()[:-1]
    response = post(client, whatsapp, body, apikey=WHATSAPP_SECRET)
    assert (response.status_code, response.json()) == (400, {"error": "not JSON"})
    assert not Message.objects.exists()


def test_several_messages_in_one_event_are_stored_together(client, whatsapp):
    data = [payloads.whatsapp_message(text="um"), payloads.whatsapp_message(text="dois")]
    assert post(client, whatsapp, payloads.evolution("messages.upsert", data, apikey=WHATSAPP_SECRET)).json() == {"stored": 2}


def test_names_and_text_with_quotes_emoji_and_control_characters_are_stored_safely(client, whatsapp):
    deliver(
        client,
        whatsapp,
        push_name="D'Ávila \"Zé\" 🚀\x00\x1b[31m\u200b\ud83d",
        text="linha 1\nlinha 2\x00 fim \ud800",
    )
    message = Message.objects.get()
    assert message.sender_name == "D'Ávila \"Zé\" 🚀[31m"
    assert message.body == "linha 1\nlinha 2 fim"


def test_a_timestamp_in_another_writing_or_absurd_falls_back_sensibly(client, whatsapp):
    deliver(client, whatsapp, timestamp={"low": 1764079510, "high": 0, "unsigned": False})
    deliver(client, whatsapp, timestamp="1764079510")
    deliver(client, whatsapp, timestamp=10**30)
    first, second, third = Message.objects.order_by("id")
    assert first.sent_at.timestamp() == second.sent_at.timestamp() == 1764079510
    assert third.sent_at.year >= 2026


def test_a_form_upload_is_not_an_event(client, whatsapp):
    url = reverse("tickets:webhook", args=[whatsapp.pk])
    assert client.post(url, {"apikey": WHATSAPP_SECRET, "data": "x"}).status_code == 400


def test_a_channel_id_out_of_range_is_refused(client):
    url = reverse("tickets:webhook", args=[10**30])
    assert client.post(url, b"{}", content_type="application/json").status_code == 403


@pytest.mark.parametrize(
    ("jid", "identity"),
    [
        ("120363025246125888@g.us", "120363025246125888"),
        ("5511987654321-1612345678@g.us", "5511987654321-1612345678"),
        ("1" * 25 + "@g.us", ""),  # longer than a contact's number can be
        ("abc@g.us", ""),
    ],
)
def test_group_ids_are_kept_only_when_a_contact_can_hold_them(client, whatsapp, jid, identity):
    deliver(client, whatsapp, remote_jid=jid, participant="5511987654321@s.whatsapp.net")
    assert Message.objects.get().chat_identity == identity


def test_a_body_over_the_projects_request_cap_gets_400_too_and_writes_nothing(client, whatsapp):
    payload = payloads.upsert(WHATSAPP_SECRET, text="x" * (3 * 1024 * 1024))
    assert post(client, whatsapp, payload).status_code == 400
    assert not Message.objects.exists()
