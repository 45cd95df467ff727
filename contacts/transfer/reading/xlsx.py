"""An .xlsx's first sheet read as a stream: its workbook, styles and
shared strings, then its rows a piece of the sheet at a time (by patterns
where they are written the plain way, else as expat parses them)."""

import html
import os
import posixpath
import re
import tempfile
import weakref
import zipfile
from array import array
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate, islice
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

from .archive import _refuse_doctype
from .tables import CELL_TEXT_LIMIT, CHUNK, MAX_COLUMNS, SpreadsheetError, _thousands


def _merged(row: str) -> SpreadsheetError:
    return SpreadsheetError(
        _("The spreadsheet has merged cells (row %(row)d). Unmerge them, keep one value per cell and send it again.")
        % {"row": int(row) if row.isascii() and row.isdigit() else 1}
    )


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
        # The program that wrote the file calculated nothing and asks the
        # next one to (openpyxl, XlsxWriter): a formula's stored result
        # is not one.
        self.calculates_on_load = False
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
        sheet_names, properties, calculation = _names("sheet"), _names("workbookPr"), _names("calcPr")

        def start(name, attributes):
            if name in sheet_names and "sheet" not in found:
                found["sheet"] = next((value for key, value in attributes.items() if key in {f"{ns}{SEP}id" for ns in RELATIONSHIPS}), None)
            elif name in properties:
                self.date1904 = attributes.get("date1904", "").lower() in ("1", "true")
            elif name in calculation:
                self.calculates_on_load = attributes.get("fullCalcOnLoad", "").lower() in ("1", "true")

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
            if (code is not None and _is_date_format(code)) or (code is None and format_id.isascii() and format_id.isdigit() and int(format_id) in DATE_FORMAT_IDS):
                dates.add(index)
        return frozenset(dates)

    def sheet_rows(self) -> Iterator[tuple[int, list]]:
        """The sheet's rows as (number, cells from column A), as the XML is
        parsed: what is held is a piece of the file and the rows it made."""
        ready: list[tuple[int, list]] = []
        parser = _parser(namespaces=False)
        reader = _SheetReader(self, ready)
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = reader.start, reader.end, reader.text
        plain = _PlainRows(reader, parser)
        with self.archive.open(self.sheet) as part:
            while True:
                chunk = part.read(CHUNK)
                plain.feed(chunk)
                if ready:
                    yield from ready
                    ready.clear()
                if not chunk:
                    break


class _SharedStrings:
    """The workbook's table of strings, kept as one buffer of UTF-8 and the
    offsets into it: four million strings weigh their text and four bytes
    each, not a Python object each.

    The table may unpack to as much as IMPORT_MAX_UNPACKED_BYTES: its text
    beyond IN_MEMORY bytes goes to a temporary file, and a string there is
    read back when a cell names it, so that memory stays within the
    budget whatever the table holds. More strings than a sheet may have
    cells (IMPORT_MAX_CELLS) cannot all be used, and their offsets alone
    would outgrow it: such a table is refused."""

    IN_MEMORY = 32 * 1024 * 1024

    def __init__(self, archive: zipfile.ZipFile | None, name: str | None):
        self._limit = settings.IMPORT_MAX_CELLS
        self._reset()
        if archive is None:
            return
        if not self._read_plain(archive, name):
            self._reset()
            self._read_any(archive, name)
        if self._spilled is not None:
            self._spilled.flush()

    def _reset(self) -> None:
        if getattr(self, "_spilled", None) is not None:
            self._spilled.close()
        self._text = bytearray()
        self._offsets = array("I", [0])
        self._spilled = None  # the temporary file of the text past _text
        self._size = 0  # of the whole text

    def _add(self, texts: list[bytes]) -> None:
        """Strings of the table, in its order, as UTF-8."""
        self._offsets.extend(islice(accumulate(map(len, texts), initial=self._size), 1, None))
        if len(self._offsets) - 1 > self._limit:
            raise SpreadsheetError(
                _("The spreadsheet holds more than %(limit)s different texts, more than can be read. Split the file and send it again.")
                % {"limit": _thousands(self._limit)}
            )
        data = b"".join(texts)
        self._size += len(data)
        if self._spilled is None and len(self._text) + len(data) <= self.IN_MEMORY:
            self._text += data
            return
        if self._spilled is None:
            self._spilled = tempfile.TemporaryFile()
            # Closed with the table (a reading left half-way is let go of,
            # not closed by its reader).
            weakref.finalize(self, self._spilled.close)
        self._spilled.write(data)

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
                    self._add(items)
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
                self._add([_unescape("".join(pieces)).encode()])
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
        # A cell may name any number: one outside the table (or negative,
        # which Python would count from the end) is a damaged file.
        if not 0 <= index < len(self._offsets) - 1:
            raise ValueError("no such shared string")
        start, end = self._offsets[index], self._offsets[index + 1]
        text = self._text
        if end <= len(text):
            return text[start:end].decode()
        return os.pread(self._spilled.fileno(), end - start, start - len(text)).decode()


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
        self.calculates_on_load = book.calculates_on_load
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
        self.sheet_data = 0  # inside <sheetData>

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
                # Cells without a reference follow one another, each one
                # more column: a row of millions of them would be built
                # before its end is checked.
                self.column += 1
                if self.column >= MAX_COLUMNS:
                    self._refuse_width(self.column + 1)
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
            self.number = int(reference) if reference and reference.isascii() and reference.isdigit() else self.number + 1
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
        self.others = {prefix + local: local for local in ("f", "rPh", "mergeCell", "sheetData")}

    def _start_other(self, name, attributes):
        kind = self.others.get(name)
        if kind == "f":
            self.formula = True
        elif kind == "rPh":
            self.phonetic += 1
        elif kind == "mergeCell":  # after the rows, which were read already
            raise _merged(attributes.get("ref", "").split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        elif kind == "sheetData":
            self.sheet_data += 1

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
            inline, self.inline = self.inline, None
            value = self._cell_value(inline, self.stored, self.cell_type, self.style, self.formula)
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
        elif (kind := self.others.get(name)) == "rPh":
            self.phonetic -= 1
        elif kind == "sheetData":
            self.sheet_data -= 1

    def _cell_value(self, inline, stored, cell_type, style, formula):
        """The value of a cell (its inline string, or the text of its <v>,
        its type and style); None when it has no stored value (none, or
        <v/>), which for a formula means its result was never calculated:
        its row is refused."""
        if inline is not None:
            if "_x" in inline or len(inline) > CELL_TEXT_LIMIT:
                return _cell_string(inline)
            return inline
        if not stored:
            # Excel and LibreOffice store a formula whose result is an
            # empty text ('=SE(A2="";"";A2)') as an empty <v> of type
            # "str": the cell is empty. No <v>, or an empty one of another
            # type or in a workbook whose results were never calculated,
            # is a formula without its result.
            if formula and (stored is None or cell_type != "str" or self.calculates_on_load):
                self.row_errors[self.number] = _("A cell has a formula without a calculated value; open the file in Excel, save it and send it again.")
            return None
        if cell_type == "n":
            value = float(stored)
            date_styles = self.date_styles
            if style is not None and date_styles and int(style) in date_styles:
                return _excel_date(value, self.date1904)
            return value
        if cell_type == "s":
            return self.strings[int(stored)]
        return _typed_value(cell_type, stored)

    def plain_row(self, number: int, cells: str | None) -> None:
        """The row `number` whose cells, all written the plain way
        (PLAIN_CELL), are `cells`: read here, with the parser's rules for
        each value."""
        row = []
        columns = self.columns
        for letters, style, cell_type, stored, inline in PLAIN_CELL.findall(cells or ""):
            column = columns.get(letters)
            if column is None:
                column = columns[letters] = _column_index(letters)
            # findall gives "" for a part not there: a cell's <is> or <v>, its type, its style.
            value = self._cell_value(inline or None, stored, cell_type or "n", style or None, False)
            if value is None or value == "":
                continue
            if column == len(row):
                row.append(value)
            else:
                _put(row, column, value)
        self.number, self.row = number, row
        self._end_row()

    def _refuse_width(self, width: int):
        height = 1 if self.first_row is None else max(self.last_row, self.number) - min(self.first_row, self.number) + 1
        _refuse_extent(height, width)

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


class _PlainRows:
    """The sheet's rows written the plain way, as most programs write
    them (`<row r="2"><c r="A2" t="s"><v>7</v></c>…</row>`: cells with
    their reference, no formula, no rich text, texts without references),
    read by patterns, a row at a time: expat's call into Python per
    element and per text was most of the reading's time (see
    benchmarks/README.md). Everything else goes to the parser as it comes:
    the part before <sheetData>, any row written otherwise, and, from the
    first thing there that is not a row on, the rest of the sheet. The
    parser's handlers (`reader`) read the rows whichever way they came.
    The patterns take only well-formed XML, so what the parser does not
    see it would have accepted."""

    # Kept waiting for its row's end at most this long; a longer row (a
    # very wide one), and all after it, go to the parser.
    LIMIT = 4 * CHUNK

    def __init__(self, reader: _SheetReader, parser: expat.XMLParserType):
        self.reader, self.parser = reader, parser
        self.pending = b""
        self.started = False
        self.parser_only = False

    def feed(self, chunk: bytes) -> None:
        """The sheet's next piece (b"" at its end)."""
        if self.parser_only:
            self.parser.Parse(chunk, not chunk)
            return
        self.pending += chunk
        if not chunk or len(self.pending) > self.LIMIT:
            self._to_parser(final=not chunk)
            return
        if not self.started:
            head_end = self.pending.find(b"<sheetData>")
            if head_end < 0:
                return
            head_end += len(b"<sheetData>")
            head, self.pending = self.pending[:head_end], self.pending[head_end:]
            self.parser.Parse(head, False)
            reader = self.reader
            if reader.row_tag != "row" or reader.sheet_data != 1 or not _declares_utf8(head):
                self._to_parser()
                return
            self.started = True
        end = self.pending.rfind(b"</row>")
        if end >= 0:
            end += len(b"</row>")
            piece, self.pending = self.pending[:end], self.pending[end:]
            self._take(piece)

    def _take(self, piece: bytes) -> None:
        """Whole rows, each read plainly or by the parser."""
        try:
            text = None if _not_in_xml(piece) else piece.decode()
        except UnicodeDecodeError:
            text = None
        if text is None:
            self.pending = piece + self.pending
            self._to_parser()
            return
        reader = self.reader
        position, size = 0, len(text)
        while position < size:
            match = PLAIN_ROW.match(text, position)
            if match is not None and _plain_attributes(match[3]):
                position = match.end()
                reader.plain_row(int(match[2]), match[4])
                continue
            start = text.find("<row", position)
            if start < 0 or text[position:start].strip():  # not a row: the end of the rows
                if text[position:].strip():
                    self.pending = text[position:].encode() + self.pending
                    self._to_parser()
                return
            # A row written otherwise: the parser reads it.
            position = text.find("</row>", start) + len("</row>")
            self.parser.Parse(text[start:position].encode(), False)
            if reader.row is not None:  # its end was not where it seemed (in a comment): the parser reads on
                self.pending = text[position:].encode() + self.pending
                self._to_parser()
                return

    def _to_parser(self, *, final: bool = False) -> None:
        self.parser_only = True
        pending, self.pending = self.pending, b""
        self.parser.Parse(pending, final)


_PLAIN_CELL = (
    r'<c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?'
    r'(?:/>|><v>([^<&\r]{0,%d})</v></c>|><is><t(?: xml:space="preserve")?>([^<&\r]*)</t></is></c>)' % CELL_TEXT_LIMIT
)
PLAIN_CELL = re.compile(_PLAIN_CELL)
PLAIN_ROW = re.compile(
    r'(\s*)<row r="([0-9]+)"((?: [A-Za-z_][A-Za-z0-9_.:-]*="[^"<&]*")*)(?:/>|>((?:%s)*)</row>)'
    % re.sub(r"\((?!\?)", "(?:", _PLAIN_CELL)  # the cells' groups are PLAIN_CELL's to take
)
# Control characters XML does not allow, which the parser must see to refuse.
CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
ATTRIBUTE_NAME = re.compile(r' ([^=]+)="')
ENCODING = re.compile(rb'^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding=["\']([^"\']*)["\']')


def _not_in_xml(data: bytes) -> bool:
    """Whether the UTF-8 holds a character XML does not allow."""
    return len(data.translate(None, CONTROLS)) != len(data) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data


def _plain_attributes(attributes: str) -> bool:
    """A row's attributes after r: none, or each once (and not r again)."""
    if not attributes:
        return True
    names = ATTRIBUTE_NAME.findall(attributes)
    return len(set(names)) == len(names) and "r" not in names


def _declares_utf8(head: bytes) -> bool:
    match = ENCODING.match(head)
    return match is None or match[1].lower() in (b"utf-8", b"utf8")


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
    """The column of a cell reference's letters, from 0; beyond Excel's
    last column (XFD) the sheet is refused."""
    if not COLUMN_LETTERS.fullmatch(letters):
        raise ValueError("not a cell reference")
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    if number > MAX_COLUMNS:
        raise SpreadsheetError(
            _("The sheet has a cell past Excel's last column (XFD): it was not saved by a spreadsheet program. Open it in Excel, save it and send it again.")
        )
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
    elif 60 <= serial < 61:
        return serial  # Excel's 29 February 1900, which never was: the date column says so
    else:
        moment = EPOCH_1900 + timedelta(days=serial + (1 if serial < 60 else 0))
    moment = moment.replace(microsecond=0) if moment.microsecond < 500_000 else (moment + timedelta(seconds=1)).replace(microsecond=0)
    return moment.date() if moment.time() == datetime.min.time() else moment


# .csv
