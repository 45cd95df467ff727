"""Talking to the channels' gateways over HTTP: what every provider
(tickets.providers) shares. httpx with timeouts, no redirects, answers read
up to a limit.

Every failure (nothing listening, a timeout, an error status, an answer
that is not the documented JSON, an answer too big) is a GatewayError whose
text says what happened in words a person can act on. The bot token is part
of Telegram's URLs, so no message here ever repeats a URL or an exception's
own text.
"""

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
from django.utils.translation import gettext as _

from .inbound import safe_name

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
MAX_ANSWER_BYTES = 1024 * 1024


class GatewayError(Exception):
    """The gateway could not do what was asked; str() says why, for people."""


class MediaTooLarge(GatewayError):
    """The file is larger than the panel keeps (tickets.media.cap)."""


class MediaGone(GatewayError):
    """The gateway no longer has the file (WhatsApp keeps media for a while only)."""


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


#: Error answers of a download are read this far, for what they say.
MAX_ERROR_BYTES = 64 * 1024


def download(client: httpx.Client, method: str, path: str, *, write, limit: int, **kwargs) -> None:
    """Stream the answer's body into `write` (called with each chunk) as it
    arrives; MediaTooLarge as soon as it declares or sends more than
    `limit` bytes (nothing beyond is read), MediaGone for 404 and 410,
    GatewayError for any other failure, as call() words it."""
    try:
        with client.stream(method, path, **kwargs) as response:
            if response.status_code >= 300:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ERROR_BYTES:
                        break
                try:
                    data = json.loads(body)
                except ValueError:
                    data = None
                detail = error_detail(data)
                suffix = f" ({detail})" if detail else ""
                if response.status_code in (404, 410):
                    raise MediaGone(_("The gateway no longer has this file.") + suffix)
                if response.status_code in (401, 403):
                    raise GatewayError(_("The gateway refused the request: check the API key or token.") + suffix)
                raise GatewayError(
                    _("The gateway answered with error %(status)s.") % {"status": response.status_code} + suffix
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > limit:
                raise MediaTooLarge(_("The file is larger than the panel keeps."))
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > limit:
                    raise MediaTooLarge(_("The file is larger than the panel keeps."))
                write(chunk)
    except httpx.TimeoutException:
        raise GatewayError(_("The gateway did not answer in time.")) from None
    except httpx.HTTPError as error:
        raise GatewayError(
            _("The gateway could not be reached (%(reason)s).") % {"reason": type(error).__name__}
        ) from None


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


class Base64Value:
    """Decodes, as a gateway's JSON answer streams in, the string value of
    its "base64" key (Evolution API's getBase64FromMediaMessage) into
    `write`, never holding more than a chunk: a file is checked against
    `limit` while it is decoded, not after. feed() each chunk, then
    finish(); GatewayError when there is no such value or it is not
    base64, MediaTooLarge beyond `limit` decoded bytes. A whole value
    (the webhook's own "base64" field) is fed as one chunk with
    `bare=True`."""

    KEY = re.compile(rb'"base64"\s*:\s*"')

    def __init__(self, *, write, limit: int, bare: bool = False):
        self.write, self.limit = write, limit
        self.state = "value" if bare else "seek"
        self.bare = bare
        self.seen = b""
        self.pending = b""
        self.written = 0

    def feed(self, chunk: bytes) -> None:
        if self.state == "seek":
            self.seen += chunk
            found = self.KEY.search(self.seen)
            if found is None:
                self.seen = self.seen[-32:]  # the key may be cut between two chunks
                return
            chunk, self.seen, self.state = self.seen[found.end() :], b"", "value"
        if self.state != "value":
            return
        end = -1 if self.bare else chunk.find(b'"')
        part = chunk if end < 0 else chunk[:end]
        # JSON may escape "/" as "\/"; base64 holds no other escapes.
        # Line breaks and spaces are not part of the value either.
        self.pending += part.replace(b"\\", b"").translate(None, b" \r\n\t")
        usable = len(self.pending) // 4 * 4
        if usable:
            self._decode(self.pending[:usable])
            self.pending = self.pending[usable:]
        if end >= 0:
            self.state = "done"

    def finish(self) -> None:
        if self.bare and self.state == "value":
            self.state = "done"
        if self.state != "done":
            raise GatewayError(_("The gateway's answer did not hold the file."))
        if self.pending:
            self._decode(self.pending + b"=" * (-len(self.pending) % 4))
            self.pending = b""

    def _decode(self, data: bytes) -> None:
        try:
            decoded = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise GatewayError(_("The gateway's answer did not hold the file.")) from None
        self.written += len(decoded)
        if self.written > self.limit:
            raise MediaTooLarge(_("The file is larger than the panel keeps."))
        self.write(decoded)


#: How much of a file is read at a time to stream it out in base64: a
#: multiple of 3, so that no piece but the last is padded.
BASE64_READ = 3 * 64 * 1024


def json_with_base64(fields: dict, *, key: str, file, size: int) -> tuple[Iterator[bytes], int]:
    """A JSON object of `fields` plus `key`, whose value is the `size`
    bytes of `file` in base64 (Evolution API's "media"), as pieces to
    stream out and its length in bytes: a 100 MB document never sits in
    memory as 133 MB of text."""
    head = json.dumps({**fields, key: ""}, ensure_ascii=True).encode()
    # The empty value's closing quote and brace come after the file.
    head, tail = head[:-2], head[-2:]
    length = len(head) + (size + 2) // 3 * 4 + len(tail)

    def pieces() -> Iterator[bytes]:
        yield head
        while chunk := file.read(BASE64_READ):
            yield base64.b64encode(chunk)
        yield tail

    return pieces(), length
