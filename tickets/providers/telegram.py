"""Telegram through the Bot API: a bot's updates, its methods and the
provider that puts them together.

Telegram posts Update objects: {"update_id": 1, "message": {...}} or
"edited_message", among many others; a Message has message_id, from, chat
(id, type private/group/supergroup/channel, title), date, and text or a
caption beside a photo, voice note, document... A chat is addressed by its
id, which is also the contact's identity (Contact.telegram_id).
"""

import re
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.normalizers import normalize_telegram_id

from ..gateways import Gateway, GatewayError, MediaGone, MediaTooLarge, call, download, error_detail
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
from .base import Provider, attached_to

TELEGRAM_API = "https://api.telegram.org"
# What setWebhook accepts as a secret_token.
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


# Updates -------------------------------------------------------------------


def _integer(value) -> int | None:
    """An integer, not a bool or a float (JSON has no integer type)."""
    return value if type(value) is int else None


def telegram_name(user: dict) -> str:
    """First and last name as Telegram sends them (either may be missing,
    never "None"); the username when both are. Each part may be as long
    as the column, so the whole is cut again."""
    user = as_dict(user)
    parts = [safe_name(user.get(field)) for field in ("first_name", "last_name")]
    return safe_name(" ".join(part for part in parts if part)) or safe_name(user.get("username"))


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
# Service messages (someone joined, the title changed, a topic or a video
# chat began, the bot may now write...): events, not conversation. The Bot
# API marks each by one of these fields.
_TELEGRAM_SERVICE = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "users_shared",
    "chat_shared",
    "connected_website",
    "write_access_allowed",
    "proximity_alert_triggered",
    "boost_added",
    "chat_background_set",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "giveaway_created",
    "giveaway_completed",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "successful_payment",
    "refunded_payment",
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
            return kind, safe_body(as_dict(message["poll"]).get("question"))
        if field == "sticker":
            return kind, safe_body(as_dict(message["sticker"]).get("emoji"))
        if field == "venue":
            return kind, safe_body(as_dict(message["venue"]).get("title"))
        return kind, safe_body(message.get("caption"))
    return Message.Kind.OTHER, safe_body(message.get("caption"))


# The fields of a Message that carry a file, and what the panel calls it.
_TELEGRAM_MEDIA = [
    ("photo", MessageMedia.Kind.IMAGE),
    ("video", MessageMedia.Kind.VIDEO),
    ("animation", MessageMedia.Kind.VIDEO),
    ("video_note", MessageMedia.Kind.VIDEO),
    ("voice", MessageMedia.Kind.VOICE),
    ("audio", MessageMedia.Kind.AUDIO),
    ("document", MessageMedia.Kind.DOCUMENT),
    ("sticker", MessageMedia.Kind.STICKER),
]


def telegram_media(message: dict) -> InboundMedia | None:
    """The file a Telegram message carries: its file_id (getFile fetches
    it), the size, name and seconds it declares. A photo comes in several
    sizes, smallest first: the largest is kept."""
    for field, kind in _TELEGRAM_MEDIA:
        value = message.get(field)
        if field == "photo":
            sizes = [size for size in value if isinstance(size, dict)] if isinstance(value, list) else []
            value = sizes[-1] if sizes else None
        if not isinstance(value, dict):
            continue
        file_id = value.get("file_id")
        if not isinstance(file_id, str) or not file_id or len(file_id) > 1000:
            return None
        return InboundMedia(
            kind=kind,
            source={"file_id": file_id},
            size=count_of(value.get("file_size")),
            file_name=safe_name(value.get("file_name"), 255),
            duration=count_of(value.get("duration")),
        )
    return None


def telegram_details(message: dict) -> dict | None:
    """What a location or venue (coordinates, title, address) or a shared
    contact (name and number, and those of its vCard) holds."""
    venue = as_dict(message.get("venue"))
    place = as_dict(venue.get("location")) if venue else as_dict(message.get("location"))
    if place:
        return location_details(place.get("latitude"), place.get("longitude"), name=venue.get("title"), address=venue.get("address"))
    contact = message.get("contact")
    if not isinstance(contact, dict):
        return None
    phones = [safe_name(contact.get("phone_number"), 40)] if isinstance(contact.get("phone_number"), str) else []
    phones += [phone for phone in vcard_phones(contact.get("vcard")) if phone not in phones]
    return contact_details([(telegram_name(contact), [phone for phone in phones if phone])])


def parse_telegram(payload) -> Event:
    """The message of a Telegram Update (see _telegram_messages)."""
    return Event(_telegram_messages(payload))


def _telegram_messages(payload) -> list[Inbound]:
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
    chat_id = _integer(as_dict(chat).get("id"))
    chat_type = as_dict(chat).get("type")
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
    sender = as_dict(message.get("from"))
    sender_id = _integer(sender.get("id"))
    is_group = chat_type != "private"
    sender_name = telegram_name(sender) if sender else safe_name(as_dict(message.get("sender_chat")).get("title"))
    sender_key = str(sender_id) if sender_id is not None else ""
    return [
        Inbound(
            external_id=f"{identity}:{message_id}"[:MAX_ID_LENGTH],
            chat_id=identity,
            chat_identity=identity,
            sender_id=sender_key,
            sender_name=sender_name,
            is_group=is_group,
            group_name=safe_name(chat.get("title")) if is_group else "",
            # The Bot API does not deliver the bot's own messages.
            from_me=False,
            kind=content[0],
            body=content[1],
            sent_at=timestamp_of(message.get("date")),
            media=telegram_media(message),
            details=telegram_details(message),
            edited=edited,
            # The Bot API sends edits by their author only; the stored
            # message's sender is checked all the same.
            editor_id=sender_key if edited else "",
        )
    ]


# The Bot API ---------------------------------------------------------------


def _sent_id(result) -> str:
    message_id = result.get("message_id") if isinstance(result, dict) else None
    if type(message_id) is not int:
        raise GatewayError(_("Telegram did not say which message it sent."))
    return str(message_id)


#: The Bot API method and its file field for each kind of file.
_SEND_METHODS = {
    MessageMedia.Kind.IMAGE: ("sendPhoto", "photo"),
    MessageMedia.Kind.VIDEO: ("sendVideo", "video"),
    MessageMedia.Kind.VOICE: ("sendVoice", "voice"),
    MessageMedia.Kind.AUDIO: ("sendAudio", "audio"),
    MessageMedia.Kind.DOCUMENT: ("sendDocument", "document"),
}
#: sendPhoto takes photos up to 10 MB; a larger one goes as a document.
MAX_PHOTO_BYTES = 10 * 1024 * 1024


class TelegramGateway(Gateway):
    """A Telegram bot through the Bot API (api.telegram.org, or a Bot API
    server of your own): https://<server>/bot<token>/<method>."""

    def __init__(self, channel: Channel):
        if not channel.bot_token:
            raise GatewayError(_("The channel's bot token is not configured."))
        super().__init__(channel.gateway_url or TELEGRAM_API)
        self.prefix = f"/bot{quote(channel.bot_token, safe=':')}"

    def _method(self, name: str, **fields):
        data = call(self.client, "POST", f"{self.prefix}/{name}", json=fields)
        if not isinstance(data, dict) or data.get("ok") is not True:
            detail = error_detail(data)
            raise GatewayError(_("Telegram refused the request.") + (f" ({detail})" if detail else ""))
        return data.get("result")

    def send_message(self, chat_id: str, text: str) -> str:
        """sendMessage; the message's id in that chat."""
        return _sent_id(self._method("sendMessage", chat_id=chat_id, text=text))

    def send_file(self, method: str, field: str, chat_id: str, *, file, file_name: str, content_type: str, caption: str) -> str:
        """sendPhoto, sendVideo, sendVoice, sendAudio or sendDocument: the
        file uploaded as `field` of a multipart form; the message's id in
        that chat."""
        data = {"chat_id": chat_id}
        if caption:
            data["caption"] = caption
        answer = call(self.client, "POST", f"{self.prefix}/{method}", data=data, files={field: (file_name, file, content_type)})
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            detail = error_detail(answer)
            raise GatewayError(_("Telegram refused the request.") + (f" ({detail})" if detail else ""))
        return _sent_id(answer.get("result"))

    def get_file(self, file_id: str) -> tuple[str, int | None]:
        """getFile: where the file can be downloaded (file_path), and its
        size. The Bot API serves files up to 20 MB; for larger ones it
        answers "file is too big"."""
        try:
            result = self._method("getFile", file_id=file_id)
        except GatewayError as error:
            text = str(error).lower()
            if "too big" in text:
                raise MediaTooLarge(_("The file is larger than the panel keeps.")) from None
            if "file_id" in text or "not found" in text:
                raise MediaGone(_("The gateway no longer has this file.")) from None
            raise
        path = as_dict(result).get("file_path")
        if not isinstance(path, str) or not path or len(path) > 1000:
            raise MediaGone(_("The gateway no longer has this file."))
        return path, count_of(as_dict(result).get("file_size"))

    def download_file(self, file_path: str, *, write, limit: int) -> None:
        """The file getFile pointed to: https://<server>/file/bot<token>/<file_path>."""
        download(self.client, "GET", f"/file{self.prefix}/{quote(file_path)}", write=write, limit=limit)

    def set_webhook(self, url: str, secret: str) -> None:
        """setWebhook: updates go to `url` with the secret in the
        X-Telegram-Bot-Api-Secret-Token header."""
        self._method("setWebhook", url=url, secret_token=secret, allowed_updates=["message", "edited_message"])


# The provider ---------------------------------------------------------------


class TelegramProvider(Provider):
    """A Telegram bot. The webhook secret is the secret_token given to
    setWebhook, which Telegram sends in a header with every update."""

    kind = Channel.Kind.TELEGRAM
    contact_field = "telegram_id"
    max_text_length = 4096
    max_caption_length = 1024
    secret_header = "X-Telegram-Bot-Api-Secret-Token"

    def clean(self) -> None:
        secret = self.channel.webhook_secret
        if secret and not TELEGRAM_SECRET.fullmatch(secret):
            raise ValidationError(
                {"webhook_secret": gettext_lazy("Telegram accepts 1 to 256 letters, digits, “_” and “-”.")}
            )

    @property
    def configured(self) -> bool:
        return bool(self.channel.bot_token)

    def parse(self, payload) -> Event:
        return parse_telegram(payload)

    def send(self, message: Message) -> str:
        media = attached_to(message)
        with TelegramGateway(self.channel) as gateway:
            if media is None:
                sent = gateway.send_message(message.chat_id, message.body)
            else:
                kind = media.kind
                if kind == MessageMedia.Kind.IMAGE and (media.size or 0) > MAX_PHOTO_BYTES:
                    kind = MessageMedia.Kind.DOCUMENT
                method, field = _SEND_METHODS[kind]
                with media.file.open("rb") as file:
                    sent = gateway.send_file(
                        method,
                        field,
                        message.chat_id,
                        file=file,
                        file_name=media.file_name,
                        content_type=media.content_type,
                        caption=message.body,
                    )
        # Message ids are counted per chat: the chat makes them unique.
        return f"{message.chat_identity}:{sent}"

    def register_webhook(self, url: str) -> None:
        with TelegramGateway(self.channel) as gateway:
            gateway.set_webhook(url, self.channel.webhook_secret)

    def fetch_media(self, source: dict, *, write, limit: int) -> None:
        file_id = source.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise MediaGone(_("The gateway no longer has this file."))
        with TelegramGateway(self.channel) as gateway:
            path, size = gateway.get_file(file_id)
            if size is not None and size > limit:
                raise MediaTooLarge(_("The file is larger than the panel keeps."))
            gateway.download_file(path, write=write, limit=limit)
