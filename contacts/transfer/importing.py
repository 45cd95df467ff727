"""Importing contacts from a spreadsheet, in two phases (as pretix's
modelimport): the columns clean their cells (columns); phase one reads and
checks every row and decides, for each, create / update / unchanged /
rejected (planning); phase two writes, in one transaction, with history
and audit (writing). A preview is phase one alone.

Counts are true: created + updated + unchanged + rejected + conflicts (rows
that would replace a contact's number, Telegram id or CPF/CNPJ, left out
unless the user chose to overwrite) = data rows.
Importing the same file twice creates and changes nothing the second time.
"""

import gc
import heapq
import io
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from contacts_portal import database

from .planning import SKIP, Planner
from .reading import Table, cell_text
from .writing import ContactsChanged, PlanWriter, write_while_planning


class ReportedRows:
    """The rows an import reports on (rejected, imported with a warning, in
    conflict), in the file's order, each with its cells: the first few in
    memory, the others in a temporary file as they come. A file whose
    every row is reported on then costs what one whose rows are fine does
    (kept as a list, 200,000 rows' cells and messages were 220 MB more).
    Read like the list it stands for: len(), iteration, an index, a slice."""

    KEPT = 100  # what a page or a command shows reads no further

    def __init__(self):
        self._head: list = []
        self._file = None
        self._count = 0

    def append(self, item) -> None:
        if self._count < self.KEPT:
            self._head.append(item)
        else:
            if self._file is None:
                self._file = tempfile.TemporaryFile()
            pickle.dump(item, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator:
        yield from self._head
        if self._file is not None:
            self._file.flush()
            end = self._file.tell()
            # A reader of its own: two readings at once do not share a position.
            reader = io.BufferedReader(_FileRange(self._file.fileno(), end))
            while reader.tell() < end:
                yield pickle.load(reader)

    def __getitem__(self, index):
        if isinstance(index, slice):
            positions = range(self._count)[index]
            if positions.step == 1:
                return list(islice(self, positions.start, max(positions.start, positions.stop)))
            return [self[i] for i in positions]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._head[index] if index < len(self._head) else next(islice(self, index, None))

    def __repr__(self) -> str:
        return f"ReportedRows({list(islice(self, 3))!r}{', …' if self._count > 3 else ''} {self._count} rows)"


class _FileRange(io.RawIOBase):
    """The first `end` bytes of an open file, read at an offset of its own."""

    def __init__(self, fd: int, end: int):
        self._fd, self._end, self._position = fd, end, 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, min(len(buffer), self._end - self._position), self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: int = 0  # rows left out
    errors: ReportedRows = field(default_factory=ReportedRows)  # (row number, cells, message)
    # Rows imported without a cell they could do without (counted also as
    # created, updated or unchanged).
    warned: int = 0
    warnings: ReportedRows = field(default_factory=ReportedRows)  # (row number, cells, [message, ...])
    headers: list = field(default_factory=list)
    # Every conflict, left out or applied: (row number, message).
    conflict_rows: ReportedRows = field(default_factory=ReportedRows)
    repeated_numbers: int = 0  # rows whose number an earlier row had (counted by a preview)

    def counts(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "conflicts": self.conflicts,
        }


def import_file(*, read: Callable[[], Table], attempts: int = 3, **options) -> ImportResult:
    """import_contacts() on the table `read()` returns, read and planned
    again when contacts changed meanwhile: one it matched was merged away
    (the import then runs as if after the merge), or one with a number,
    Telegram id or CPF/CNPJ it was about to create was saved first (a sync,
    an inbound message: the import then updates that one)."""
    # Each attempt writes in a transaction of its own (a savepoint in the
    # caller's), so a lost race leaves nothing behind to undo. A deadlock
    # is such a race too: two imports on PostgreSQL write as they plan,
    # each holding the new contacts and tags of its chunks so far, and the
    # database undoes one when they wait for each other.
    return database.retrying(
        lambda: import_contacts(table=read(), **options),
        on=(ContactsChanged, IntegrityError, OperationalError),
        when=lambda error: not isinstance(error, OperationalError) or database.is_transient(error),
        attempts=attempts,
    )


def import_contacts(
    *, table: Table, mapping=None, wallet=None, tag="", dry_run=False, file_name="", progress=None, conflicts: str = SKIP, outcomes=None
) -> ImportResult:
    """Import a table: plan it, and unless `dry_run`, write it and record
    the import in the audit trail. The caller sets the recording (who,
    through what). `conflicts` says what a row that would replace a
    contact's number, Telegram id or CPF/CNPJ does ("skip" or "overwrite");
    `outcomes` (a preview.RowLog) gets each row's account."""
    planner = Planner(
        table,
        result=ImportResult(headers=table.headers),
        mapping=mapping,
        wallet=wallet,
        tag=tag,
        progress=progress,
        conflicts=conflicts,
        outcomes=outcomes,
    )

    def finish(writer: PlanWriter):
        writer.write()

        audit_record(
            action=AuditEvent.Action.IMPORT,
            parameters={"file": file_name, "wallet": wallet.name if wallet else "", "tag": tag, "mapping": planner.mapping, "conflicts": conflicts},
            counts=planner.result.counts(),
        )

    with _without_full_collections():
        if dry_run:
            return planner.plan()
        # A writer of its own where the database has room for one, and
        # never inside a caller's transaction, which the import is part of.
        if database.can_write_beside():
            return write_while_planning(planner, finish=finish)
        planner.plan()
        with transaction.atomic():
            finish(PlanWriter(planner))
    return planner.result


@contextmanager
def _without_full_collections():
    """The garbage collector's automatic passes off while an import runs: it
    makes a few hundred thousand objects that live until it ends, and the
    collector walked them all again and again (see benchmarks/README.md).
    The few cycles an import makes (a rejected row's error) are young ones:
    the planner collects the youngest generation after each chunk."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rejected_rows(result: ImportResult) -> Iterable[list]:
    """The error report's rows, in the file's order: the original cells
    plus "Erro" for a rejected row; and when rows were imported without a
    cell, an "Aviso" column saying which (fixed and sent again, such a row
    updates its contact with the value; the import leaves both columns
    out)."""
    width = len(result.headers)
    if not result.warnings:
        yield [*result.headers, _("Error")]
        for _number, cells, message in result.errors:
            yield [*_report_cells(cells, width), message]
        return
    yield [*result.headers, _("Error"), _("Warning")]
    # Both are in the file's order: merged as they are read, not sorted in memory.
    errors = ((number, cells, message, "") for number, cells, message in result.errors)
    warnings = ((number, cells, "", " ".join(messages)) for number, cells, messages in result.warnings)
    for _number, cells, error, warning in heapq.merge(errors, warnings, key=lambda row: row[0]):
        yield [*_report_cells(cells, width), error, warning]


def _report_cells(cells: list, width: int) -> list[str]:
    """A row's cells as text, as wide as the header: the messages stay
    under their own headers."""
    texts = [cell_text(cell) for cell in cells or ()]
    return texts + [""] * (width - len(texts))
