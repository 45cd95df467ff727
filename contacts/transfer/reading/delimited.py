"""CSV lists as Brazilian teams save them: UTF-8 with or without BOM,
Windows-1252 or UTF-16; ";", "," or tab; a stray quote costs its own line."""

import codecs
import csv
import io
from collections.abc import Iterator

from django.conf import settings
from django.utils.translation import gettext as _

from .tables import CHUNK, MAX_COLUMNS, SpreadsheetError, Table, _bounded, _header, _thousands


# A quoted cell may hold line breaks; one that goes on for more lines than
# this is a stray quote swallowing the rows after it.
MAX_RECORD_LINES = 20
# A line longer than this is not a list of contacts (its cells could hold
# Excel's most, 32,767 characters, in hundreds of columns): it is refused
# before it is held whole, as a line of a 50 MB file would be.
MAX_LINE_CHARACTERS = 16 * 1024 * 1024


def _read_csv(file) -> Table:
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    if size > settings.IMPORT_MAX_UNPACKED_BYTES:
        raise SpreadsheetError(_("The list is larger than is accepted; split it into smaller files."))
    head = file.read(CHUNK)
    file.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text"
    elif b"\x00" in head:
        raise SpreadsheetError(_("The file is not an Excel spreadsheet (.xlsx) nor a CSV list."))
    elif _is_utf8(file):
        encoding = "utf-8-sig"
    else:
        encoding = "cp1252"  # what Excel on Windows saves as "CSV" in Brazil
    lines = _text_lines(file, encoding)
    skipped = []
    for line in lines:
        skipped.append(line)
        if line.strip():
            break
    else:
        raise SpreadsheetError(_("The file is empty."))
    first_line = skipped[-1].strip("\r\n")
    delimiter = max((";", ",", "\t"), key=lambda d: (first_line.count(d), d == ";"))
    if delimiter not in first_line and not _looks_like_text(first_line):
        raise SpreadsheetError(_("The file is not an Excel spreadsheet (.xlsx) nor a CSV list."))
    row_errors: dict[int, str] = {}
    rows = _csv_records(_chain(skipped, lines), delimiter, row_errors)
    try:
        headers = _header(rows)
    except csv.Error:
        raise SpreadsheetError(_("The CSV list could not be read: check its quotes and separators.")) from None
    return Table(headers, _bounded(_csv_errors(rows)), "csv", row_errors)


def _chain(first: list, rest: Iterator[str]) -> Iterator[str]:
    yield from first
    first.clear()
    yield from rest


def _is_utf8(file) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := file.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True


def _text_lines(file, encoding: str) -> Iterator[str]:
    """The file's lines, decoded a piece at a time, each with its line end
    ("\\r\\n", "\\n" or "\\r") as csv wants them."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carry = ""
    while True:
        chunk = file.read(1024 * 1024)
        text = carry + decoder.decode(chunk, final=not chunk)
        lines = io.StringIO(text, newline="").readlines()
        # The last line may go on in the next piece ("\r" may be half of "\r\n").
        carry = lines.pop() if chunk and lines and (lines[-1][-1] not in "\r\n" or lines[-1].endswith("\r")) else ""
        if len(carry) > MAX_LINE_CHARACTERS:
            raise SpreadsheetError(_("A line of the list is longer than can be read; check that the file is a CSV list of contacts."))
        yield from lines
        if not chunk:
            return


class _LongRecord(Exception):
    pass


class _Lines:
    """The lines csv reads, remembering those of the record being read (to
    read them again when it was a stray quote), refusing to let one
    record run on for more than MAX_RECORD_LINES, and refusing a line of
    more cells than a spreadsheet has columns before csv makes a list of
    them (a header of millions of empty cells)."""

    def __init__(self, lines: Iterator[str], delimiter: str):
        self.lines = lines
        self.delimiter = delimiter
        self.again: list[str] = []  # to be read again, last first
        self.taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.again.pop() if self.again else next(self.lines)
        if line.count(self.delimiter) >= MAX_COLUMNS:
            raise SpreadsheetError(
                _("A line of the list has more than %(limit)s cells, more than a spreadsheet has columns. Delete the empty columns and send it again.")
                % {"limit": _thousands(MAX_COLUMNS)}
            )
        self.taken.append(line)
        if len(self.taken) > MAX_RECORD_LINES:
            raise _LongRecord
        return line


def _csv_records(lines: Iterator[str], delimiter: str, row_errors: dict) -> Iterator[tuple[int, list]]:
    """The records of a CSV, numbered; a quote that opens a cell and never
    closes it well (the record runs on across lines into an error, or too
    far, or into more cells than the header has) costs its own line, which
    comes out rejected with the line quoted, and the lines after it are read
    again on their own."""
    source = _Lines(lines, delimiter)
    reader = csv.reader(source, delimiter=delimiter, strict=True)
    width = None
    number = 0
    while True:
        source.taken = []
        try:
            record = next(reader)
            stray = len(source.taken) > 1 and width is not None and len(record) > width
        except StopIteration:
            return
        except (csv.Error, _LongRecord):
            if not source.taken:
                raise
            stray = len(source.taken) > 1 or source.taken[0].count('"') % 2 == 1
            record = None
        if stray or record is None:
            line = source.taken[0]
            source.again.extend(reversed(source.taken[1:]))
            reader = csv.reader(source, delimiter=delimiter, strict=True)
            record = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
        number += 1
        if stray:
            text = " ".join(line.split())
            row_errors[number] = _(
                "The line opens a quote (\") that does not close: “%(line)s”. Remove the quote or close it, and import the line again."
            ) % {"line": text if len(text) <= 80 else text[:80] + "…"}
        if width is None and any(cell.strip() for cell in record):
            width = len(record)
        yield number, record


def _looks_like_text(line: str) -> bool:
    printable = sum(1 for ch in line if ch.isprintable() or ch in "\t\r")
    return bool(line) and printable / len(line) > 0.95


def _csv_errors(rows):
    try:
        yield from rows
    except csv.Error:
        raise SpreadsheetError(_("The CSV list could not be read: check its quotes and separators.")) from None
