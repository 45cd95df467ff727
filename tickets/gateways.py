"""Talking back to the channels: Evolution API for WhatsApp, the Bot API for
Telegram, over httpx with timeouts.

Every failure (nothing listening, a timeout, an error status, an answer
that is not the documented JSON, an answer too big) is a GatewayError whose
text says what happened in words a person can act on. The bot token is part
of Telegram's URLs, so no message here ever repeats a URL or an exception's
own text.
"""

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _

from .inbound import safe_name
from .models import Channel

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Chat and contact lists of a busy number run to tens of megabytes.
MAX_LIST_BYTES = 64 * 1024 * 1024
MAX_ANSWER_BYTES = 1024 * 1024
PAGE_SIZE = 1000
MAX_PAGES = 500
TELEGRAM_API = "https://api.telegram.org"


class GatewayError(Exception):
    """The gateway could not do what was asked; str() says why, for people."""


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": "Contacts Portal"},
    )


def _error_detail(data) -> str:
    """What an error answer says, when it says something readable:
    Evolution's {"response": {"message": [...]}}, Telegram's
    {"description": "..."}."""
    if not isinstance(data, dict):
        return ""
    response = data.get("response")
    nested = response.get("message") if isinstance(response, dict) else None
    for candidate in (data.get("description"), nested, data.get("message"), data.get("error")):
        if isinstance(candidate, list):
            candidate = "; ".join(str(item) for item in candidate if isinstance(item, (str, int)))
        if isinstance(candidate, str) and candidate.strip():
            return safe_name(candidate, 300)
    return ""


def call(client: httpx.Client, method: str, path: str, *, limit: int = MAX_ANSWER_BYTES, **kwargs) -> Any:
    """The JSON answer of one request, or GatewayError."""
    try:
        with client.stream(method, path, **kwargs) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise GatewayError(_("The gateway sent a larger answer than expected; it was not read."))
    except httpx.TimeoutException:
        raise GatewayError(_("The gateway did not answer in time.")) from None
    except httpx.HTTPError as error:
        raise GatewayError(
            _("The gateway could not be reached (%(reason)s).") % {"reason": type(error).__name__}
        ) from None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if response.status_code in (401, 403):
        detail = _error_detail(data)
        raise GatewayError(
            _("The gateway refused the request: check the API key or token.") + (f" ({detail})" if detail else "")
        )
    if response.status_code >= 300:
        detail = _error_detail(data)
        raise GatewayError(
            _("The gateway answered with error %(status)s.") % {"status": response.status_code}
            + (f" ({detail})" if detail else "")
        )
    if data is None:
        raise GatewayError(_("The gateway answered something that is not JSON."))
    return data


def _objects(data) -> list[dict]:
    """A list of JSON objects, as the documented list endpoints answer."""
    if isinstance(data, dict):
        # Some releases wrap lists: {"chats": [...]} / {"contacts": [...]}.
        data = next((value for value in data.values() if isinstance(value, list)), None)
    if not isinstance(data, list):
        raise GatewayError(_("The gateway answered with something else than a list."))
    return [item for item in data if isinstance(item, dict)]


class EvolutionGateway:
    """A WhatsApp number through an Evolution API (v2) instance: the
    `apikey` header, the instance in the path."""

    def __init__(self, channel: Channel):
        if not (channel.gateway_url and channel.instance and channel.api_key):
            raise GatewayError(_("The channel's gateway is not configured (URL, instance and API key)."))
        self.instance = quote(channel.instance, safe="")
        self.client = _client(channel.gateway_url)
        self.client.headers["apikey"] = channel.api_key

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()

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
        message_id = data.get("key", {}).get("id") if isinstance(data, dict) and isinstance(data.get("key"), dict) else None
        if not isinstance(message_id, str) or not message_id or len(message_id) > 128:
            raise GatewayError(_("The gateway did not say which message it sent."))
        return message_id

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
                    "events": ["MESSAGES_UPSERT", "MESSAGES_EDITED", "SEND_MESSAGE"],
                }
            },
        )


class TelegramGateway:
    """A Telegram bot through the Bot API (api.telegram.org, or a Bot API
    server of your own): https://<server>/bot<token>/<method>."""

    def __init__(self, channel: Channel):
        if not channel.bot_token:
            raise GatewayError(_("The channel's bot token is not configured."))
        self.client = _client(channel.gateway_url or TELEGRAM_API)
        self.prefix = f"/bot{quote(channel.bot_token, safe=':')}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()

    def _method(self, name: str, **fields):
        data = call(self.client, "POST", f"{self.prefix}/{name}", json=fields)
        if not isinstance(data, dict) or data.get("ok") is not True:
            detail = _error_detail(data)
            raise GatewayError(_("Telegram refused the request.") + (f" ({detail})" if detail else ""))
        return data.get("result")

    def send_message(self, chat_id: str, text: str) -> str:
        """sendMessage; the message's id in that chat."""
        result = self._method("sendMessage", chat_id=chat_id, text=text)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if type(message_id) is not int:
            raise GatewayError(_("Telegram did not say which message it sent."))
        return str(message_id)

    def set_webhook(self, url: str, secret: str) -> None:
        """setWebhook: updates go to `url` with the secret in the
        X-Telegram-Bot-Api-Secret-Token header."""
        self._method("setWebhook", url=url, secret_token=secret, allowed_updates=["message", "edited_message"])


def gateway_for(channel: Channel) -> EvolutionGateway | TelegramGateway:
    if channel.kind == Channel.Kind.WHATSAPP:
        return EvolutionGateway(channel)
    return TelegramGateway(channel)
