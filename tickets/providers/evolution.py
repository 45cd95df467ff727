"""WhatsApp through Evolution API (https://doc.evolution-api.com/), the
open-source WhatsApp gateway: its webhook events, its REST API (v2) and the
provider that puts them together.

Evolution API posts an envelope per event:
    {"event": "messages.upsert", "instance": "...", "data": {...message...},
     "sender": "<our JID>", "apikey": "<instance key>", ...}
whose message is Baileys' WebMessageInfo as Evolution prepares it: "key"
(remoteJid, fromMe, id, participant, and for LID addressing remoteJidAlt /
participantAlt, senderPn in older releases), "pushName", "message" (one
content key: conversation, extendedTextMessage, imageMessage, ...),
"messageType" and "messageTimestamp" (seconds).

Chats are addressed by JID: "<number>@s.whatsapp.net" for a person,
"<id>@g.us" for a group, "<id>@lid" for a person whose number WhatsApp
hides; a contact's identity is its number (Contact.number), or a group's id.
"""

import re
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property
from typing import NamedTuple
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.normalizers import normalize_phone

from ..gateways import Base64Value, Gateway, GatewayError, MediaGone, MediaTooLarge, call, download, json_with_base64
from ..inbound import (
    MAX_ID_LENGTH,
    Event,
    Inbound,
    InboundMedia,
    InvalidPayload,
    as_dict,
    contact_details,
    count_of,
    location_details,
    safe_body,
    safe_name,
    timestamp_of,
    vcard_phones,
)
from ..models import Channel, Message, MessageMedia
from .base import Chat, Provider, attached_to, same_secret

MAX_IDENTITY_LENGTH = 64


def _text(value, max_length: int = MAX_ID_LENGTH) -> str:
    """An id-like string: kept only when it is a short, printable string."""
    if not isinstance(value, str) or len(value) > max_length:
        return ""
    return value if value.isprintable() else ""


# WhatsApp addresses ------------------------------------------------------

PERSON_SERVERS = ("s.whatsapp.net", "c.us")
GROUP_SERVER = "g.us"
LID_SERVER = "lid"
# "120363025246125888", or the older "<creator's number>-<timestamp>"; at
# most 32 characters, what Contact.number holds.
_GROUP_ID = re.compile(r"[0-9]{5,20}(-[0-9]{5,11})?")


def split_jid(jid: str) -> tuple[str, str]:
    """"5511987654321:12@s.whatsapp.net" -> ("5511987654321", "s.whatsapp.net");
    the device suffix after ":" is not part of the address."""
    user, _at, server = jid.partition("@")
    return user.split(":")[0], server.lower()


def phone_of(jid: str) -> str:
    """The canonical number (as Contact.number stores it, 9th digit
    included) of a person's JID; "" for any other address or a number the
    contacts app would not accept."""
    user, server = split_jid(jid)
    if server not in PERSON_SERVERS or not user.isascii() or not user.isdigit() or len(user) > 20:
        return ""
    try:
        return normalize_phone("+" + user)
    except ValidationError:
        return ""


def group_id_of(jid: str) -> str:
    """"120363025246125888@g.us" -> "120363025246125888" (Contact.number of
    a group); "" for any other address."""
    user, server = split_jid(jid)
    return user if server == GROUP_SERVER and len(user) <= 32 and _GROUP_ID.fullmatch(user) else ""


def lid_of(jid: str) -> str:
    """"123456789012345@lid" -> "123456789012345"; "" for any other address."""
    user, server = split_jid(jid)
    return user if server == LID_SERVER and user.isascii() and user.isdigit() and len(user) <= 32 else ""


class Person(NamedTuple):
    """A person as a message names them: the address as sent, and the phone
    number and LID found among the fields that name them."""

    jid: str
    phone: str
    lid: str


# The fields that may name the person of a private chat, and a group
# message's author. Which holds the phone and which the LID changed in each
# Evolution API release (2.3.6: remoteJid the LID, remoteJidAlt the phone;
# 2.3.7: both the phone; 2.4.0: the other way round; older: senderPn), so
# each is read for what it is, not for where it is.
CHAT_FIELDS = ("remoteJid", "remoteJidAlt", "senderPn", "senderLid")
PARTICIPANT_FIELDS = ("participant", "participantAlt", "participantPn", "participantLid")
# The fields of a contact or chat list entry (events and findContacts).
LISTING_FIELDS = ("remoteJid", "remoteJidAlt", "id", "jid", "lid", "phoneNumber", "senderPn", "pn")


class Own(NamedTuple):
    """The business's own addresses (the channel's number, the envelope's
    sender): never a contact, whatever field they arrive in."""

    phones: frozenset[str] = frozenset()
    lids: frozenset[str] = frozenset()

    def strip(self, person: Person) -> Person:
        """The person without our addresses: one of them makes the other
        address beside it ours too (our LID beside our number)."""
        if person.phone in self.phones or person.lid in self.lids:
            return person._replace(phone="", lid="")
        return person


def person_of(fields: dict, names: tuple[str, ...], own: Own = Own()) -> Person:
    """Whichever of the fields holds a phone JID is the phone, whichever
    holds a "@lid" is the LID (addressingMode is not trusted)."""
    jid = phone = lid = ""
    for name in names:
        value = _text(fields.get(name))
        if not value:
            continue
        jid = jid or value
        phone = phone or phone_of(value)
        lid = lid or lid_of(value)
    return own.strip(Person(jid, phone, lid))


def _pair(person: Person) -> list[tuple[str, str]]:
    return [(person.lid, person.phone)] if person.lid and person.phone else []


# Webhook events -----------------------------------------------------------

# The message types whose text is the message itself, and those that carry a
# caption or a name beside something else.
_CONTENT = {
    "conversation": (Message.Kind.TEXT, None),
    "extendedTextMessage": (Message.Kind.TEXT, "text"),
    "imageMessage": (Message.Kind.IMAGE, "caption"),
    "videoMessage": (Message.Kind.VIDEO, "caption"),
    "ptvMessage": (Message.Kind.VIDEO, "caption"),
    "audioMessage": (Message.Kind.AUDIO, None),
    "documentMessage": (Message.Kind.DOCUMENT, "caption"),
    "stickerMessage": (Message.Kind.STICKER, None),
    "locationMessage": (Message.Kind.LOCATION, "name"),
    "liveLocationMessage": (Message.Kind.LOCATION, "caption"),
    "contactMessage": (Message.Kind.CONTACT, "displayName"),
    "contactsArrayMessage": (Message.Kind.CONTACT, "displayName"),
    "pollCreationMessage": (Message.Kind.OTHER, "name"),
    "pollCreationMessageV2": (Message.Kind.OTHER, "name"),
    "pollCreationMessageV3": (Message.Kind.OTHER, "name"),
    "pollCreationMessageV5": (Message.Kind.OTHER, "name"),
    # An invitation to an event or to a scheduled call is something the
    # contact said ("Reunião sexta, 10h"), like a poll's question; the
    # answers to it are not (see _NOT_MESSAGES).
    "eventMessage": (Message.Kind.OTHER, "name"),
    "scheduledCallCreationMessage": (Message.Kind.OTHER, "title"),
    "buttonsResponseMessage": (Message.Kind.TEXT, "selectedDisplayText"),
    "templateButtonReplyMessage": (Message.Kind.TEXT, "selectedDisplayText"),
    "listResponseMessage": (Message.Kind.TEXT, "title"),
}
# What Baileys sends beside a message's content, never content itself: the
# sender key a group's first message to a device carries (Baileys merges it
# into the message it came with: decode-wa-message.ts), the context of
# every message (an album child's messageAssociation among it), and what
# Evolution API adds (base64, mediaUrl, speechToText). Alone, they store
# nothing; beside content, they hide nothing.
_BOOKKEEPING = {
    "messageContextInfo",
    "senderKeyDistributionMessage",
    "fastRatchetKeySenderKeyDistributionMessage",
    "base64",
    "mediaUrl",
    "speechToText",
}
# Events about the conversation, not messages of it: reactions, edits and
# deletions (protocolMessage; edits are read by _carried_edit and
# _evolution_edit), poll votes, answers to an event's invitation, pins and
# "keep in chat", calls' log entries, a scheduled call's change, a request
# for the phone number (a button press, like Telegram's shared contact
# request), an album's announcement (its photos come as messages of their
# own, each with its caption), edits WhatsApp encrypts with the original's
# secret (secretEncryptedMessage: unreadable without it), mentions in a
# status, history bundles and placeholders. Like Telegram's service
# messages, they store nothing and open no ticket.
_NOT_MESSAGES = {
    "reactionMessage",
    "encReactionMessage",
    "protocolMessage",
    "editedMessage",
    "secretEncryptedMessage",
    "pollUpdateMessage",
    "pollResultSnapshotMessage",
    "pollResultSnapshotMessageV3",
    "eventResponseMessage",
    "encEventResponseMessage",
    "keepInChatMessage",
    "pinInChatMessage",
    "callLogMesssage",  # sic: the proto's own spelling
    "bcallMessage",
    "scheduledCallEditMessage",
    "requestPhoneNumberMessage",
    "albumMessage",
    "statusMentionMessage",
    "groupStatusMentionMessage",
    "statusNotificationMessage",
    "messageHistoryBundle",
    "messageHistoryNotice",
    "placeholderMessage",
    "stickerSyncRmrMessage",
    "call",
    "chat",
}
# Wrappers around the real content (Baileys' normalizeMessageContent): a
# disappearing or view-once message, a document with its caption, an album
# child, a message that mentions Meta AI or the whole group, an animated
# sticker.
_WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
    "associatedChildMessage",
    "botInvokeMessage",
    "groupMentionedMessage",
    "lottieStickerMessage",
)


# The message types that carry a file, and what the panel calls it.
_MEDIA = {
    "imageMessage": MessageMedia.Kind.IMAGE,
    "videoMessage": MessageMedia.Kind.VIDEO,
    "ptvMessage": MessageMedia.Kind.VIDEO,
    "audioMessage": MessageMedia.Kind.AUDIO,
    "documentMessage": MessageMedia.Kind.DOCUMENT,
    "stickerMessage": MessageMedia.Kind.STICKER,
}
# What a media message holds that fetching it does not need: previews
# (kilobytes of base64 each), and the context of the message.
_MEDIA_LEFT_OUT = {"jpegThumbnail", "thumbnailDirectPath", "thumbnailSha256", "thumbnailEncSha256", "contextInfo", "waveform"}


def _unwrapped(message: dict, depth: int = 0) -> dict:
    """The message inside its wrappers (see _WRAPPERS)."""
    for wrapper in _WRAPPERS:
        inner = as_dict(as_dict(message.get(wrapper)).get("message"))
        if inner and depth < 3:
            return _unwrapped(inner, depth + 1)
    return message


def evolution_media(key: dict, message: dict) -> InboundMedia | None:
    """The file a WhatsApp message carries: its kind (an audio sent as a
    voice note, "ptt", is a voice note), what the gateway's
    getBase64FromMediaMessage needs to fetch it (the key, and the content
    without its previews), the size, name and seconds it declares; the
    file itself when the gateway sent it along (its "webhook base64")."""
    content = _unwrapped(message)
    for name, kind in _MEDIA.items():
        value = content.get(name)
        if isinstance(value, dict):
            break
    else:
        return None
    if name == "audioMessage" and value.get("ptt") is True:
        kind = MessageMedia.Kind.VOICE
    slim = {field: item for field, item in value.items() if field not in _MEDIA_LEFT_OUT}
    source = {"key": {field: key[field] for field in ("remoteJid", "fromMe", "id", "participant") if field in key}, "message": {name: slim}}
    inline = message.get("base64")
    if isinstance(inline, str) and inline:
        source["base64"] = inline
    return InboundMedia(
        kind=kind,
        source=source,
        size=count_of(value.get("fileLength")),
        file_name=safe_name(value.get("fileName"), 255) if name == "documentMessage" else "",
        duration=count_of(value.get("seconds")),
    )


def evolution_details(message: dict) -> dict | None:
    """What a location (its coordinates, name and address) or a contact
    card (each person's name and numbers, from the vCard) holds."""
    content = _unwrapped(message)
    for name in ("locationMessage", "liveLocationMessage"):
        value = content.get(name)
        if isinstance(value, dict):
            return location_details(
                value.get("degreesLatitude"), value.get("degreesLongitude"), name=value.get("name"), address=value.get("address")
            )
    if isinstance(content.get("contactMessage"), dict):
        cards = [content["contactMessage"]]
    elif isinstance(content.get("contactsArrayMessage"), dict):
        cards = content["contactsArrayMessage"].get("contacts")
        cards = [card for card in cards if isinstance(card, dict)] if isinstance(cards, list) else []
    else:
        return None
    return contact_details([(card.get("displayName"), vcard_phones(card.get("vcard"))) for card in cards])


def _content(message: dict, depth: int = 0) -> tuple[str, str] | None:
    """(kind, text) of a WhatsApp message; None when it is not a message of
    the conversation (a reaction, an edit, an event's answer, a key
    exchange alone) or empty. Content wins over what comes beside it, in
    any order."""
    for wrapper in _WRAPPERS:
        inner = as_dict(as_dict(message.get(wrapper)).get("message"))
        if inner and depth < 3:
            return _content(inner, depth + 1)
    conversation = message.get("conversation")
    if isinstance(conversation, str) and conversation:
        return Message.Kind.TEXT, safe_body(conversation)
    for name, value in message.items():
        if name in _CONTENT and name != "conversation" and isinstance(value, dict):
            kind, text_field = _CONTENT[name]
            text = safe_body(value.get(text_field)) if text_field else ""
            if name == "documentMessage" and not text:
                text = safe_body(value.get("fileName"))
            return kind, text
    others = [name for name in message if name not in _BOOKKEEPING]
    if not others or any(name in _NOT_MESSAGES for name in others):
        return None
    return Message.Kind.OTHER, ""


def _evolution_message(item, envelope_sender: str, own: Own) -> tuple[Inbound | None, list[tuple[str, str]]]:
    """The message of one messages.upsert item, and the (LID, phone) pair
    of a group message's author."""
    item = as_dict(item)
    key = item.get("key")
    if not isinstance(key, dict):
        raise InvalidPayload("a message without its key")
    remote_jid, message_id = _text(key.get("remoteJid")), _text(key.get("id"))
    if not remote_jid or not message_id or "@" not in remote_jid:
        raise InvalidPayload("a message key without remoteJid or id")
    from_me = key.get("fromMe") is True
    user, server = split_jid(remote_jid)
    if server not in (*PERSON_SERVERS, GROUP_SERVER, LID_SERVER):
        return None, []  # status@broadcast, newsletters, broadcast lists
    is_group = server == GROUP_SERVER
    pairs = []
    if is_group:
        chat_identity, chat_lid = group_id_of(remote_jid), ""
        author = person_of({**key, "participant": key.get("participant") or item.get("participant")}, PARTICIPANT_FIELDS, own)
        pairs = _pair(author)
        sender_id = author.phone or author.jid
    else:
        # Our own message (sent from the phone) names the chat in remoteJid
        # and its alternative only: senderPn is then our own number.
        peer = person_of(key, CHAT_FIELDS[:2] if from_me else CHAT_FIELDS, own)
        chat_identity, chat_lid = peer.phone, peer.lid
        sender_id = peer.phone or peer.jid
    content = _content(as_dict(item.get("message")))
    if content is None:
        return None, pairs
    kind, body = content
    if from_me:
        sender_id = phone_of(envelope_sender) or envelope_sender
    return (
        Inbound(
            external_id=message_id,
            chat_id=remote_jid,
            chat_identity=chat_identity[:MAX_IDENTITY_LENGTH],
            sender_id=sender_id,
            # Evolution names our own messages "Você": not a profile name.
            sender_name="" if from_me else safe_name(item.get("pushName")),
            is_group=is_group,
            group_name="",  # WhatsApp does not send it; "Sincronizar grupos" asks the gateway
            from_me=from_me,
            kind=kind,
            body=body,
            sent_at=timestamp_of(item.get("messageTimestamp")),
            chat_lid=chat_lid,
            media=evolution_media(key, as_dict(item.get("message"))),
            details=evolution_details(as_dict(item.get("message"))),
        ),
        pairs,
    )


# Edits ----------------------------------------------------------------------
#
# WhatsApp sends an edit as a protocolMessage of type MESSAGE_EDIT (14),
# often wrapped in editedMessage: {"message": {"protocolMessage": ...}}. Its
# "key" is the edited message's key as the editor holds it: fromMe true (only
# one's own messages can be edited) and remoteJid the chat seen from the
# editor's side, our own number when the other person edits (Baileys'
# Utils/messages.ts builds it so from the `edit` option; whatsmeow's
# BuildEdit too). Who sent the edit is the envelope's key, as for any
# message: Baileys' process-message.ts emits the edit as messages.update
# under `{...message.key, id: protocolMsg.key.id}`, the envelope's key with
# the edited id.


def _is_edit(protocol: dict) -> bool:
    kind = protocol.get("type")
    return isinstance(protocol.get("editedMessage"), dict) and kind in ("MESSAGE_EDIT", 14, None)


def _carried_edit(message: dict) -> tuple[str, dict] | None:
    """(edited message's id, its new content) of an edit delivered as a
    message: Evolution API up to 2.3.2 posts WhatsApp's wrapped edit as
    messages.upsert (only a bare protocolMessage was filtered out)."""
    protocol = as_dict(message.get("protocolMessage")) or as_dict(
        as_dict(as_dict(message.get("editedMessage")).get("message")).get("protocolMessage")
    )
    edited_id = _text(as_dict(protocol.get("key")).get("id"))
    return (edited_id, protocol["editedMessage"]) if edited_id and _is_edit(protocol) else None


def _evolution_item(item: dict, envelope_sender: str, own: Own) -> tuple[Inbound | None, list[tuple[str, str]]]:
    """A message of messages.upsert or send.message, or an edit carried as
    one: its envelope names the editor (the sender, or us), read like any
    message's sender. With the (LID, phone) pairs it reveals."""
    edit = _carried_edit(as_dict(item.get("message")))
    if edit is None:
        return _evolution_message(item, envelope_sender, own)
    edited_id, content = edit
    envelope, pairs = _evolution_message({**item, "message": content}, envelope_sender, own)
    if envelope is None:
        return None, pairs
    edited = replace(
        envelope, external_id=edited_id, edited=True, editor_id=envelope.sender_id, edit_from_me=envelope.from_me
    )
    return edited, pairs


def _evolution_edit(item) -> Inbound | None:
    """messages.edited: Evolution API (2.2 on) posts the protocol message
    alone (received.message.protocolMessage in whatsapp.baileys.service.ts),
    without the envelope that says who sent it. Its key is the editor's own
    view, which the editor writes: a group's edit could be any member's,
    and a 1:1 edit naming the chat itself (as our phone's edits do) could be
    the other person's too. What can be known: a 1:1 edit naming another
    chat (our number, or our LID) comes from the other person of the chat
    whose message it names (its id is known to the two of them only). So
    such an edit only ever changes a message stored already (see
    Message.allows_edit); a group's is stored as new when its original never
    arrived, as nobody's."""
    item = as_dict(item)
    key = as_dict(item.get("key"))
    addressed, message_id = _text(key.get("remoteJid")), _text(key.get("id"))
    content = _content(as_dict(item.get("editedMessage")))
    if not addressed or not message_id or content is None or not _is_edit(item):
        return None
    user, server = split_jid(addressed)
    if server not in (*PERSON_SERVERS, GROUP_SERVER, LID_SERVER):
        return None
    is_group = server == GROUP_SERVER
    if not is_group and key.get("fromMe") is not True:
        return None  # no WhatsApp client edits a message that is not its own
    return Inbound(
        external_id=message_id,
        chat_id=addressed,
        chat_identity=group_id_of(addressed)[:MAX_IDENTITY_LENGTH] if is_group else "",
        sender_id="",
        sender_name="",
        is_group=is_group,
        group_name="",
        from_me=False,
        kind=content[0],
        body=content[1],
        sent_at=timestamp_of(item.get("timestampMs")),
        edited=True,
        editor_addressed="" if is_group else addressed,
    )


STORED_EVOLUTION_EVENTS = ("messages.upsert", "send.message")
# Events whose entries may pair a LID with its phone number.
LISTING_EVOLUTION_EVENTS = ("contacts.upsert", "contacts.update", "chats.upsert", "chats.update")
# What the channel asks its gateway to send (set_webhook; README): the
# messages and their edits, and the contact and chat events, which reveal
# the numbers of people known by LID.
EVOLUTION_WEBHOOK_EVENTS = [
    "MESSAGES_UPSERT", "MESSAGES_EDITED", "SEND_MESSAGE", "CONTACTS_UPSERT", "CONTACTS_UPDATE", "CHATS_UPSERT", "CHATS_UPDATE"
]


def evolution_event(payload) -> str:
    """The event name in one writing: "MESSAGES_UPSERT" -> "messages.upsert"."""
    event = as_dict(payload).get("event")
    if not isinstance(event, str) or len(event) > 100:
        raise InvalidPayload("no event name")
    return event.strip().lower().replace("_", ".").replace("-", ".")


def own_addresses(payload: dict, channel_number: str = "") -> Own:
    """The business's own phone and LID: the envelope's sender, and the
    number the channel is configured with."""
    sender = _text(payload.get("sender"))
    phones = {phone for phone in (phone_of(sender), channel_number) if phone}
    return Own(frozenset(phones), frozenset({lid_of(sender)} - {""}))


def listing_pairs(items, own: Own = Own()) -> list[tuple[str, str]]:
    """The (LID, phone) pairs of contact or chat list entries."""
    items = items if isinstance(items, list) else [items]
    return [pair for item in items if isinstance(item, dict) for pair in _pair(person_of(item, LISTING_FIELDS, own))]


def parse_evolution(payload, *, channel_number: str = "") -> Event:
    """What an Evolution API webhook holds: the messages of messages.upsert
    (received, and sent from the phone) and send.message (sent through the
    gateway); the edits of messages.edited, which change a stored
    message's text; the LID and phone pairs of those and of the contact
    and chat events. Nothing for other events."""
    if not isinstance(payload, dict):
        raise InvalidPayload("not a JSON object")
    event = evolution_event(payload)
    data = payload.get("data")
    items = data if isinstance(data, list) else [data]
    own = own_addresses(payload, channel_number)
    if event == "messages.edited":
        return Event([inbound for item in items if (inbound := _evolution_edit(item)) is not None])
    if event in LISTING_EVOLUTION_EVENTS:
        return Event(pairs=listing_pairs(items, own), seen="gateway")
    if event not in STORED_EVOLUTION_EVENTS:
        return Event()
    if not all(isinstance(item, dict) for item in items):
        raise InvalidPayload("data is not a message")
    sender = _text(payload.get("sender"))
    found = Event()
    for item in items:
        inbound, pairs = _evolution_item(item, sender, own)
        if inbound is not None:
            found.messages.append(inbound)
        found.pairs.extend(pairs)
    return found


# The gateway's API ---------------------------------------------------------

# Chat and contact lists of a busy number run to tens of megabytes.
MAX_LIST_BYTES = 64 * 1024 * 1024
PAGE_SIZE = 1000
MAX_PAGES = 500


def _objects(data) -> list[dict]:
    """A list of JSON objects, as the documented list endpoints answer."""
    if isinstance(data, dict):
        # Some releases wrap lists: {"chats": [...]} / {"contacts": [...]}.
        data = next((value for value in data.values() if isinstance(value, list)), None)
    if not isinstance(data, list):
        raise GatewayError(_("The gateway answered with something else than a list."))
    return [item for item in data if isinstance(item, dict)]


# What getBase64FromMediaMessage answers beside the file itself.
MAX_MEDIA_ENVELOPE = 64 * 1024
_MEDIA_GONE = re.compile(r"\b(404|410)\b|not found|no longer|expired|gone", re.IGNORECASE)


def _sent_id(data) -> str:
    """The id WhatsApp gave a message Evolution API sent (its "key")."""
    message_id = data.get("key", {}).get("id") if isinstance(data, dict) and isinstance(data.get("key"), dict) else None
    if not isinstance(message_id, str) or not message_id or len(message_id) > 128:
        raise GatewayError(_("The gateway did not say which message it sent."))
    return message_id


#: sendMedia's mediatype for each kind of file (a voice note has its own
#: method, sendWhatsAppAudio).
_MEDIATYPES = {
    MessageMedia.Kind.IMAGE: "image",
    MessageMedia.Kind.VIDEO: "video",
    MessageMedia.Kind.AUDIO: "audio",
    MessageMedia.Kind.DOCUMENT: "document",
}


class EvolutionGateway(Gateway):
    """A WhatsApp number through an Evolution API (v2) instance: the
    `apikey` header, the instance in the path."""

    def __init__(self, channel: Channel):
        if not (channel.gateway_url and channel.instance and channel.api_key):
            raise GatewayError(_("The channel's gateway is not configured (URL, instance and API key)."))
        super().__init__(channel.gateway_url)
        self.instance = quote(channel.instance, safe="")
        self.client.headers["apikey"] = channel.api_key

    def _pages(self, path: str, page_body) -> Iterator[dict]:
        """Every item of a paged list. A release that ignores the paging
        fields answers the whole list at once: that is the end too."""
        seen = set()
        for page in range(MAX_PAGES):
            items = _objects(call(self.client, "POST", path, json=page_body(page), limit=MAX_LIST_BYTES))
            new = [item for item in items if str(item.get("remoteJid") or item.get("id")) not in seen]
            yield from new
            seen.update(str(item.get("remoteJid") or item.get("id")) for item in new)
            if len(items) != PAGE_SIZE or not new:
                return

    def find_chats(self) -> Iterator[dict]:
        """POST /chat/findChats/{instance}: every chat, newest first, each
        with remoteJid, pushName and its lastMessage."""
        return self._pages(
            f"/chat/findChats/{self.instance}",
            lambda page: {"where": {}, "take": PAGE_SIZE, "skip": page * PAGE_SIZE},
        )

    def find_contacts(self) -> Iterator[dict]:
        """POST /chat/findContacts/{instance}: every contact the number
        knows, with remoteJid and pushName."""
        return self._pages(
            f"/chat/findContacts/{self.instance}",
            lambda page: {"where": {}, "offset": PAGE_SIZE, "page": page + 1},
        )

    def fetch_all_groups(self) -> list[dict]:
        """GET /group/fetchAllGroups/{instance}: the groups the number is in,
        each with id (the group JID) and subject."""
        data = call(
            self.client,
            "GET",
            f"/group/fetchAllGroups/{self.instance}",
            params={"getParticipants": "false"},
            limit=MAX_LIST_BYTES,
        )
        return _objects(data)

    def send_text(self, number: str, text: str) -> str:
        """POST /message/sendText/{instance}; the id WhatsApp gave the message."""
        data = call(self.client, "POST", f"/message/sendText/{self.instance}", json={"number": number, "text": text})
        return _sent_id(data)

    def send_media(self, number: str, *, mediatype: str, file, size: int, file_name: str, mimetype: str, caption: str) -> str:
        """POST /message/sendMedia/{instance} with the file in base64
        (mediatype image, video, audio or document); the id WhatsApp gave
        the message. The body streams out as it is encoded."""
        fields = {"number": number, "mediatype": mediatype, "mimetype": mimetype, "fileName": file_name}
        if caption:
            fields["caption"] = caption
        content, length = json_with_base64(fields, key="media", file=file, size=size)
        return self._send_file(f"/message/sendMedia/{self.instance}", content, length)

    def send_voice_note(self, number: str, *, file, size: int) -> str:
        """POST /message/sendWhatsAppAudio/{instance}: an audio that shows as
        a voice note, recorded on the spot; the id WhatsApp gave it."""
        content, length = json_with_base64({"number": number}, key="audio", file=file, size=size)
        return self._send_file(f"/message/sendWhatsAppAudio/{self.instance}", content, length)

    def _send_file(self, path: str, content, length: int) -> str:
        headers = {"Content-Type": "application/json", "Content-Length": str(length)}
        return _sent_id(call(self.client, "POST", path, content=content, headers=headers))

    def get_base64(self, message: dict, *, write, limit: int) -> None:
        """POST /chat/getBase64FromMediaMessage/{instance}: the file of a
        received message (its key, and its content when known), decoded
        into `write` as the answer streams in (see Base64Value)."""
        value = Base64Value(write=write, limit=limit)
        try:
            download(
                self.client,
                "POST",
                f"/chat/getBase64FromMediaMessage/{self.instance}",
                json={"message": message, "convertToMp4": False},
                write=value.feed,
                # The file in base64 (4 characters for 3 bytes) and the
                # answer's other fields.
                limit=limit * 4 // 3 + MAX_MEDIA_ENVELOPE,
            )
        except (MediaGone, MediaTooLarge):
            raise
        except GatewayError as error:
            # Evolution answers 400 with Baileys' own words when WhatsApp
            # no longer has the file (its download failed with 404/410).
            if _MEDIA_GONE.search(str(error)):
                raise MediaGone(str(error)) from None
            raise
        value.finish()

    def set_webhook(self, url: str, secret: str) -> None:
        """POST /webhook/set/{instance}: send message events to `url`, with
        the secret in the `apikey` header."""
        call(
            self.client,
            "POST",
            f"/webhook/set/{self.instance}",
            json={
                "webhook": {
                    "enabled": True,
                    "url": url,
                    "headers": {"apikey": secret},
                    "byEvents": False,
                    "base64": False,
                    "events": EVOLUTION_WEBHOOK_EVENTS,
                }
            },
        )


# The provider ---------------------------------------------------------------


class EvolutionProvider(Provider):
    """A WhatsApp number served by an Evolution API instance. The webhook
    secret is the instance's API key: Evolution sends it as "apikey" in
    every event's body, or in an "apikey" header when the webhook was
    registered from admin."""

    kind = Channel.Kind.WHATSAPP
    contact_field = "number"
    max_text_length = 65536
    max_caption_length = 1024
    # WhatsApp shows no caption under an audio or a voice note.
    captions_audio = False
    secret_header = "apikey"
    secret_in_body = True
    lists_chats = True

    def clean(self) -> None:
        channel = self.channel
        gateway = {"gateway_url": channel.gateway_url, "instance": channel.instance, "api_key": channel.api_key}
        if any(gateway.values()) and not all(gateway.values()):
            message = gettext_lazy("Fill in the gateway URL, the instance and the API key, or none of them.")
            raise ValidationError({name: message for name, value in gateway.items() if not value})

    @property
    def configured(self) -> bool:
        return bool(self.channel.gateway_url and self.channel.instance and self.channel.api_key)

    def chat_id_of(self, contact) -> str:
        # A group is reached by its JID; a person by number, or by LID
        # while the number is not known.
        identity = self.identity_of(contact)
        if contact.is_group:
            return f"{identity}@{GROUP_SERVER}" if identity else ""
        if identity or contact.pk is None:
            return identity
        lid = contact.identities.filter(kind="lid").values_list("value", flat=True).first()
        return f"{lid}@{LID_SERVER}" if lid else ""

    def authenticated_by_body(self, payload) -> bool:
        return same_secret(isinstance(payload, dict) and payload.get("apikey"), self.channel.webhook_secret)

    def parse(self, payload) -> Event:
        return parse_evolution(payload, channel_number=self.own_number)

    @cached_property
    def own(self) -> Own:
        return Own(frozenset({self.own_number} - {""}))

    @cached_property
    def own_number(self) -> str:
        """The channel's business number, canonical; "" when not one."""
        try:
            return normalize_phone(self.channel.address) if self.channel.address else ""
        except ValidationError:
            return ""

    def send(self, message: Message) -> str:
        media = attached_to(message)
        with EvolutionGateway(self.channel) as gateway:
            if media is None:
                return gateway.send_text(message.chat_id, message.body)
            with media.file.open("rb") as file:
                if media.kind == MessageMedia.Kind.VOICE:
                    return gateway.send_voice_note(message.chat_id, file=file, size=file.size)
                return gateway.send_media(
                    message.chat_id,
                    mediatype=_MEDIATYPES[media.kind],
                    file=file,
                    size=file.size,
                    file_name=media.file_name,
                    mimetype=media.content_type,
                    caption=message.body,
                )

    def register_webhook(self, url: str) -> None:
        with EvolutionGateway(self.channel) as gateway:
            gateway.set_webhook(url, self.channel.webhook_secret)

    def fetch_media(self, source: dict, *, write, limit: int) -> None:
        message = {"key": source.get("key", {})}
        if source.get("message"):
            message["message"] = source["message"]
        with EvolutionGateway(self.channel) as gateway:
            gateway.get_base64(message, write=write, limit=limit)

    def list_chats(self, *, groups: bool) -> Iterator[Chat]:
        """Its groups (fetchAllGroups) named by their subject, or its
        private chats (findChats) named by its contact list (findContacts),
        with their LIDs, then the LID and number pairs of the contact list.
        A chat the panel cannot address (a LID chat whose number is not
        known, a number it would not accept) comes with a blank identity."""
        with EvolutionGateway(self.channel) as gateway:
            if groups:
                for group in gateway.fetch_all_groups():
                    jid = group.get("id")
                    identity = group_id_of(jid) if isinstance(jid, str) else ""
                    if identity:
                        yield Chat(identity, safe_name(group.get("subject")))
                return
            names, phones = {}, {}
            for contact in gateway.find_contacts():
                jid, name = contact.get("remoteJid"), safe_name(contact.get("pushName"))
                if isinstance(jid, str) and name:
                    names[jid] = name
                # The contact list pairs LIDs with their numbers.
                phones.update(listing_pairs(contact, self.own))
            for chat in gateway.find_chats():
                jid = chat.get("remoteJid")
                if not isinstance(jid, str) or split_jid(jid)[1] == GROUP_SERVER or jid.endswith("@broadcast"):
                    continue
                last = chat.get("lastMessage")
                ours = isinstance(last, dict) and isinstance(last.get("key"), dict) and last["key"].get("fromMe") is True
                # The chat's pushName is "Você" (we) when we wrote last.
                person = person_of(chat, LISTING_FIELDS, self.own)
                name = names.get(jid) or ("" if ours else safe_name(chat.get("pushName")))
                yield Chat(person.phone or phones.get(person.lid, ""), name, person.lid)
            for lid, phone in phones.items():
                yield Chat(phone, "", lid, pair_only=True)
