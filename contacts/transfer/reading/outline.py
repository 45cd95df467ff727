"""A sheet's rows and columns with content, counted from its cells'
references without parsing them (see survey)."""

import re
import zipfile
from collections import Counter
from operator import itemgetter

from django.conf import settings

from .tables import Outline, _too_many_rows
from .xlsx import _column_index, _merged, _refuse_extent


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
    letters: Counter[bytes] = Counter()
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
                letters.update(map(itemgetter(0), found))  # counted in C
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
    cells = {_column_index(text.decode()): count for text, count in letters.items()}
    columns = set(cells)
    if columns and (max(columns) + 1) * (last_row - first_row + 1) > settings.IMPORT_MAX_CELLS:
        _refuse_extent(last_row - first_row + 1, max(columns) + 1)
    return Outline(columns, rows, cells)
