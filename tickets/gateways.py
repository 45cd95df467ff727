"""Talking to the channels' gateways over HTTP: what every provider
(tickets.providers) shares. httpx with timeouts, no redirects, answers read
up to a limit.

Every failure (nothing listening, a timeout, an error status, an answer
that is not the documented JSON, an answer too big) is a GatewayError whose
text says what happened in words a person can act on. The bot token is part
of Telegram's URLs, so no message here ever repeats a URL or an exception's
own text.
"""

import json
from typing import Any

import httpx
from django.utils.translation import gettext as _

from .inbound import safe_name

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
MAX_ANSWER_BYTES = 1024 * 1024


class GatewayError(Exception):
    """The gateway could not do what was asked; str() says why, for people."""


class Gateway:
    """A gateway's HTTP client for the length of a `with` block."""

    def __init__(self, base_url: str):
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": "Contacts Portal"},
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()


def error_detail(data) -> str:
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
        detail = error_detail(data)
        raise GatewayError(
            _("The gateway refused the request: check the API key or token.") + (f" ({detail})" if detail else "")
        )
    if response.status_code >= 300:
        detail = error_detail(data)
        raise GatewayError(
            _("The gateway answered with error %(status)s.") % {"status": response.status_code}
            + (f" ({detail})" if detail else "")
        )
    if data is None:
        raise GatewayError(_("The gateway answered something that is not JSON."))
    return data
