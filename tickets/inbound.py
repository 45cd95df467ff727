"""What the channels deliver, read into one shape, whatever the provider.

Each provider (tickets.providers) reads its gateway's events into Inbound
messages, with the helpers here for what every provider's text needs:
names and bodies as they can be stored, timestamps in any writing. A body
that is not what the provider sends raises InvalidPayload. Nothing here
touches the database.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from contacts.normalizers import clean_text

MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 200


class InvalidPayload(ValueError):
    """The body is not an event the provider sends."""


@dataclass(frozen=True)
class InboundMedia:
    """The file a delivered message carries, as the event describes it: a
    MessageMedia.Kind, what the provider needs to fetch it (`source`), and
    what the sender declared of it (size in bytes, file name, seconds)."""

    kind: str
    source: dict
    size: int | None = None
    file_name: str = ""
    duration: int | None = None


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
    # An edit replaces the text of the stored message external_id names
    # when it comes from that message's own sender (Message.allows_edit):
    # the editor's address (as sender_id is written), or us; or, when the
    # event says only which 1:1 chat the editor addressed (WhatsApp's
    # messages.edited), that chat: the editor is its other person.
    edited: bool = False
    editor_id: str = ""
    edit_from_me: bool = False
    editor_addressed: str = ""
    # WhatsApp: the LID ("<digits>", without "@lid") of the person a
    # private chat is with, when the gateway sent it; chat_identity is then
    # the number sent beside it, or blank when none was.
    chat_lid: str = ""
    # The photo, voice note, video, document or sticker the message carries
    # (fetched later: tickets.media).
    media: InboundMedia | None = None

    @property
    def edit_only(self) -> bool:
        """An edit that cannot be stored as a message of its own when its
        original never arrived: it names neither its chat nor its sender."""
        return bool(self.editor_addressed)


@dataclass(frozen=True)
class Event:
    """What one delivered event holds: the messages to store, and the
    (WhatsApp LID, phone number) pairs it reveals besides a private chat's
    own (a group participant's, a contact list's)."""

    messages: list[Inbound] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    # Where the pairs were seen (ContactIdentity.Seen): in messages, or in
    # the gateway's contact and chat lists.
    seen: str = "message"


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


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def count_of(value) -> int | None:
    """A non-negative count (a size in bytes, seconds) as a number, a digit
    string or a protobuf Long {"low", "high"}; None when it is none."""
    if isinstance(value, dict) and type(value.get("low")) is int and type(value.get("high")) is int:
        value = (value["high"] << 32) | (value["low"] & 0xFFFFFFFF)
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        value = int(value)
    if type(value) is float and value == value and 0 <= value < 2**63:
        value = int(value)
    return value if type(value) is int and 0 <= value < 2**63 else None


def timestamp_of(value) -> datetime:
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
