"""The body of a gateway's event, read so that a file carried inside it
never costs the message around it.

Evolution API with "webhook base64" on puts each media message's whole file
in its event, in base64 (data.message.base64): a 2 MB photo makes a 2.7 MB
event, nearly all of it that one string, and refusing the event would lose
the message (its text, its caption, its ticket) with it. The file is not
needed there: the media job fetches it from the gateway, as for any event
without it.

So a body within MAX_BODY_BYTES is read whole, as it comes: its inline file
is used, and reading it in pieces would only cost the busiest address of
the site time (a 2 KB event took 72 µs to read through the filter and
parse, against 18 µs read whole). A larger body is read in pieces, and the
value of every "base64" key is dropped as it streams by (left as an empty
string, which the providers take for no file); what is kept is held to
MAX_BODY_BYTES like any event, and no more than largest_event_bytes() is
ever read, so memory holds the message, never the file, whatever its size.
"""

import re
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

# A WhatsApp text of the longest kind (65,536 characters) with its envelope
# fits several times.
MAX_BODY_BYTES = 512 * 1024

#: How much of a larger body is read at a time.
CHUNK_BYTES = 64 * 1024


class EventTooLarge(Exception):
    """More than an event may hold, besides the files it carries."""


def largest_event_bytes() -> int:
    """The most a body may send: the largest file the panel keeps (a
    document) in base64 (4 characters for 3 bytes), and its envelope. An
    event with a larger file inside is refused, message and all: a line is
    needed so that a body that never ends cannot hold a worker for ever,
    and this one lets through every file the panel would keep."""
    return settings.MESSAGE_MEDIA_MAX_DOCUMENT_BYTES * 4 // 3 + MAX_BODY_BYTES


def event_body(request, *, sender_known: bool = True) -> bytes:
    """The event's body as JSON text, with the "base64" values of a body
    over MAX_BODY_BYTES emptied. EventTooLarge for a body declared or read
    over largest_event_bytes(), or whose kept part is over MAX_BODY_BYTES.
    A sender not known yet (whose secret is in the body, read after it) is
    held to MAX_BODY_BYTES, files and all: anybody who finds the address
    could otherwise make the server read and sift a hundred megabytes a
    request.

    DATA_UPLOAD_MAX_MEMORY_SIZE (1 MB) does not stand in the way: Django
    applies it to request.body, read here only for a body within
    MAX_BODY_BYTES, and the upload middleware leaves the webhook alone
    (checks_its_own_body; its handler does not even run it)."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    largest = largest_event_bytes() if sender_known else MAX_BODY_BYTES
    if declared > largest:
        raise EventTooLarge
    if declared <= MAX_BODY_BYTES:
        try:
            body = request.body
        except RequestDataTooBig:
            raise EventTooLarge from None
        if len(body) > MAX_BODY_BYTES:
            raise EventTooLarge
        return body
    return without_inline_files(_pieces(request, limit=largest), keep=MAX_BODY_BYTES)


def _pieces(request, *, limit: int) -> Iterator[bytes]:
    read = 0
    while chunk := request.read(CHUNK_BYTES):
        read += len(chunk)
        if read > limit:
            raise EventTooLarge
        yield chunk


def without_inline_files(chunks: Iterable[bytes], *, keep: int) -> bytes:
    """The JSON text `chunks` make, with every "base64" key's string value
    emptied; EventTooLarge as soon as what is kept passes `keep` bytes."""
    dropper = InlineFileDropper(keep=keep)
    for chunk in chunks:
        dropper.feed(chunk)
    return dropper.kept()


# What a JSON string holds up to its closing quote: anything but a quote or
# a backslash, and escapes (a backslash and the character after it). It
# stops at the closing quote, or at a backslash that ends the chunk.
_STRING_CONTENT = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_WHITESPACE = re.compile(rb"[ \t\r\n]*")


class InlineFileDropper:
    """Empties the string value of every "base64" key of a JSON text fed in
    pieces cut anywhere (inside the key, the value or an escape), keeping
    the rest byte for byte. It tells strings from the rest as JSON does, so
    a text that merely mentions "base64" is kept; whitespace may surround
    the colon, and the value's escapes ("\\/" for "/") are skipped over with
    it. A key written with escapes ("base\\u0036\\u0034") is not recognised:
    no gateway writes one, and its file is then kept, counted like the rest.
    A text that is not JSON comes out as some other text that is not JSON
    either; json.loads says so."""

    TEXT, STRING, AFTER_KEY, AFTER_COLON, FILE = range(5)

    def __init__(self, *, keep: int):
        self.keep = keep
        # One buffer, not a list of pieces: a body of many short strings
        # would make an object of each.
        self.buffer = bytearray()
        self.state = self.TEXT
        # The chunk before ended inside a string, just after a backslash.
        self.escaped = False
        # The string being read, while it can still be "base64".
        self.name: bytes | None = b""

    def kept(self) -> bytes:
        return bytes(self.buffer)

    def feed(self, chunk: bytes) -> None:
        at, end = 0, len(chunk)
        while at < end:
            if self.state == self.TEXT:
                quote = chunk.find(b'"', at)
                if quote < 0:
                    self._keep(chunk[at:])
                    return
                self._keep(chunk[at : quote + 1])
                at, self.state, self.name = quote + 1, self.STRING, b""
            elif self.state in (self.STRING, self.FILE):
                at = self._string(chunk, at)
            else:
                space = _WHITESPACE.match(chunk, at).end()
                self._keep(chunk[at:space])
                if space == end:
                    return
                at = space
                expected = b":" if self.state == self.AFTER_KEY else b'"'
                if chunk[at : at + 1] != expected:
                    self.state = self.TEXT  # a string "base64" that is no key
                    continue
                self._keep(expected)
                at += 1
                self.state = self.AFTER_COLON if self.state == self.AFTER_KEY else self.FILE

    def _string(self, chunk: bytes, at: int) -> int:
        """Reads the string (STRING) or the file (FILE) from chunk[at:];
        where to go on from."""
        start = at
        if self.escaped:  # the escaped character left for this chunk
            at, self.escaped = at + 1, False
        stop = _STRING_CONTENT.match(chunk, at).end()
        closes = stop < len(chunk) and chunk[stop] == ord('"')
        if not closes and stop < len(chunk):  # a backslash, the chunk's last byte
            stop, self.escaped = len(chunk), True
        if self.state == self.STRING:
            self._keep(chunk[start : stop + 1] if closes else chunk[start:stop])
            if self.name is not None:
                self.name = self.name + chunk[start:stop] if len(self.name) + stop - start <= len(b"base64") else None
        if not closes:
            return stop
        if self.state == self.FILE:
            self._keep(b'"')
            self.state = self.TEXT
        else:
            self.state = self.AFTER_KEY if self.name == b"base64" else self.TEXT
        return stop + 1

    def _keep(self, piece: bytes) -> None:
        if len(self.buffer) + len(piece) > self.keep:
            raise EventTooLarge
        self.buffer += piece
