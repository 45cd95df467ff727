"""Reading an event's body (tickets.event_body): the "base64" values a
large event carries are emptied as its pieces stream by, wherever the
pieces are cut, and nothing else of the JSON text changes."""

import io
import json

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.event_body import (
    CHUNK_BYTES,
    MAX_BODY_BYTES,
    EventTooLarge,
    InlineFileDropper,
    event_body,
    largest_event_bytes,
    without_inline_files,
)

LOTS = 10**9


def dropped(body: bytes, *, keep: int = LOTS) -> bytes:
    return without_inline_files([body], keep=keep)


def every_split(body: bytes):
    """The body in two pieces cut at each position, and in pieces of one byte."""
    for cut in range(len(body) + 1):
        yield [body[:cut], body[cut:]]
    yield [body[n : n + 1] for n in range(len(body))]


def without_files(value):
    """What the event means once its files are set aside."""
    if isinstance(value, dict):
        return {key: "" if key == "base64" and isinstance(item, str) else without_files(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_files(item) for item in value]
    return value


EVENT = (
    b'{"event": "messages.upsert", "data": {"message": {"imageMessage": {"caption": "a \\"base64\\": \\"x\\" in words"},'
    b' "base64" \n:\t "/9j/4AAQ\\/Skm\\\\x\\"y\\u00e9=="}, "note": "base64", "list": ["base64", {"base64":"QUJD"}],'
    b' "base64": null, "other": "base64\\u0021"}, "apikey": "k"}'
)


def test_every_base64_value_is_emptied_and_nothing_else_changes():
    assert dropped(EVENT) == (
        b'{"event": "messages.upsert", "data": {"message": {"imageMessage": {"caption": "a \\"base64\\": \\"x\\" in words"},'
        b' "base64" \n:\t ""}, "note": "base64", "list": ["base64", {"base64":""}],'
        b' "base64": null, "other": "base64\\u0021"}, "apikey": "k"}'
    )


def test_the_same_body_cut_at_any_place_comes_out_the_same():
    whole = dropped(EVENT)
    for pieces in every_split(EVENT):
        assert without_inline_files(pieces, keep=LOTS) == whole, pieces


def test_the_body_cut_at_any_two_places_comes_out_the_same():
    body = b'{"x": "\\"", "base64" : "ab\\/c\\\\\\"d", "y": ["base64"]}'
    whole = dropped(body)
    assert json.loads(whole) == {"x": '"', "base64": "", "y": ["base64"]}
    for first in range(len(body) + 1):
        for second in range(first, len(body) + 1):
            assert without_inline_files([body[:first], body[first:second], body[second:]], keep=LOTS) == whole


def test_a_key_written_with_escapes_is_not_taken_for_base64():
    body = b'{"base\\u0036\\u0034": "QUJD"}'
    assert dropped(body) == body


def test_what_is_kept_is_held_to_its_limit_and_the_files_do_not_count():
    body = b'{"text": "' + b"x" * 100 + b'", "base64": "' + b"A" * 10_000 + b'"}'
    kept = b'{"text": "' + b"x" * 100 + b'", "base64": ""}'
    assert dropped(body, keep=len(kept)) == kept
    with pytest.raises(EventTooLarge):
        dropped(body, keep=len(kept) - 1)


def test_a_value_left_open_at_the_end_is_kept_as_unfinished_text():
    assert dropped(b'{"base64": "QUJD') == b'{"base64": "'
    assert dropped(b'{"base64": "QU\\') == b'{"base64": "'


def test_memory_holds_what_is_kept_never_the_file():
    dropper = InlineFileDropper(keep=MAX_BODY_BYTES)
    dropper.feed(b'{"caption": "nota", "base64": "')
    for _ in range(200):  # 12.8 MB of file
        dropper.feed(b"QUJD" * (CHUNK_BYTES // 4))
    dropper.feed(b'"}')
    assert dropper.kept() == b'{"caption": "nota", "base64": ""}'
    assert len(dropper.buffer) == len(dropper.kept())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(alphabet='ab/"\\é\n 😀:'),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["base64", "base", "base64 ", "a", "\\base64", 'x"base64']) | st.text(max_size=3), children, max_size=4),
    max_leaves=12,
)
files = st.text(alphabet="ABCxyz0189+/=\\\"", max_size=40)


@st.composite
def events(draw):
    """A JSON object with "base64" files here and there, written with or
    without spaces and indentation, "/" escaped as "\\/" or not."""
    value = draw(st.dictionaries(st.text(max_size=3), json_values, max_size=3))
    for path in draw(st.lists(st.integers(0, 5), max_size=3)):
        place = value
        for step in range(path):
            inner = [item for item in place.values() if isinstance(item, dict)]
            if not inner:
                break
            place = inner[step % len(inner)]
        place["base64"] = draw(files)
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (",", " : "), (",\n", " :\t")]))
    text = json.dumps(value, separators=separators, indent=draw(st.sampled_from([None, 1])), ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        text = text.replace("/", "\\/")  # "/" is only ever inside strings
    return value, text.encode()


@settings(max_examples=300, deadline=None)
@given(events())
def test_random_events_cut_at_every_place_lose_their_files_and_nothing_else(event):
    value, body = event
    whole = dropped(body)
    assert json.loads(whole) == without_files(value)
    for pieces in every_split(body):
        assert without_inline_files(pieces, keep=LOTS) == whole


# Reading the request -------------------------------------------------------------


class Request:
    """What event_body reads of a request: its headers, and its body as a
    stream (WSGI's input), or whole."""

    def __init__(self, body: bytes, *, declared: int | None = None):
        self.headers = {"Content-Length": str(len(body) if declared is None else declared)}
        self.stream = io.BytesIO(body)
        self.read_bytes = 0

    def read(self, size: int) -> bytes:
        chunk = self.stream.read(size)
        self.read_bytes += len(chunk)
        return chunk

    @property
    def body(self) -> bytes:
        return self.read(-1)


def test_a_body_within_the_event_limit_is_read_whole_with_its_file():
    body = b'{"base64": "' + b"A" * (MAX_BODY_BYTES - 20) + b'"}'
    assert event_body(Request(body)) == body


def test_a_larger_body_is_read_in_pieces_without_its_file():
    body = b'{"base64": "' + b"A" * (3 * MAX_BODY_BYTES) + b'"}'
    assert event_body(Request(body)) == b'{"base64": ""}'


def test_a_body_declared_over_the_largest_event_is_not_read_at_all():
    request = Request(b"{}", declared=largest_event_bytes() + 1)
    with pytest.raises(EventTooLarge):
        event_body(request)
    assert request.read_bytes == 0


@override_settings(MESSAGE_MEDIA_MAX_DOCUMENT_BYTES=300_000)
def test_a_body_that_never_ends_is_read_no_further_than_the_largest_event():
    class Endless(Request):
        def read(self, size: int) -> bytes:
            chunk = b"A" * size if self.read_bytes else b'{"base64": "'
            self.read_bytes += len(chunk)
            return chunk

    request = Endless(b"", declared=MAX_BODY_BYTES + 1)
    with pytest.raises(EventTooLarge):
        event_body(request)
    assert largest_event_bytes() < request.read_bytes <= largest_event_bytes() + CHUNK_BYTES
