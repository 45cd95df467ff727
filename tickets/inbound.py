"""What the channels deliver, read into one shape, whatever the provider.

Each provider (tickets.providers) reads its gateway's events into Inbound
messages, with the helpers here for what every provider's text needs:
names and bodies as they can be stored, timestamps in any writing. A body
that is not what the provider sends raises InvalidPayload. Nothing here
touches the database.
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from django.core.exceptions import ValidationError

from contacts.normalizers import clean_text, format_phone, normalize_phone

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
    # A location's place ({"location": {latitude, longitude, name,
    # address}}) or a contact card's people ({"contacts": [{name,
    # phones: [{phone, number}]}]}): see location_details, contact_details.
    details: dict | None = None

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
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        value = int(value)
    if type(value) is float and value == value and 0 <= value < 2**63:
        value = int(value)
    return value if type(value) is int and 0 <= value < 2**63 else None


def timestamp_of(value) -> datetime:
    """Seconds since the epoch (a number, a digit string, or a protobuf
    Long {"low", "high"}) as a datetime; now when missing or absurd."""
    if isinstance(value, dict) and type(value.get("low")) is int and type(value.get("high")) is int:
        value = (value["high"] << 32) | (value["low"] & 0xFFFFFFFF)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 16:
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


def location_details(latitude, longitude, *, name="", address="") -> dict | None:
    """A shared place as Message.details keeps it; None for coordinates
    that are not numbers on the globe."""
    if type(latitude) not in (int, float) or type(longitude) not in (int, float):
        return None
    if not (math.isfinite(latitude) and math.isfinite(longitude) and -90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {
        "location": {
            "latitude": round(latitude, 7),
            "longitude": round(longitude, 7),
            "name": safe_name(name),
            "address": safe_name(address, 300),
        }
    }


MAX_CARDS = 10
MAX_PHONES = 5
_WAID = re.compile(r"waid=([0-9]{6,20})", re.IGNORECASE)


def vcard_phones(vcard) -> list[str]:
    """The phone numbers of a vCard's TEL lines, as written ("+55 11
    98765-4321"); WhatsApp's own "waid" (the number in digits) when the
    line carries one."""
    if not isinstance(vcard, str):
        return []
    phones = []
    for line in vcard[:20000].replace("\r\n", "\n").split("\n"):
        key, separator, value = line.partition(":")
        if not separator or key.split(";")[0].rpartition(".")[2].strip().upper() != "TEL":
            continue
        waid = _WAID.search(key)
        phone = f"+{waid.group(1)}" if waid else safe_name(value, 40)
        if phone and phone not in phones:
            phones.append(phone)
        if len(phones) == MAX_PHONES:
            break
    return phones


def contact_details(cards: list[tuple]) -> dict | None:
    """Shared contact cards, each (name, [phone as written, ...]), as
    Message.details keeps them: every phone with its canonical number
    (Contact.number) when it is one the contacts accept, written as the
    panel writes numbers (else as the card wrote it)."""
    people = []
    for name, phones in cards[:MAX_CARDS]:
        entries = []
        for phone in phones[:MAX_PHONES]:
            try:
                number = normalize_phone(phone)
            except ValidationError:
                number = ""
            entries.append({"phone": format_phone(number) if number else safe_name(phone, 40), "number": number})
        if name or entries:
            people.append({"name": safe_name(name), "phones": entries})
    return {"contacts": people} if people else None
