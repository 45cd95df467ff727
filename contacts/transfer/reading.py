"""Reading spreadsheets as Brazilian teams have them: .xlsx and .csv (UTF-8
with or without BOM, or Windows-1252; ";" or ","). The content decides
what a file is, never its name.

Reading is defensive: a file is checked before any parser sees it (zip
bombs by their uncompressed size, XML with a DOCTYPE, an old .xls or a
password-protected workbook by their signature), and every problem becomes
a SpreadsheetError with a message for the user.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# How an encrypted (password-protected) .xlsx names its content inside the
# OLE container, in UTF-16.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# A cell with a formula and no stored result: <c r="B2"><f>SUM(A1)</f></c>.
# A cell's reference ("B12": its column, then its row) and a row's number,
# whatever attribute comes first in the element.
CELL_COLUMN = re.compile(rb'<c\b[^>]*? r="([A-Z]{1,3})[0-9]')
ROW_NUMBER = re.compile(rb'<row\b[^>]*? r="([0-9]{1,9})"')
FORMULA_WITHOUT_VALUE = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*</c>')


class SpreadsheetError(Exception):
    """A file that cannot be read as a spreadsheet; the message says why and
    what to do, in the user's language."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list]]  # (row number in the file, cell values)
    kind: str  # "xlsx" or "csv"
    # Rows whose cells hold a formula without a stored result, by number.
    formula_rows: frozenset[int] = frozenset()


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
        content = file.read()
        if ENCRYPTED_PACKAGE in content:
            raise SpreadsheetError(
                _("The spreadsheet is protected by a password. Save a copy without the password and send it again.")
            )
        raise SpreadsheetError(
            _("This is an old Excel file (.xls). Open it in Excel and save it as .xlsx (Excel Workbook), then send it again.")
        )
    return _read_csv(file)


def _damaged() -> SpreadsheetError:
    return SpreadsheetError(_("The file is damaged or incomplete: it is not a spreadsheet that can be read."))


def _read_xlsx(file) -> Table:
    try:
        archive = zipfile.ZipFile(file)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _damaged() from None
    formula_rows = _check_archive(archive, members)
    file.seek(0)
    cells, start_row = _sheet_cells(file)
    rows = _numbered(_drain(cells), start_row + 1)
    del cells
    headers = _header(rows)
    return Table(headers, _bounded(rows), "xlsx", frozenset(formula_rows))


def _check_archive(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> set[int]:
    """What the archive would unpack to and whether any part has a DOCTYPE,
    before any XML is parsed; returns the rows of the first sheet with a
    formula without a stored value."""
    unpacked = sum(member.file_size for member in members)
    if len(members) > 5000 or unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
        raise SpreadsheetError(_("The spreadsheet unpacks to more data than is accepted; split it into smaller files."))
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError(_("The file is not an Excel spreadsheet (.xlsx) nor a CSV list."))
    formula_rows: set[int] = set()
    try:
        for member in members:
            if not member.filename.endswith((".xml", ".rels")):
                continue
            with archive.open(member) as part:
                prolog = part.read(4096)
            # Entity definitions live in a DOCTYPE: no spreadsheet has one.
            if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                raise SpreadsheetError(_("The spreadsheet contains something that is not accepted (a document type definition)."))
        sheet = _first_sheet_part(names)
        if sheet:
            with archive.open(sheet) as part:
                xml = part.read()
            _check_extent(xml)
            # A sheet without formulas (most) is not scanned cell by cell.
            if b"<f" in xml:
                for match in FORMULA_WITHOUT_VALUE.finditer(xml):
                    formula_rows.add(int(match.group(2)))
            del xml  # tens of megabytes, before the reader makes its own copy
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError):
        raise _damaged() from None
    return formula_rows


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_extent(xml: bytes) -> None:
    """Refuse a sheet whose grid, from its first cell to its last, is beyond
    IMPORT_MAX_CELLS, before the reader allocates it: whatever the file
    says of itself (its <dimension> may lie), the cells' own references
    are read."""
    columns = {_column_number(letters) for letters in set(CELL_COLUMN.findall(xml))}
    rows = [int(number) for number in ROW_NUMBER.findall(xml)]
    if not columns or not rows:
        return  # cells without references are placed one after another: the file's size bounds them
    width, height = max(columns) - min(columns) + 1, max(rows) - min(rows) + 1
    if width * height > settings.IMPORT_MAX_CELLS:
        raise SpreadsheetError(
            _(
                "The sheet spreads over %(rows)s rows and %(columns)s columns, more than can be read. "
                "Delete the cells far from the data (press Ctrl+End in Excel to find the last one), "
                "or split the file, and send it again."
            )
            % {"rows": f"{height:,}".replace(",", "."), "columns": f"{width:,}".replace(",", ".")}
        )


def _sheet_cells(file) -> tuple[list, int]:
    """The first sheet's rows as Python lists, and the number of its first
    row (from 0); then the reader's own copy of the sheet goes: the two
    never need to stay in memory together."""
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_filelike(file)
        worksheet = workbook.get_sheet_by_index(0)
        merged = worksheet.merged_cell_ranges or []
    except PasswordError:
        raise SpreadsheetError(
            _("The spreadsheet is protected by a password. Save a copy without the password and send it again.")
        ) from None
    except Exception:  # calamine raises its own kinds for broken parts
        raise _damaged() from None
    if merged:
        first = merged[0]
        raise SpreadsheetError(
            _("The spreadsheet has merged cells (row %(row)d). Unmerge them, keep one value per cell and send it again.")
            % {"row": first[0][0] + 1}
        )
    start_row = (worksheet.start or (0, 0))[0]
    try:
        cells = list(worksheet.iter_rows())
    except Exception:
        raise _damaged() from None
    del worksheet
    workbook.close()
    return cells, start_row


def _first_sheet_part(names: set[str]) -> str | None:
    candidates = sorted(
        (name for name in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)),
        key=lambda name: int(re.search(r"\d+", name.rsplit("/", 1)[1]).group()),
    )
    return candidates[0] if candidates else None


def _read_csv(file) -> Table:
    raw = file.read(settings.IMPORT_MAX_UNPACKED_BYTES + 1)
    if len(raw) > settings.IMPORT_MAX_UNPACKED_BYTES:
        raise SpreadsheetError(_("The list is larger than is accepted; split it into smaller files."))
    if b"\x00" in raw[:65536]:
        raise SpreadsheetError(_("The file is not an Excel spreadsheet (.xlsx) nor a CSV list."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # What Excel on Windows saves as "CSV" in Brazil.
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise SpreadsheetError(_("The file is empty."))
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") and ";" in first_line else ","
    if delimiter not in first_line and not _looks_like_text(first_line):
        raise SpreadsheetError(_("The file is not an Excel spreadsheet (.xlsx) nor a CSV list."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = _numbered(reader, 1)
    try:
        headers = _header(rows)
    except csv.Error:
        raise SpreadsheetError(_("The CSV list could not be read: check its quotes and separators.")) from None
    return Table(headers, _bounded(_csv_errors(rows)), "csv")


def _looks_like_text(line: str) -> bool:
    printable = sum(1 for ch in line if ch.isprintable() or ch in "\t\r")
    return bool(line) and printable / len(line) > 0.95


def _csv_errors(rows):
    try:
        yield from rows
    except csv.Error:
        raise SpreadsheetError(_("The CSV list could not be read: check its quotes and separators.")) from None


def _drain(rows: list) -> Iterator[list]:
    """The rows in order, each let go of by the list once handed out."""
    rows.reverse()
    while rows:
        yield rows.pop()


def _numbered(rows, first_number: int) -> Iterator[tuple[int, list]]:
    for number, row in enumerate(rows, start=first_number):
        yield number, row if isinstance(row, list) else list(row)


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
            raise SpreadsheetError(
                ngettext(
                    "The file has more than %(limit)d row of data; split it into smaller files.",
                    "The file has more than %(limit)d rows of data; split it into smaller files.",
                    limit,
                )
                % {"limit": limit}
            )
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
