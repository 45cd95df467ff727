"""What a preview says about each row: created, updated (each field old →
new), unchanged, rejected (why), or a conflict, with the row's warnings.

A hundred thousand rows would weigh too much kept as objects until the
preview ends, and too much in a job's JSON: each row is one line of a file,
written as the row is planned and kept with the job, read back a page at a
time. A line is "<kind><flag>\t<JSON>": a page of one kind, or of the
flagged rows, is found without parsing the others.
"""

import json
import tempfile
from dataclasses import dataclass
from datetime import date

from django.utils import formats

from .. import normalizers
from ..models import Wallet
from .columns import EXTRA, label

#: The kinds of row, in the order the preview shows their counts.
KINDS = ("conflict", "created", "updated", "unchanged", "rejected")
FLAGGED = "flagged"  # rows with a warning (a cell left out, a repeated number)
FLAG = "!"


class RowLog:
    """The rows of a preview, a line each, in a temporary file until the job
    keeps it. Values are kept as the model holds them and put in words
    when a page is shown: fifty rows then, not a hundred thousand now, and
    in the language of whoever reads them."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.counts = dict.fromkeys((*KINDS, FLAGGED), 0)

    def add(self, kind: str, number: int, name: str, *, changes=(), message: str = "", notes=()) -> None:
        """`changes` are (field, old, new) in the model's values; a field
        is a contact field, "tags" (new: the names added) or "extra:<name>"."""
        self.counts[kind] += 1
        flag = ""
        if notes:
            self.counts[FLAGGED] += 1
            flag = FLAG
        line = json.dumps([number, name, changes, message, notes], ensure_ascii=False, default=str)
        self.file.write(f"{kind}{flag}\t{line}\n".encode())


class _Words:
    """A kept row's fields and values as the page shows them."""

    def __init__(self):
        self._wallets: dict[int, str] | None = None

    def change(self, field: str, old, new) -> list[str]:
        return [self._label(field), self._display(field, old), self._display(field, new)]

    @staticmethod
    def _label(field: str) -> str:
        if field.startswith(EXTRA):
            return field[len(EXTRA) :]
        return label(field)

    def _display(self, field: str, value) -> str:
        if value in (None, ""):
            return ""
        if field == "number":
            return normalizers.format_phone(value)
        if field == "wallet":
            if self._wallets is None:
                self._wallets = dict(Wallet.objects.values_list("pk", "name"))
            return self._wallets.get(value, str(value))
        if field == "birth_date":
            return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
        if field == "tags":
            return ", ".join(value)
        return str(value)


@dataclass(frozen=True)
class PreviewRow:
    kind: str
    number: int
    name: str
    changes: list  # [label, old, new]
    message: str
    notes: list


class PreviewRows:
    """The rows of one kind (or every row, or the flagged ones) of a kept
    preview file, as a sequence a Paginator pages: its length is the count
    the preview recorded, a slice reads the file up to the slice's end."""

    def __init__(self, file, *, show: str, count: int):
        self._file = file
        self._show = show
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("PreviewRows pages by slices")
        start, stop = index.start or 0, index.stop if index.stop is not None else self._count
        rows = []
        seen = 0
        words = _Words()
        with self._file.open("rb") as file:
            for raw in file:
                if seen >= stop:
                    break
                prefix, _tab, data = raw.partition(b"\t")
                kind = prefix.rstrip(FLAG.encode()).decode()
                if not self._shows(kind, prefix):
                    continue
                if seen >= start:
                    number, name, changes, message, notes = json.loads(data)
                    changes = [words.change(*change) for change in changes]
                    rows.append(PreviewRow(kind, number, name, changes, message, notes))
                seen += 1
        return rows

    def _shows(self, kind: str, prefix: bytes) -> bool:
        if self._show == "all":
            return True
        if self._show == FLAGGED:
            return prefix.endswith(FLAG.encode())
        return kind == self._show
