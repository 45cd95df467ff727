"""One provider per kind of channel (healthchecks' Channel.transport): code
asks `channel.provider` what to do, it never tests `channel.kind`.

base.Provider is the interface; evolution.EvolutionProvider serves WhatsApp
through Evolution API, telegram.TelegramProvider a Telegram bot. A new kind
is a Channel.Kind choice, a Provider subclass and a line in PROVIDERS.
"""

from ..models import Channel
from .base import Chat, Provider
from .evolution import EvolutionProvider
from .telegram import TelegramProvider

PROVIDERS: dict[str, type[Provider]] = {provider.kind: provider for provider in (EvolutionProvider, TelegramProvider)}

__all__ = ["PROVIDERS", "Chat", "Provider", "chat_listing_kinds", "contact_fields", "provider_for"]


def provider_for(channel: Channel) -> Provider:
    """The channel's provider; use `channel.provider`, built once."""
    return PROVIDERS[channel.kind](channel)


def contact_fields() -> dict[str, str]:
    """Channel kind -> the Contact field that holds a chat's identity on it."""
    return {kind: provider.contact_field for kind, provider in PROVIDERS.items()}


def chat_listing_kinds() -> list[str]:
    """The kinds of channel whose gateway can list its chats."""
    return [kind for kind, provider in PROVIDERS.items() if provider.lists_chats]
