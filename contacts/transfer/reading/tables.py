"""What every reader makes of a file: a Table of numbered rows (the
header apart, blank rows left out, at most IMPORT_MAX_ROWS), the
SpreadsheetError that says what is wrong, a cell as text; and the survey
the mapping step shows."""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext



# Excel keeps at most this many characters in a cell; a part that holds
# more in one text is not a spreadsheet Excel wrote, and is cut there.
CELL_TEXT_LIMIT = 32_767


CHUNK = 64 * 1024  # bytes read (and XML parsed) at a time


# Excel's last column is XFD, the 16,384th: a row wider than that was not
# written by a spreadsheet, and is refused before it is built.
MAX_COLUMNS = 16_384


class SpreadsheetError(Exception):
    """A file that cannot be read as a spreadsheet; the message says why and
    what to do, in the user's language."""


@dataclass
class Outline:
    """A sheet's rows and columns with content (outline._outline counts them)."""

    columns: set[int]  # that have a cell with something in it
    rows: int  # that have such a cell
    cells: dict[int, int] = field(default_factory=dict)  # column -> such cells in it, the header's included


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
    outline: Callable[[], Outline | None] | None = None


@dataclass
class Survey:
    """What the mapping step shows of a table, read through to its end (so a
    file over a cap is refused at the upload): the columns that hold data
    (a header or any value below it), their headers, the first rows."""

    columns: list[int]  # positions in the file's rows
    headers: list[str]  # of those columns
    sample: list[list[str]]  # the first data rows, those columns' cells as text
    rows: int  # data rows
    values: list[int]  # of those columns: the data rows with a value in it


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
        # The counts include the header's cell: a named column's is not a value.
        values = {index: cells - bool(index < len(table.headers) and table.headers[index]) for index, cells in outline.cells.items()}
    else:
        values = defaultdict(int)
        for _number, row in table.rows:
            count += 1
            if count <= sample_rows:
                sample.append(row)
            for index, value in enumerate(row):
                if not _blank(value):
                    values[index] += 1
        used |= values.keys()
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
    return Survey(columns, headers, texts, count, [values.get(index, 0) for index in columns])


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
