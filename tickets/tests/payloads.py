"""Webhook bodies as the providers send them.

Evolution API v2 (src/api/integrations/event/webhook/webhook.controller.ts
and whatsapp.baileys.service.ts, prepareMessage): an envelope with event,
instance, data (Baileys' WebMessageInfo as Evolution prepares it: key,
pushName, message, messageType, messageTimestamp...), destination,
date_time, sender, server_url and apikey.

Telegram Bot API: an Update with update_id and one of message,
edited_message, channel_post, callback_query, my_chat_member...
"""

import itertools

OUR_NUMBER = "5511900000000"
INSTANCE = "atendimento"
_ids = itertools.count(1)


def evolution(event: str, data, *, apikey: str = "", sender: str = f"{OUR_NUMBER}@s.whatsapp.net") -> dict:
    return {
        "event": event,
        "instance": INSTANCE,
        "data": data,
        "destination": "https://contacts.example.com/tickets/webhook/1/",
        "date_time": "2026-11-25T14:05:10.123Z",
        "sender": sender,
        "server_url": "https://evolution.example.com",
        "apikey": apikey,
    }


def whatsapp_message(
    *,
    remote_jid: str = "5511987654321@s.whatsapp.net",
    text: str | None = "Olá, preciso de ajuda",
    push_name: str = "Maria Souza",
    from_me: bool = False,
    message_id: str | None = None,
    participant: str | None = None,
    message: dict | None = None,
    message_type: str = "conversation",
    timestamp: int = 1764079510,
    **key_fields,
) -> dict:
    key = {"remoteJid": remote_jid, "fromMe": from_me, "id": message_id or f"3EB0{next(_ids):016X}"}
    if participant:
        key["participant"] = participant
    key.update(key_fields)
    if message is None:
        message = {"conversation": text, "messageContextInfo": {"deviceListMetadataVersion": 2}}
    return {
        "key": key,
        "pushName": "Você" if from_me else push_name,
        "status": "SERVER_ACK" if from_me else "DELIVERY_ACK",
        "message": message,
        "contextInfo": None,
        "messageType": message_type,
        "messageTimestamp": timestamp,
        "instanceId": "6f1c2b0e-6a1d-4a51-a0a5-3f1d7f1e9b11",
        "source": "android",
    }


def upsert(apikey: str, **fields) -> dict:
    return evolution("messages.upsert", whatsapp_message(**fields), apikey=apikey)


def telegram_user(user_id: int = 424242, first_name: str = "João", last_name: str | None = "Pereira", **fields) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "pt-br", **fields}
    if last_name is not None:
        user["last_name"] = last_name
    return user


def telegram_message(
    *,
    chat: dict | None = None,
    sender: dict | None = None,
    text: str | None = "Bom dia!",
    message_id: int | None = None,
    date: int = 1764079510,
    **fields,
) -> dict:
    sender = sender or telegram_user()
    if chat is None:
        chat = {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
        if "last_name" in sender:
            chat["last_name"] = sender["last_name"]
    message = {"message_id": message_id or next(_ids), "from": sender, "chat": chat, "date": date, **fields}
    if text is not None:
        message["text"] = text
    return message


def telegram_update(*, edited: bool = False, **fields) -> dict:
    return {"update_id": 100000 + next(_ids), "edited_message" if edited else "message": telegram_message(**fields)}


def telegram_group(chat_id: int = -1001234567890, title: str = "Clientes VIP", kind: str = "supergroup") -> dict:
    return {"id": chat_id, "title": title, "type": kind}


# Evolution API's lists (channel.service.ts fetchChats/fetchContacts,
# whatsapp.baileys.service.ts fetchAllGroups).


def gateway_chat(remote_jid: str, push_name: str | None = None, *, last_from_me: bool = False) -> dict:
    return {
        "id": None,
        "remoteJid": remote_jid,
        "pushName": "Você" if last_from_me else push_name,
        "profilePicUrl": None,
        "updatedAt": "2025-03-01T12:00:00.000Z",
        "windowStart": "2025-03-01T11:00:00.000Z",
        "windowExpires": "2025-03-02T11:00:00.000Z",
        "windowActive": False,
        "lastMessage": {
            "id": "cm7q0a1b2c3d4e5f6",
            "key": {"id": "3EB0" + remote_jid[:8], "fromMe": last_from_me, "remoteJid": remote_jid},
            "pushName": "Você" if last_from_me else push_name,
            "messageType": "conversation",
            "message": {"conversation": "até amanhã"},
            "messageTimestamp": 1740830400,
            "status": "READ",
        },
        "unreadCount": 0,
        "isSaved": False,
    }


def gateway_contact(remote_jid: str, push_name: str | None) -> dict:
    return {
        "id": "cm7q0contact" + remote_jid[:6],
        "remoteJid": remote_jid,
        "pushName": push_name,
        "profilePicUrl": None,
        "createdAt": "2025-02-01T10:00:00.000Z",
        "updatedAt": "2025-03-01T10:00:00.000Z",
        "instanceId": "6f1c2b0e-6a1d-4a51-a0a5-3f1d7f1e9b11",
        "isGroup": remote_jid.endswith("@g.us"),
        "isSaved": bool(push_name),
        "type": "contact" if push_name else "group_member",
    }


def gateway_group(group_jid: str, subject: str) -> dict:
    return {
        "id": group_jid,
        "subject": subject,
        "subjectOwner": "5511900000000@s.whatsapp.net",
        "subjectTime": 1700000000,
        "pictureUrl": None,
        "size": 12,
        "creation": 1690000000,
        "owner": "5511900000000@s.whatsapp.net",
        "desc": "Grupo de clientes",
        "descId": "ABCDEF",
        "restrict": False,
        "announce": False,
        "isCommunity": False,
        "isCommunityAnnounce": False,
    }


# WhatsApp messages beside their bookkeeping, and events that are not
# messages (WAProto.proto's Message, as Baileys decodes it and Evolution API
# posts it: enums as their names, 64-bit numbers and bytes as strings).

GROUP_JID = "120363025246125888@g.us"


def context_info(**fields) -> dict:
    """messageContextInfo as a message from a phone carries it."""
    return {
        "deviceListMetadata": {"senderKeyHash": "xv2sqZkhyVcy7g==", "senderTimestamp": "1764079000"},
        "deviceListMetadataVersion": 2,
        "messageSecret": "kq0m3y6c1yQ7Yj8bJ1o2r1m1R3oGz1R1vE2wq5q9x1o=",
        **fields,
    }


def sender_key(group_jid: str = GROUP_JID) -> dict:
    """What a group's first message to one of our devices carries beside its
    content: Baileys merges the decrypted pkmsg (this) and skmsg (the
    content) into one message (Utils/decode-wa-message.ts)."""
    return {"groupId": group_jid, "axolotlSenderKeyDistributionMessage": "MwiN4uXQBBAAGiEFw3n0pQ7f1m2Zr0b2w9Gf5x1g9v4="}


def image(caption: str = "", **fields) -> dict:
    return {
        "url": "https://mmg.whatsapp.net/v/t62.7118-24/1234_5678.enc?ccb=11-4",
        "mimetype": "image/jpeg",
        "fileSha256": "n0nE1b1Xw6mZzG0t5t7i4q8o2b6m0t8p1s3u5w7y9A0=",
        "fileLength": "84512",
        "height": 1280,
        "width": 960,
        "mediaKey": "Zb1fTq7u0y3X6l9g2j4k6m8o0q2s4u6w8y0A2C4E6G8=",
        "directPath": "/v/t62.7118-24/1234_5678.enc?ccb=11-4",
        "mediaKeyTimestamp": "1764079500",
        **({"caption": caption} if caption else {}),
        **fields,
    }


def album_child(parent_id: str, caption: str = "", *, remote_jid: str = GROUP_JID) -> dict:
    """A photo of an album: its own message, tied to the album's by
    messageContextInfo.messageAssociation (Baileys' albumParentKey)."""
    parent = {"remoteJid": remote_jid, "fromMe": False, "id": parent_id}
    association = {"associationType": "MEDIA_ALBUM", "parentMessageKey": parent}
    return {"imageMessage": image(caption), "messageContextInfo": context_info(messageAssociation=association)}


def event_response(event_id: str, *, encrypted: bool = True, remote_jid: str = GROUP_JID) -> dict:
    """An answer to an event's invitation ("Vou", "Não vou"): encrypted
    with the event's messageSecret, or as Baileys decrypts it."""
    event_key = {"remoteJid": remote_jid, "fromMe": False, "id": event_id}
    if encrypted:
        return {
            "encEventResponseMessage": {
                "eventCreationMessageKey": event_key,
                "encPayload": "b2QzN2Y4ZTFhOWMyNGQ1YjZlN2Y4YTli",
                "encIv": "MTIzNDU2Nzg5MDEy",
            },
            "messageContextInfo": context_info(),
        }
    return {"eventResponseMessage": {"response": "GOING", "timestampMs": "1764079600000", "extraGuestCount": 0}}


# Edits. WhatsApp's edit is a protocolMessage of type MESSAGE_EDIT whose key
# is the edited message's key as its editor holds it (fromMe true, remoteJid
# the chat seen from the editor's side). Evolution API 2.2 on posts it alone
# as messages.edited (whatsapp.baileys.service.ts: the protocolMessage, no
# envelope); up to 2.3.2 the phone's wrapped edit also came as
# messages.upsert, envelope and all.


def protocol_edit(edited_id: str, text: str, *, addressed: str, timestamp_ms: int = 1764079600000) -> dict:
    return {
        "key": {"remoteJid": addressed, "fromMe": True, "id": edited_id},
        "type": "MESSAGE_EDIT",
        "editedMessage": {"conversation": text},
        "timestampMs": str(timestamp_ms),
    }


def edited(apikey: str, edited_id: str, text: str, *, addressed: str = f"{OUR_NUMBER}@s.whatsapp.net") -> dict:
    """messages.edited. `addressed` is the chat as the editor named it: our
    number when the other person edits."""
    return evolution("messages.edited", protocol_edit(edited_id, text, addressed=addressed), apikey=apikey)


def edit_upsert(apikey: str, edited_id: str, text: str, *, addressed: str, **envelope) -> dict:
    """messages.upsert of the phone's edit, wrapped in editedMessage, under
    the envelope's key (remote_jid, from_me, participant: the editor)."""
    message = {
        "editedMessage": {"message": {"protocolMessage": protocol_edit(edited_id, text, addressed=addressed)}},
        "messageContextInfo": context_info(),
    }
    return evolution("messages.upsert", whatsapp_message(message=message, message_type="editedMessage", **envelope), apikey=apikey)
