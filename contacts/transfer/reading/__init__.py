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

import zipfile
import zlib
from xml.parsers import expat

from django.utils.translation import gettext as _

from .archive import ZIP_SIGNATURE, _check_archive, _damaged
from .delimited import _read_csv
from .outline import _outline
from .tables import FORMULA_START, SpreadsheetError, Survey, Table, _bounded, _header, cell_text, survey, unescape_csv_text
from .xlsx import _Book

__all__ = ["FORMULA_START", "SpreadsheetError", "Survey", "Table", "cell_text", "read_table", "survey", "unescape_csv_text"]


OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# How an encrypted (password-protected) .xlsx names its content inside the
# OLE container, in UTF-16.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


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
