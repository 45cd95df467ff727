"""Reading spreadsheets as Brazilian teams have them: .xlsx and .csv (UTF-8
with or without BOM, Windows-1252 or Excel's "Unicode text" in UTF-16;
";", "," or tab). The content decides what a file is, never its name.

Reading is defensive and streams: a file is checked before any parser sees
it (an archive by what its parts really unpack to, XML with a DOCTYPE, an
old .xls or a password-protected workbook by their signature), then read a
row at a time, so that what a request or a job holds is bounded by the
caps (IMPORT_MAX_ROWS, IMPORT_MAX_CELLS, IMPORT_MAX_UNPACKED_BYTES), never
by what the file says of itself. Every problem becomes a SpreadsheetError
with a message for the user.
"""

import codecs
import csv
import html
import io
import posixpath
import re
import struct
import zipfile
import zlib
from array import array
from itertools import accumulate, islice
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# How an encrypted (password-protected) .xlsx names its content inside the
# OLE container, in UTF-16.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Excel keeps at most this many characters in a cell; a part that holds
# more in one text is not a spreadsheet Excel wrote, and is cut there.
CELL_TEXT_LIMIT = 32_767
CHUNK = 64 * 1024  # bytes read (and XML parsed) at a time


class SpreadsheetError(Exception):
    """A file that cannot be read as a spreadsheet; the message says why and
    what to do, in the user's language."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list]]  # (row number in the file, cell values)
    kind: str  # "xlsx" or "csv"
    # Rows the reader could not take as they are, by number: the message
    # that rejects each (a formula without a stored result, a stray quote).
    # Filled as the rows are read, before each such row is handed out.
    row_errors: dict[int, str] = field(default_factory=dict)
    # The rows and columns with content, counted cheaply (see survey).
    outline: Callable[[], "Outline | None"] | None = None


def read_table(file) -> Table:
    """The first sheet (or the CSV) of an uploaded file: its header row and
    an iterator over the data rows that have anything in them."""
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if not head:
        raise SpreadsheetError(_("The file is empty."))
    if head.startswith(ZIP_SIGNATURE):
        return _read_xlsx(file)
    if head.startswith(OLE_SIGNATURE):
        # The signature is enough to refuse; the marker of an encrypted
        # workbook is looked for in the first megabytes only.
        content = file.read(4 * 1024 * 1024)
        if ENCRYPTED_PACKAGE in content:
            raise SpreadsheetError(
                _("The spreadsheet is protected by a password. Save a copy without the password and send it again.")
            )
        raise SpreadsheetError(
            _("This is an old Excel file (.xls). Open it in Excel and save it as .xlsx (Excel Workbook), then send it again.")
        )
    return _read_csv(file)


@dataclass
class Survey:
    """What the mapping step shows of a table, read through to its end (so a
    file over a cap is refused at the upload): the columns that hold data
    (a header or any value below it), their headers, the first rows."""

    columns: list[int]  # positions in the file's rows
    headers: list[str]  # of those columns
    sample: list[list[str]]  # the first data rows, those columns' cells as text
    rows: int  # data rows


def survey(table: Table, *, sample_rows: int = 3) -> Survey:
    used = {index for index, header in enumerate(table.headers) if header}
    sample, count = [], 0
    outline = table.outline() if table.outline else None
    if outline is not None:
        # The rows and columns counted from the sheet's cell references,
        # without parsing each cell; the first rows for the samples.
        if outline.rows - 1 > settings.IMPORT_MAX_ROWS:
            raise _too_many_rows()
        used |= outline.columns
        sample = [row for _, (_number, row) in zip(range(sample_rows), table.rows, strict=False)]
        count = outline.rows - 1
    else:
        for _number, row in table.rows:
            count += 1
            if count <= sample_rows:
                sample.append(row)
            for index, value in enumerate(row):
                if index not in used and not _blank(value):
                    used.add(index)
    limit = settings.IMPORT_MAX_COLUMNS
    if len(used) > limit:
        raise SpreadsheetError(
            _(
                "The sheet has %(count)s columns with data; an import takes at most %(limit)s. "
                "Delete the columns you do not need and send it again."
            )
            % {"count": _thousands(len(used)), "limit": _thousands(limit)}
        )
    columns = sorted(used)
    headers = [table.headers[index] if index < len(table.headers) else "" for index in columns]
    texts = [[cell_text(row[index]) if index < len(row) else "" for index in columns] for row in sample]
    return Survey(columns, headers, texts, count)


@dataclass
class Outline:
    columns: set[int]  # that have a cell with something in it
    rows: int  # that have such a cell


# A cell with content (not <c .../>), by its reference, whatever attribute
# comes first; and any cell with content, to know that all had one.
CONTENT_CELL = re.compile(rb"""<(?:[\w.-]+:)?c\b[^>]*?\sr\s*=\s*["']([A-Z]{1,3})([0-9]{1,7})["'][^>]*(?<!/)>""")
ANY_CONTENT_CELL = re.compile(rb"<(?:[\w.-]+:)?c\b[^>]*(?<!/)>")
MERGED_CELL = re.compile(rb"""<(?:[\w.-]+:)?mergeCell\b[^>]*?\sref\s*=\s*["'][A-Z]{1,3}([0-9]{1,7})""")


def _outline(archive: zipfile.ZipFile, sheet: str) -> Outline | None:
    """The sheet's rows and columns with content, from its cells' references
    in the XML as it is unpacked (no cell is parsed, nothing kept but the
    counts): a million rows are refused in seconds, a sheet as wide as
    Excel's grid costs a set of its columns, its extent is checked against
    IMPORT_MAX_CELLS whatever row the far cell is in, and merged cells
    (listed after the rows) are found. None when some cell has no
    reference (its place is then known only by parsing)."""
    letters: set[bytes] = set()
    rows = 0
    first_row = last_row = None
    previous: set[int] = set()
    carry = b""
    row_limit = settings.IMPORT_MAX_ROWS + 1  # and the header
    with archive.open(sheet) as part:
        while True:
            chunk = part.read(1024 * 1024)
            data = carry + chunk
            end = data.rfind(b">") + 1 if chunk else len(data)
            data, carry = data[:end], data[end:]
            if b"mergeCell" in data and (merged := MERGED_CELL.search(data)):
                raise _merged(merged.group(1).decode())
            found = CONTENT_CELL.findall(data)
            if len(found) != len(ANY_CONTENT_CELL.findall(data)):
                return None
            if found:
                letters.update(map(itemgetter(0), found))
                numbers = {int(number) for number in set(map(itemgetter(1), found))}
                rows += len(numbers - previous)
                previous = numbers
                low, high = min(numbers), max(numbers)
                first_row = low if first_row is None else min(first_row, low)
                last_row = high if last_row is None else max(last_row, high)
                if rows > row_limit:
                    raise _too_many_rows()
            if not chunk:
                break
    columns = {_column_index(text.decode()) for text in letters}
    if columns and (max(columns) + 1) * (last_row - first_row + 1) > settings.IMPORT_MAX_CELLS:
        _refuse_extent(last_row - first_row + 1, max(columns) + 1)
    return Outline(columns, rows)


def _merged(row: str) -> SpreadsheetError:
    return SpreadsheetError(
        _("The spreadsheet has merged cells (row %(row)d). Unmerge them, keep one value per cell and send it again.")
        % {"row": int(row) if row.isdigit() else 1}
    )


def _too_many_rows() -> SpreadsheetError:
    limit = settings.IMPORT_MAX_ROWS
    return SpreadsheetError(
        ngettext(
            "The file has more than %(limit)d row of data; split it into smaller files.",
            "The file has more than %(limit)d rows of data; split it into smaller files.",
            limit,
        )
        % {"limit": limit}
    )


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _damaged() -> SpreadsheetError:
    return SpreadsheetError(_("The file is damaged or incomplete: it is not a spreadsheet that can be read."))


def _too_large() -> SpreadsheetError:
    return SpreadsheetError(_("The spreadsheet unpacks to more data than is accepted; split it into smaller files."))


def _refuse_doctype(*args) -> None:
    # Entity definitions live in a DOCTYPE: no spreadsheet has one.
    raise SpreadsheetError(_("The spreadsheet contains something that is not accepted (a document type definition)."))


# .xlsx


def _read_xlsx(file) -> Table:
    try:
        archive = zipfile.ZipFile(file)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _damaged() from None
    try:
        _check_archive(file, members)
        book = _Book(archive)
        rows = book.sheet_rows()
        headers = _header(rows)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, expat.ExpatError, zlib.error, KeyError):
        raise _damaged() from None
    return Table(headers, _bounded(_read_errors(rows)), "xlsx", book.row_errors, outline=lambda: _outline_or_damaged(archive, book.sheet))


def _outline_or_damaged(archive, sheet):
    try:
        return _outline(archive, sheet)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, zlib.error):
        raise _damaged() from None


def _read_errors(rows):
    """A part found broken as the rows are read says so, like one found
    broken before."""
    try:
        yield from rows
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, expat.ExpatError, zlib.error, KeyError):
        raise _damaged() from None


LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _check_archive(file, members: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive that unpacks to more than IMPORT_MAX_UNPACKED_BYTES,
    counting what each part really unpacks to (its headers may understate
    it: a reader that follows the data, not the headers, would get the
    rest), or whose local and central headers disagree, or with a part
    that starts with a DOCTYPE (the parser refuses one anywhere); before
    any XML is parsed."""
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    if len(members) > 5000 or sum(member.file_size for member in members) > limit:
        raise _too_large()
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError(_("The file is not an Excel spreadsheet (.xlsx) nor a CSV list."))
    room = limit
    for member in members:
        size, prolog = _unpack(file, member, room)
        room -= size
        if member.filename.endswith((".xml", ".rels")) and (b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog):
            _refuse_doctype()


def _unpack(file, member: zipfile.ZipInfo, room: int) -> tuple[int, bytes]:
    """What a part really unpacks to, decompressed in pieces and given up as
    soon as it is more than `room`; and its first bytes."""
    file.seek(member.header_offset)
    header = file.read(LOCAL_HEADER.size)
    if len(header) != LOCAL_HEADER.size:
        raise _damaged()
    signature, _version, flags, method, _time, _date, crc, compressed, size, name_length, extra_length = LOCAL_HEADER.unpack(header)
    if signature != ZIP_SIGNATURE or flags & 1 or method != member.compress_type or name_length != len(member.orig_filename.encode("utf-8" if flags & 0x800 else "cp437")):
        raise _damaged()
    if not flags & 0x08:  # sizes in the local header, not in a descriptor after the data
        declared = [(crc, member.CRC)] + [(local, central) for local, central in ((compressed, member.compress_size), (size, member.file_size)) if local != 0xFFFFFFFF]
        if any(local != central for local, central in declared):
            raise _damaged()
    file.seek(member.header_offset + LOCAL_HEADER.size + name_length + extra_length)
    if method == zipfile.ZIP_STORED:
        if member.compress_size != member.file_size:
            raise _damaged()
        if member.file_size > room:
            raise _too_large()
        return member.file_size, file.read(min(member.file_size, 4096))
    if method != zipfile.ZIP_DEFLATED:
        raise _damaged()  # Excel deflates; other methods are for other programs
    # The deflate stream is followed to its own end, whatever the headers
    # say its compressed size is.
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    produced, prolog = 0, b""
    while not decompressor.eof:
        data = decompressor.unconsumed_tail or file.read(CHUNK)
        if not data:
            break
        out = decompressor.decompress(data, CHUNK)
        produced += len(out)
        if produced > room:
            raise _too_large()
        if len(prolog) < 4096:
            prolog += out[: 4096 - len(prolog)]
    if not decompressor.eof or produced != member.file_size:
        raise _damaged()
    return produced, prolog


MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
RELATIONSHIPS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships", "http://purl.oclc.org/ooxml/officeDocument/relationships")
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
SEP = " "  # between an element's namespace and its name, as expat reports them (neither has a space)


def _names(*local: str) -> dict[str, str]:
    """An element of SpreadsheetML by its full name (in either namespace)
    -> its local name."""
    return {f"{namespace}{SEP}{name}": name for namespace in MAIN for name in local}


def _parser(*, namespaces: bool = True) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=SEP) if namespaces else expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    return parser


def _parse(archive: zipfile.ZipFile, name: str, parser: expat.XMLParserType) -> None:
    with archive.open(name) as part:
        while chunk := part.read(CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


# Number formats that show a number as a date or a time: Excel's built-in
# ones by id, a custom one by its letters (outside quoted text, [colours]
# and escaped characters).
DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
DATE_CODES = re.compile(r"[dmyhsDMYHS]")


def _is_date_format(code: str) -> bool:
    return bool(DATE_CODES.search(FORMAT_LITERALS.sub("", code)))


class _Book:
    """An .xlsx's first sheet as the workbook names it (xl/workbook.xml and
    its relationships, not a file name), its shared strings, which styles
    show a date, and its rows, read as they are parsed."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.row_errors: dict[int, str] = {}
        self.date1904 = False
        first_sheet_id = self._read_workbook()
        targets = self._read_relationships()
        self.sheet = targets.get(("worksheet", first_sheet_id)) if first_sheet_id else None
        if self.sheet is None or self.sheet not in archive.NameToInfo:
            raise SpreadsheetError(_("The spreadsheet has no sheet to read."))
        styles = next((name for (kind, _id), name in targets.items() if kind == "styles"), None)
        strings = next((name for (kind, _id), name in targets.items() if kind == "sharedStrings"), None)
        self.date_styles = self._read_styles(styles) if styles in archive.NameToInfo else frozenset()
        self.strings = _SharedStrings(archive, strings) if strings in archive.NameToInfo else _SharedStrings(None, None)

    def _read_workbook(self) -> str | None:
        found = {}
        sheet_names, properties = _names("sheet"), _names("workbookPr")

        def start(name, attributes):
            if name in sheet_names and "sheet" not in found:
                found["sheet"] = next((value for key, value in attributes.items() if key in {f"{ns}{SEP}id" for ns in RELATIONSHIPS}), None)
            elif name in properties:
                self.date1904 = attributes.get("date1904", "").lower() in ("1", "true")

        parser = _parser()
        parser.StartElementHandler = start
        _parse(self.archive, "xl/workbook.xml", parser)
        return found.get("sheet")

    def _read_relationships(self) -> dict[tuple[str, str], str]:
        """(kind, id) -> the part's name in the archive."""
        targets = {}
        relationship = f"{PACKAGE_RELATIONSHIPS}{SEP}Relationship"

        def start(name, attributes):
            if name == relationship and attributes.get("TargetMode") != "External":
                target = attributes.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
                targets[(attributes.get("Type", "").rsplit("/", 1)[-1], attributes.get("Id", ""))] = path

        if "xl/_rels/workbook.xml.rels" in self.archive.NameToInfo:
            parser = _parser()
            parser.StartElementHandler = start
            _parse(self.archive, "xl/_rels/workbook.xml.rels", parser)
        return targets

    def _read_styles(self, name: str) -> frozenset[int]:
        """The indexes of the cell styles that show a date."""
        custom, styles, inside = {}, [], []
        formats, cell_formats, xf = _names("numFmt"), _names("cellXfs"), _names("xf")

        def start(element, attributes):
            if element in formats:
                custom[attributes.get("numFmtId", "")] = attributes.get("formatCode", "")
            elif element in cell_formats:
                inside.append(True)
            elif element in xf and inside:
                styles.append(attributes.get("numFmtId", "0"))

        def end(element):
            if element in cell_formats:
                inside.clear()

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        _parse(self.archive, name, parser)
        dates = set()
        for index, format_id in enumerate(styles):
            code = custom.get(format_id)
            if (code is not None and _is_date_format(code)) or (code is None and format_id.isdigit() and int(format_id) in DATE_FORMAT_IDS):
                dates.add(index)
        return frozenset(dates)

    def sheet_rows(self) -> Iterator[tuple[int, list]]:
        """The sheet's rows as (number, cells from column A), as the XML is
        parsed: what is held is a piece of the file and the rows it made."""
        ready: list[tuple[int, list]] = []
        parser = _parser(namespaces=False)
        reader = _SheetReader(self, ready)
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = reader.start, reader.end, reader.text
        with self.archive.open(self.sheet) as part:
            while True:
                chunk = part.read(CHUNK)
                parser.Parse(chunk, not chunk)
                if ready:
                    yield from ready
                    ready.clear()
                if not chunk:
                    break


class _SharedStrings:
    """The workbook's table of strings, kept as one buffer of UTF-8 and the
    offsets into it: four million strings weigh their text and four bytes
    each, not a Python object each."""

    def __init__(self, archive: zipfile.ZipFile | None, name: str | None):
        self._text = bytearray()
        self._offsets = array("I", [0])
        if archive is None:
            return
        if not self._read_plain(archive, name):
            self._text = bytearray()
            self._offsets = array("I", [0])
            self._read_any(archive, name)

    def _read_plain(self, archive: zipfile.ZipFile, name: str) -> bool:
        """The table as most programs write it, one <si><t>text</t></si>
        after another, taken a piece at a time by a pattern (a parser's call
        per element made four million strings cost half a minute), while
        a parser without handlers checks that the part is well-formed XML.
        False, having kept nothing, at the first string written otherwise
        (rich text, a prefix, a comment): then every string is parsed."""
        validator = _parser()
        carry = b""
        with archive.open(name) as part:
            while True:
                chunk = part.read(1024 * 1024)
                validator.Parse(chunk, not chunk)
                data = carry + chunk
                end = data.rfind(b"</si>") + 5 if chunk else len(data)
                if end < 5:
                    end = 0
                piece, carry = data[:end], data[end:]
                if piece:
                    items = PLAIN_STRING.findall(piece)
                    if len(items) != piece.count(b"<si") or b":si" in piece:
                        return False
                    if b"&" in piece or b"_x" in piece or (items and max(map(len, items)) > CELL_TEXT_LIMIT):
                        items = [_plain_text(item) for item in items]
                    self._offsets.extend(islice(accumulate(map(len, items), initial=len(self._text)), 1, None))
                    self._text += b"".join(items)
                if not chunk:
                    return True

    def _read_any(self, archive: zipfile.ZipFile, name: str) -> None:
        pieces: list[str] = []
        state = {"in": 0, "phonetic": 0, "length": 0}
        item, text, phonetic = _names("si"), _names("t"), _names("rPh")

        def start(element, attributes):
            if element in text:
                state["in"] += 1
            elif element in phonetic:
                state["phonetic"] += 1

        def end(element):
            if element in text:
                state["in"] -= 1
            elif element in phonetic:
                state["phonetic"] -= 1
            elif element in item:
                self._text += _unescape("".join(pieces)).encode()
                self._offsets.append(len(self._text))
                pieces.clear()
                state["length"] = 0

        def characters(data):
            if state["in"] and not state["phonetic"] and state["length"] < CELL_TEXT_LIMIT:
                pieces.append(data[: CELL_TEXT_LIMIT - state["length"]])
                state["length"] += len(data)

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        _parse(archive, name, parser)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> str:
        return self._text[self._offsets[index] : self._offsets[index + 1]].decode()


COLUMN_LETTERS = re.compile(r"([A-Z]{1,3})")
PLAIN_STRING = re.compile(rb'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>')


def _plain_text(item: bytes) -> bytes:
    """A string of the table as its XML has it: its references (&amp;,
    &#10;) and OOXML's escapes resolved, cut at a cell's limit."""
    text = item.decode()
    if "&" in text:
        text = html.unescape(text)
    return _cell_string(text.replace("\r\n", "\n")).encode()
# How OOXML writes a character XML cannot hold ("_x0007_"; "_x005F_" is "_").
ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    return ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text) if "_x" in text else text


class _SheetReader:
    """expat's handlers for a worksheet (`start`, `text`, `end`): each <row>
    becomes (number, cells), a list from column A to the row's last value,
    put in `ready`. The sheet's extent (its rows from first to last, and its
    widest row) is checked against IMPORT_MAX_CELLS row by row, so a row as
    wide as the file says is made only within the budget. The handlers run
    millions of times for a large sheet: a cell's start and end are read in
    the handler itself, not in a helper, and the frequent names come first."""

    def __init__(self, book: _Book, ready: list):
        self.strings, self.date_styles, self.date1904, self.row_errors = book.strings, book.date_styles, book.date1904, book.row_errors
        self.ready = ready
        self.max_cells = settings.IMPORT_MAX_CELLS
        # The names as the sheet writes them, compared directly (expat
        # interns them); the parser leaves namespaces to us here (a tenth of
        # its time): the prefix the root gives SpreadsheetML's namespace
        # ("" or "x:") is found at the root.
        self.cell_tag = self.value_tag = self.text_tag = self.inline_tag = self.row_tag = None
        self.others: dict[str, str] = {}
        self.columns: dict[str, int] = {}
        self.number = 0
        self.row = None  # the cells of the row being read
        self.column = -1
        self.cell_type, self.style, self.formula = "n", None, False
        self.reading = 0  # the text being read: 1 the cell's <v>, 2 its inline string's <t>
        self.stored = None  # the text of the cell's <v>
        self.inline = None  # of its inline string
        self.phonetic = 0
        self.first_row = self.last_row = None
        self.width = 0

    def start(self, name, attributes):
        if name == self.cell_tag:
            reference = attributes.get("r")
            if reference:
                letters = reference.rstrip("0123456789")
                column = self.columns.get(letters)
                if column is None:
                    column = self.columns[letters] = _column_index(letters)
                self.column = column
            else:
                self.column += 1  # cells without a reference follow one another
            self.cell_type = attributes.get("t", "n")
            self.style = attributes.get("s")
            self.formula = False
            self.stored = self.inline = None
        elif name == self.value_tag:
            self.reading, self.stored = 1, ""
        elif name == self.text_tag:
            if self.inline is not None and not self.phonetic:
                self.reading = 2
        elif name == self.inline_tag:
            self.inline = ""
        elif name == self.row_tag:
            reference = attributes.get("r")
            self.number = int(reference) if reference and reference.isdigit() else self.number + 1
            self.row = []
            self.column = -1
        elif self.cell_tag is None:
            self._start_root(name, attributes)
        else:
            self._start_other(name, attributes)

    def _start_root(self, name, attributes):
        prefix = name[: -len("worksheet")] if name.endswith("worksheet") else None
        if prefix is None or attributes.get("xmlns:" + prefix[:-1] if prefix else "xmlns") not in MAIN:
            raise ValueError("not a worksheet")
        self.cell_tag, self.value_tag, self.text_tag, self.inline_tag, self.row_tag = (prefix + local for local in ("c", "v", "t", "is", "row"))
        self.others = {prefix + local: local for local in ("f", "rPh", "mergeCell")}

    def _start_other(self, name, attributes):
        kind = self.others.get(name)
        if kind == "f":
            self.formula = True
        elif kind == "rPh":
            self.phonetic += 1
        elif kind == "mergeCell":  # after the rows, which were read already
            raise _merged(attributes.get("ref", "").split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))

    def text(self, data):
        # A text comes in pieces of at most expat's buffer; one longer than
        # a cell can be stops growing.
        reading = self.reading
        if reading == 1:
            stored = self.stored
            if not stored:
                self.stored = data
            elif len(stored) < CELL_TEXT_LIMIT:
                self.stored = stored + data
        elif reading == 2:
            inline = self.inline
            if not inline:
                self.inline = data
            elif len(inline) < CELL_TEXT_LIMIT:
                self.inline = inline + data

    def end(self, name):
        if name == self.cell_tag:
            row = self.row
            if row is None:
                return
            value = self._cell_value()
            if value is None or value == "":
                return
            if self.column == len(row):
                row.append(value)
            else:
                _put(row, self.column, value)
        elif name == self.value_tag or name == self.text_tag:
            self.reading = 0
        elif name == self.inline_tag:
            pass
        elif name == self.row_tag:
            if self.row is not None:
                self._end_row()
        elif self.others.get(name) == "rPh":
            self.phonetic -= 1

    def _cell_value(self):
        """The value of the cell just read; None when it has no stored value
        (none, or <v/>), which for a formula means its result was never
        calculated: its row is refused."""
        inline = self.inline
        if inline is not None:
            self.inline = None
            if "_x" in inline or len(inline) > CELL_TEXT_LIMIT:
                return _cell_string(inline)
            return inline
        stored = self.stored
        if not stored:
            if self.formula:
                self.row_errors[self.number] = _("A cell has a formula without a calculated value; open the file in Excel, save it and send it again.")
            return None
        cell_type = self.cell_type
        if cell_type == "n":
            value = float(stored)
            style, date_styles = self.style, self.date_styles
            if style is not None and date_styles and int(style) in date_styles:
                return _excel_date(value, self.date1904)
            return value
        if cell_type == "s":
            return self.strings[int(stored)]
        return _typed_value(cell_type, stored)

    def _end_row(self):
        number = self.number
        if self.first_row is None or number < self.first_row:
            self.first_row = number
        if self.last_row is None or number > self.last_row:
            self.last_row = number
        if len(self.row) > self.width:
            self.width = len(self.row)
        height = self.last_row - self.first_row + 1
        if self.width * height > self.max_cells:
            _refuse_extent(height, self.width)
        self.ready.append((number, self.row))
        self.row = None


def _put(row: list, column: int, value) -> None:
    """A value in its column, the columns before it filled with None when
    the row is shorter (cells with nothing in them are not written)."""
    if column > len(row):
        row.extend([None] * (column - len(row)))
        row.append(value)
    else:
        row[column] = value


def _cell_string(text: str) -> str:
    if len(text) > CELL_TEXT_LIMIT:
        text = text[:CELL_TEXT_LIMIT]
    return _unescape(text) if "_x" in text else text


def _typed_value(cell_type: str, text: str):
    if cell_type == "b":
        return text.strip() in ("1", "true")
    if cell_type == "str":
        return _cell_string(text)
    if cell_type == "d":
        try:
            return datetime.fromisoformat(text.strip())
        except ValueError:
            return text
    return text  # an error ("#N/A") as the sheet shows it


def _refuse_extent(height: int, width: int):
    raise SpreadsheetError(
        _(
            "The sheet spreads over %(rows)s rows and %(columns)s columns, more than can be read. "
            "Delete the cells far from the data (press Ctrl+End in Excel to find the last one), "
            "or split the file, and send it again."
        )
        % {"rows": _thousands(height), "columns": _thousands(width)}
    )


def _column_index(letters: str) -> int:
    if not COLUMN_LETTERS.fullmatch(letters):
        raise ValueError("not a cell reference")
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


EPOCH_1900 = datetime(1899, 12, 30)
EPOCH_1904 = datetime(1904, 1, 1)


def _excel_date(serial: float, date1904: bool):
    """A number in a cell formatted as a date: the date (or date and time)
    Excel shows. Serials before 1 March 1900 count Excel's 29 February 1900,
    which never was."""
    if not 0 <= serial <= 2_958_465:
        return serial
    if date1904:
        moment = EPOCH_1904 + timedelta(days=serial)
    else:
        moment = EPOCH_1900 + timedelta(days=serial + (1 if serial < 60 else 0))
    moment = moment.replace(microsecond=0) if moment.microsecond < 500_000 else (moment + timedelta(seconds=1)).replace(microsecond=0)
    return moment.date() if moment.time() == datetime.min.time() else moment


# .csv


# A quoted cell may hold line breaks; one that goes on for more lines than
# this is a stray quote swallowing the rows after it.
MAX_RECORD_LINES = 20


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
        yield from lines
        if not chunk:
            return


class _LongRecord(Exception):
    pass


class _Lines:
    """The lines csv reads, remembering those of the record being read (to
    read them again when it was a stray quote) and refusing to let one
    record run on for more than MAX_RECORD_LINES."""

    def __init__(self, lines: Iterator[str]):
        self.lines = lines
        self.again: list[str] = []  # to be read again, last first
        self.taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.again.pop() if self.again else next(self.lines)
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
    source = _Lines(lines)
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


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header(rows) -> list[str]:
    for _number, row in rows:
        if any(not _blank(cell) for cell in row):
            headers = [cell_text(cell) for cell in row]
            while headers and not headers[-1]:
                headers.pop()
            return headers
    raise SpreadsheetError(_("The file has no header row: the first line must name the columns (Nome, Número, …)."))


def _bounded(rows) -> Iterator[tuple[int, list]]:
    """Data rows with anything in them, at most IMPORT_MAX_ROWS; a million
    blank rows cost a loop, not memory."""
    limit = settings.IMPORT_MAX_ROWS
    count = 0
    for number, row in rows:
        if all(_blank(cell) for cell in row):
            continue
        count += 1
        if count > limit:
            raise _too_many_rows()
        yield number, row


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def cell_text(value) -> str:
    """A cell as text: numbers without a spurious ".0" (Excel keeps phones
    and CPFs as floats), dates as dd/mm/yyyy, control characters removed,
    spaces trimmed."""
    if type(value) is str:  # most cells: checked first
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "1" if value else "0"
    elif isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return repr(value)
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, (datetime, date)):
        return value.strftime("%d/%m/%Y")
    else:
        text = str(value)
    if not (text.isascii() and text.isprintable()):
        text = text.translate(_CONTROL)
    elif "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # already clean: the same string, not a copy of it
    return " ".join(text.split())


# What a spreadsheet reads as a formula when a cell starts with it; the
# export escapes such a CSV cell with an apostrophe (exporting.csv_text).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unescape_csv_text(text: str) -> str:
    """A CSV cell as it was before the export escaped it (exporting.csv_text,
    whose exact inverse this is): ="text" with its quotes doubled, or a
    leading apostrophe before a formula's start or another apostrophe.
    ="0012", the way people keep a CSV's leading zeros, reads as 0012 too."""
    if text[:1] not in ("=", "'"):
        return text  # nearly every cell
    if text.startswith('="') and text.endswith('"') and len(text) > 2:
        inner = text[2:-1]
        if '"' not in inner.replace('""', ""):  # one constant, nothing after it
            return inner.replace('""', '"')
    elif text.startswith("'") and text[1:].startswith((*FORMULA_START, "'")):
        return text[1:]
    return text
