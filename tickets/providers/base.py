"""The interface every kind of channel implements.

A Provider is built for one channel (`channel.provider`) and answers for
its kind: how its gateway's events are authenticated and read, how a reply
goes out, how the gateway is told where to send its events, which contact
field addresses a chat on it. Gateway calls raise GatewayError.
"""

import hmac
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

if TYPE_CHECKING:
    from contacts.models import Contact

    from ..inbound import Event
    from ..models import Channel, Message, MessageMedia


def same_secret(given, expected: str) -> bool:
    """Whether `given` is the channel's secret, compared in constant time."""
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


class Chat(NamedTuple):
    """A chat a gateway knows: its identity (as `Provider.contact_field`
    stores it; blank when the panel cannot address it), the best name the
    gateway gives it, and on WhatsApp its LID, when it has one. A pair
    only (`pair_only`) is a LID and its number from the gateway's contact
    list: to remember, not a chat that talked with us."""

    identity: str
    name: str
    lid: str = ""
    pair_only: bool = False


def attached_to(message: "Message") -> "MessageMedia | None":
    """The stored file a reply carries (tickets.media.media_attach), None
    for a text."""
    if message.kind == message.Kind.TEXT:
        return None
    media = getattr(message, "media", None)  # a missing one raises an AttributeError
    return media if media is not None and media.is_stored else None


class Provider(ABC):
    """What one kind of channel does, for one channel."""

    # Channel.Kind: the registry (tickets.providers) is keyed by it.
    kind: ClassVar[str]
    # The Contact field that holds a chat's identity on this kind of channel
    # (Message.chat_identity), also the ContactIdentity.kind of its earlier
    # addresses.
    contact_field: ClassVar[str]
    # The longest text message the provider accepts.
    max_text_length: ClassVar[int]
    # The longest caption a file may go out with.
    max_caption_length: ClassVar[int]
    # Whether an audio or a voice note may go out with a caption.
    captions_audio: ClassVar[bool] = True
    # The request header the gateway sends the channel's webhook secret in.
    secret_header: ClassVar[str]
    # Whether the gateway may send the secret in the event's body instead of
    # the header: then a request without the header is read before it is
    # judged, else it is refused at once.
    secret_in_body: ClassVar[bool] = False
    # Whether the gateway can list the chats it knows (list_chats), which
    # "Sincronizar" adds to the stored message history.
    lists_chats: ClassVar[bool] = False

    def __init__(self, channel: "Channel"):
        self.channel = channel

    # Settings ---------------------------------------------------------------

    def clean(self) -> None:
        """Raise ValidationError (by field) for settings this kind of
        channel cannot work with."""

    @property
    @abstractmethod
    def configured(self) -> bool:
        """Whether the gateway settings are filled in: replies can go out."""

    # Addresses --------------------------------------------------------------

    def identity_of(self, contact: "Contact") -> str:
        """The contact's identity on this channel, as Message.chat_identity
        stores it; blank when the channel cannot reach the contact."""
        return getattr(contact, self.contact_field)

    def chat_id_of(self, contact: "Contact") -> str:
        """Where a reply to the contact goes when it never wrote on this
        channel (Message.chat_id)."""
        return self.identity_of(contact)

    # Events the gateway posts -----------------------------------------------

    def authenticated_by_headers(self, headers: Mapping[str, str]) -> bool:
        return same_secret(headers.get(self.secret_header), self.channel.webhook_secret)

    def authenticated_by_body(self, payload: Any) -> bool:
        """Whether the event (parsed JSON) carries the channel's secret;
        asked only when secret_in_body."""
        return False

    @abstractmethod
    def parse(self, payload: Any) -> "Event":
        """What one event (parsed JSON) holds worth keeping: its messages,
        the addresses it reveals; an empty Event for other events;
        InvalidPayload for a body the provider does not send."""

    # Calls to the gateway ---------------------------------------------------

    @abstractmethod
    def send(self, message: "Message") -> str:
        """Send a stored reply (its chat_id and body, and the file it
        carries: attached_to(message)); the provider's id for it, as
        Message.external_id stores it. GatewayError when it was not sent;
        OSError when its file could not be read from the storage."""

    @abstractmethod
    def register_webhook(self, url: str) -> None:
        """Tell the gateway to post the channel's events to `url`, with the
        channel's webhook secret."""

    @abstractmethod
    def fetch_media(self, source: dict, *, write, limit: int) -> None:
        """Fetch the file of a received message (MessageMedia.source, as
        parse() described it) from the gateway, passing its bytes to
        `write` as they arrive. MediaTooLarge beyond `limit` bytes (before
        more is read), MediaGone when the gateway no longer has it,
        GatewayError for any other failure (worth trying again)."""

    def list_chats(self, *, groups: bool) -> Iterator[Chat]:
        """The private chats (or the groups) the gateway knows; only when
        lists_chats."""
        raise NotImplementedError
