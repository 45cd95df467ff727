"""What the channels deliver, read into one shape.

Evolution API posts an envelope per event:
    {"event": "messages.upsert", "instance": "...", "data": {...message...},
     "sender": "<our JID>", "apikey": "<instance key>", ...}
whose message is Baileys' WebMessageInfo as Evolution prepares it: "key"
(remoteJid, fromMe, id, participant, and for LID addressing remoteJidAlt /
participantAlt, senderPn in older releases), "pushName", "message" (one
content key: conversation, extendedTextMessage, imageMessage, ...),
"messageType" and "messageTimestamp" (seconds).

Telegram posts Update objects: {"update_id": 1, "message": {...}} or
"edited_message", among many others; a Message has message_id, from, chat
(id, type private/group/supergroup/channel, title), date, and text or a
caption beside a photo, voice note, document...

parse_evolution() and parse_telegram() return the messages worth keeping
(an empty list for other events), or raise InvalidPayload for a body that
is not what the provider sends. Nothing here touches the database.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.normalizers import clean_text, normalize_phone, normalize_telegram_id

from .models import Message

MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 200
MAX_IDENTITY_LENGTH = 64


class InvalidPayload(ValueError):
    """The body is not an event the provider sends."""


@dataclass(frozen=True)
class Inbound:
    """One delivered message, ready to be stored (see Message)."""

    external_id: str
    chat_id: str
    chat_identity: str
    sender_id: str
    sender_name: str
    is_group: bool
    group_name: str
    from_me: bool
    kind: str
    body: str
    sent_at: datetime
    edited: bool = False


# Characters never stored: control characters (NUL breaks PostgreSQL, ESC
# breaks terminals), lone surrogates (a "\ud83d" cut out of an emoji in
# JSON cannot be encoded at all) and unassigned code points.
_DROPPED = {"Cc", "Cs", "Cn"}


def safe_name(value, max_length: int = MAX_NAME_LENGTH) -> str:
    """A name as it can be stored and shown: text only, invisible marks,
    control characters and broken surrogates removed, one line, at most
    `max_length` characters. Quotes and emoji stay as they are."""
    if not isinstance(value, str):
        return ""
    text = "".join(ch for ch in clean_text(value[: max_length * 4]) if unicodedata.category(ch) not in _DROPPED)
    return " ".join(text.split())[:max_length].strip()


def safe_body(value) -> str:
    """Message text as written (line breaks and tabs kept), without what
    cannot be stored."""
    if not isinstance(value, str):
        return ""
    text = value.replace("\r\n", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _DROPPED).strip()


def _text(value, max_length: int = MAX_ID_LENGTH) -> str:
    """An id-like string: kept only when it is a short, printable string."""
    if not isinstance(value, str) or len(value) > max_length:
        return ""
    return value if value.isprintable() else ""


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _integer(value) -> int | None:
    """An integer, not a bool or a float (JSON has no integer type)."""
    return value if type(value) is int else None


def _timestamp(value) -> datetime:
    """Seconds since the epoch (a number, a digit string, or a protobuf
    Long {"low", "high"}) as a datetime; now when missing or absurd."""
    if isinstance(value, dict) and type(value.get("low")) is int and type(value.get("high")) is int:
        value = (value["high"] << 32) | (value["low"] & 0xFFFFFFFF)
    if isinstance(value, str) and value.isdigit() and len(value) < 16:
        value = int(value)
    now = timezone.now()
    if type(value) in (int, float) and value == value:  # not NaN
        seconds = value / 1000 if value > 10**11 else value  # milliseconds
        try:
            moment = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return now
        if datetime(2009, 1, 1, tzinfo=UTC) <= moment <= now + timedelta(days=1):
            return moment
    return now


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
    user, _, server = jid.partition("@")
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


def _person(key: dict, jid_field: str, alternatives: tuple[str, ...]) -> tuple[str, str]:
    """(address, canonical phone) of a person in a message key: the JID in
    `jid_field`, or for a LID address the phone JID sent beside it."""
    jid = _text(key.get(jid_field))
    phone = phone_of(jid)
    if not phone:
        for field in alternatives:
            phone = phone_of(_text(key.get(field)))
            if phone:
                break
    return jid, phone


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
    "pollCreationMessageV3": (Message.Kind.OTHER, "name"),
    "buttonsResponseMessage": (Message.Kind.TEXT, "selectedDisplayText"),
    "templateButtonReplyMessage": (Message.Kind.TEXT, "selectedDisplayText"),
    "listResponseMessage": (Message.Kind.TEXT, "title"),
}
# Not messages of the conversation: reactions, edits, deletions, poll votes,
# key exchanges. Edits come as their own event (messages.edited).
_NOT_MESSAGES = {
    "reactionMessage",
    "protocolMessage",
    "editedMessage",
    "pollUpdateMessage",
    "senderKeyDistributionMessage",
    "keepInChatMessage",
    "pinInChatMessage",
    "encReactionMessage",
}
# Wrappers around the real content.
_WRAPPERS = ("ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension", "documentWithCaptionMessage")


def _content(message: dict, depth: int = 0) -> tuple[str, str] | None:
    """(kind, text) of a WhatsApp message; None when it is not a message of
    the conversation (a reaction, an edit, a key exchange) or empty."""
    for wrapper in _WRAPPERS:
        inner = _dict(_dict(message.get(wrapper)).get("message"))
        if inner and depth < 3:
            return _content(inner, depth + 1)
    conversation = message.get("conversation")
    if isinstance(conversation, str) and conversation:
        return Message.Kind.TEXT, safe_body(conversation)
    for name, value in message.items():
        if name in _NOT_MESSAGES:
            return None
        if name in _CONTENT and name != "conversation" and isinstance(value, dict):
            kind, text_field = _CONTENT[name]
            text = safe_body(value.get(text_field)) if text_field else ""
            if name == "documentMessage" and not text:
                text = safe_body(value.get("fileName"))
            return kind, text
    content_keys = [name for name in message if name not in ("messageContextInfo", "base64", "mediaUrl", "speechToText")]
    return (Message.Kind.OTHER, "") if content_keys else None


def _evolution_message(item, envelope_sender: str) -> Inbound | None:
    item = _dict(item)
    key = item.get("key")
    if not isinstance(key, dict):
        raise InvalidPayload("a message without its key")
    remote_jid, message_id = _text(key.get("remoteJid")), _text(key.get("id"))
    if not remote_jid or not message_id or "@" not in remote_jid:
        raise InvalidPayload("a message key without remoteJid or id")
    from_me = key.get("fromMe") is True
    user, server = split_jid(remote_jid)
    if server not in (*PERSON_SERVERS, GROUP_SERVER, LID_SERVER):
        return None  # status@broadcast, newsletters, broadcast lists
    content = _content(_dict(item.get("message")))
    if content is None:
        return None
    kind, body = content
    push_name = safe_name(item.get("pushName"))
    is_group = server == GROUP_SERVER
    if is_group:
        chat_identity = group_id_of(remote_jid)
        participant = {**key, "participant": key.get("participant") or item.get("participant")}
        sender_jid, sender_phone = _person(participant, "participant", ("participantAlt", "participantPn"))
    else:
        sender_jid, chat_identity = _person(key, "remoteJid", ("remoteJidAlt", "senderPn"))
        sender_phone = chat_identity
    if from_me:
        sender_jid, sender_phone = envelope_sender, phone_of(envelope_sender)
    return Inbound(
        external_id=message_id,
        chat_id=remote_jid,
        chat_identity=chat_identity[:MAX_IDENTITY_LENGTH],
        sender_id=sender_phone or sender_jid,
        # Evolution names our own messages "Você": not a profile name.
        sender_name="" if from_me else push_name,
        is_group=is_group,
        group_name="",  # WhatsApp does not send it; "Sincronizar grupos" asks the gateway
        from_me=from_me,
        kind=kind,
        body=body,
        sent_at=_timestamp(item.get("messageTimestamp")),
    )


def _evolution_edit(item) -> Inbound | None:
    """messages.edited: the protocol message naming the edited message and
    its new content."""
    item = _dict(item)
    key = _dict(item.get("key"))
    remote_jid, message_id = _text(key.get("remoteJid")), _text(key.get("id"))
    content = _content(_dict(item.get("editedMessage")))
    if not remote_jid or not message_id or content is None:
        return None
    user, server = split_jid(remote_jid)
    is_group = server == GROUP_SERVER
    return Inbound(
        external_id=message_id,
        chat_id=remote_jid,
        chat_identity=(group_id_of(remote_jid) if is_group else phone_of(remote_jid))[:MAX_IDENTITY_LENGTH],
        sender_id="",
        sender_name="",
        is_group=is_group,
        group_name="",
        from_me=key.get("fromMe") is True,
        kind=content[0],
        body=content[1],
        sent_at=_timestamp(item.get("timestampMs")),
        edited=True,
    )


STORED_EVOLUTION_EVENTS = ("messages.upsert", "send.message")


def evolution_event(payload) -> str:
    """The event name in one writing: "MESSAGES_UPSERT" -> "messages.upsert"."""
    event = _dict(payload).get("event")
    if not isinstance(event, str) or len(event) > 100:
        raise InvalidPayload("no event name")
    return event.strip().lower().replace("_", ".").replace("-", ".")


def parse_evolution(payload) -> list[Inbound]:
    """The messages of an Evolution API webhook: messages.upsert (received,
    and sent from the phone) and send.message (sent through the gateway);
    messages.edited changes a stored message's text. [] for other events."""
    if not isinstance(payload, dict):
        raise InvalidPayload("not a JSON object")
    event = evolution_event(payload)
    data = payload.get("data")
    items = data if isinstance(data, list) else [data]
    if event == "messages.edited":
        return [inbound for item in items if (inbound := _evolution_edit(item)) is not None]
    if event not in STORED_EVOLUTION_EVENTS:
        return []
    if not all(isinstance(item, dict) for item in items):
        raise InvalidPayload("data is not a message")
    sender = _text(payload.get("sender"))
    return [inbound for item in items if (inbound := _evolution_message(item, sender)) is not None]


# Telegram ----------------------------------------------------------------


def telegram_name(user: dict) -> str:
    """First and last name as Telegram sends them (either may be missing,
    never "None"); the username when both are."""
    user = _dict(user)
    parts = [safe_name(user.get(field)) for field in ("first_name", "last_name")]
    return " ".join(part for part in parts if part) or safe_name(user.get("username"))


_TELEGRAM_CONTENT = [
    ("text", Message.Kind.TEXT),
    ("photo", Message.Kind.IMAGE),
    ("video", Message.Kind.VIDEO),
    ("animation", Message.Kind.VIDEO),
    ("video_note", Message.Kind.VIDEO),
    ("voice", Message.Kind.AUDIO),
    ("audio", Message.Kind.AUDIO),
    ("document", Message.Kind.DOCUMENT),
    ("sticker", Message.Kind.STICKER),
    ("location", Message.Kind.LOCATION),
    ("venue", Message.Kind.LOCATION),
    ("contact", Message.Kind.CONTACT),
    ("poll", Message.Kind.OTHER),
]
# Service messages (someone joined, the title changed...): not conversation.
_TELEGRAM_SERVICE = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
)


def _telegram_content(message: dict) -> tuple[str, str] | None:
    if any(field in message for field in _TELEGRAM_SERVICE):
        return None
    for field, kind in _TELEGRAM_CONTENT:
        if field not in message:
            continue
        if field == "text":
            return kind, safe_body(message["text"])
        if field == "contact":
            return kind, telegram_name(message["contact"])
        if field == "poll":
            return kind, safe_body(_dict(message["poll"]).get("question"))
        if field == "sticker":
            return kind, safe_body(_dict(message["sticker"]).get("emoji"))
        if field == "venue":
            return kind, safe_body(_dict(message["venue"]).get("title"))
        return kind, safe_body(message.get("caption"))
    return Message.Kind.OTHER, safe_body(message.get("caption"))


def parse_telegram(payload) -> list[Inbound]:
    """The message of a Telegram Update: "message" or "edited_message" in a
    private chat, group or supergroup. [] for other updates (channel posts,
    button presses, membership changes)."""
    if not isinstance(payload, dict) or _integer(payload.get("update_id")) is None:
        raise InvalidPayload("not a Telegram Update")
    if "message" in payload:
        message, edited = payload["message"], False
    elif "edited_message" in payload:
        message, edited = payload["edited_message"], True
    else:
        return []
    if not isinstance(message, dict):
        raise InvalidPayload("the message is not an object")
    message_id = _integer(message.get("message_id"))
    chat = message.get("chat")
    chat_id = _integer(_dict(chat).get("id"))
    chat_type = _dict(chat).get("type")
    if message_id is None or chat_id is None or not isinstance(chat_type, str):
        raise InvalidPayload("a message without message_id or chat")
    if chat_type not in ("private", "group", "supergroup"):
        return []
    content = _telegram_content(message)
    if content is None:
        return []
    try:
        identity = normalize_telegram_id(str(chat_id))
    except ValidationError:
        raise InvalidPayload("a chat id out of range") from None
    sender = _dict(message.get("from"))
    sender_id = _integer(sender.get("id"))
    is_group = chat_type != "private"
    sender_name = telegram_name(sender) if sender else safe_name(_dict(message.get("sender_chat")).get("title"))
    return [
        Inbound(
            external_id=f"{identity}:{message_id}"[:MAX_ID_LENGTH],
            chat_id=identity,
            chat_identity=identity,
            sender_id=str(sender_id) if sender_id is not None else "",
            sender_name=sender_name,
            is_group=is_group,
            group_name=safe_name(chat.get("title")) if is_group else "",
            # The Bot API does not deliver the bot's own messages.
            from_me=False,
            kind=content[0],
            body=content[1],
            sent_at=_timestamp(message.get("date")),
            edited=edited,
        )
    ]
