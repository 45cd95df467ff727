"""Phase two of an import: the plan written, all or nothing: new contacts,
changed ones, tags, extra fields and their history.

Where the database allows a second writer (database.can_write_beside), phase
two begins during phase one: a ConcurrentWriter writes each chunk's new
contacts, with their tags, extra fields and history, while the planner
plans the next chunk.
"""

import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, models, transaction

from contacts_portal import database

from audit.history import history_rows

from ..history import custom_fields_bulk_record, history_bulk_record, history_bulk_rows, tags_history_model
from ..models import DERIVED_FIELDS, Contact, CustomField, Tag
from .planning import CHUNK, CONTACT_COLUMNS, RESENT_FIELDS, Planned, Planner, new_contact_rows


#: Rows for database.insert: the model, its columns, the rows.
Rows = tuple[type[models.Model], list[str], Iterable[tuple]]


class ContactsChanged(Exception):
    """A contact the import matched was merged or deleted before it could
    be written; nothing was written."""


class PlanWriter:
    """Writes a planner's plan. New rows go in with database.insert (the ORM's
    bulk_create compiles every value in Python, most of the time of a large
    import), changed ones with database.update_rows (the ORM's bulk_update
    writes a CASE per field and row)."""

    def __init__(self, planner: Planner):
        self.planner = planner
        self._tag_ids: dict = {}  # the key of a tag the file creates -> its id

    @transaction.atomic
    def write(self):
        """Write the plan; returns the planner's result.

        A part of CHUNK contacts at a time, each with its tags, extra
        fields and history, and each let go of once written: what the
        writing holds beside the plan is one part's rows, never every
        contact's (benchmarks/README.md, the import's memory)."""
        with database.bulk_writing():
            return self._write()

    def sent_rows(self, part: list[Planned], rows: list[tuple]) -> "SentRows":
        """Every row a chunk's new contacts write (`rows` their own), made
        where the planner sends them from: the ids are drawn on the
        planner's connection (the writer's is busy writing), and the
        writer's thread then only waits for the database."""
        return SentRows(part, [(Contact, CONTACT_COLUMNS, rows), *((model, columns, list(made)) for model, columns, made in self._new_rows(part))])

    def write_sent(self, sent: "SentRows") -> None:
        """Write what the planner sent while it plans (see ConcurrentWriter).
        A contact a later row changes is written again at the end
        (_resend)."""
        self._write_rows(sent.planned, sent.rows)

    def _write(self):
        planner = self.planner
        planner.release_index()
        self._lock_matched()
        sent = planner.send is not None
        new, changed = deque(), deque()
        for planned in planner.planned:
            if planned.is_new:
                if not sent or planned.resend:
                    new.append(planned)
            elif planned.changes():
                changed.append(planned)
        planner.planned = []
        if sent:
            self._resend(new)
        written = 0
        while new:
            part = _take(new, CHUNK)
            if not sent:
                # Made as they are sent: on PostgreSQL the database indexes
                # one batch while the next is made.
                database.insert(Contact, CONTACT_COLUMNS, new_contact_rows(part, planner.now))
                written += len(part)
                planner.progress(written)
            self._write_rows(part, self._new_rows(part))
        while changed:
            part = _take(changed, CHUNK)
            self._write_changed(part)
            self._write_related(part)
        return planner.result

    def _lock_matched(self) -> None:
        """Lock the contacts the plan updates, in id order like every bulk
        writer (a merge waits for the import, or the import for the merge).
        One merged or deleted since the plan was made raises ContactsChanged:
        the import is planned again from the file, and finds the survivor."""
        ids = sorted({p.contact.pk for p in self.planner.planned if not p.is_new})
        if database.lock_rows(Contact, ids) != len(ids):
            raise ContactsChanged

    def _create_tags(self, planned: list[Planned]) -> None:
        """The tags the file names that do not exist yet, created as the
        first contact that has one is written. One another import or a
        user created meanwhile (its insert waited for theirs to commit) is
        that one."""
        ids = self._tag_ids
        for key in dict.fromkeys(key for p in planned for key in p.tags if isinstance(key, tuple) and key not in ids):
            tag = Tag.objects.filter(name__iexact=key[2]).first()
            if tag is None:
                try:
                    with transaction.atomic():
                        tag = Tag.objects.create(name=key[2])
                except IntegrityError:
                    tag = Tag.objects.get(name__iexact=key[2])
            ids[key] = tag.pk

    @staticmethod
    def _resend(resent: deque[Planned]) -> None:
        """New contacts were written while planning (see ConcurrentWriter);
        those a later row changed are written again as they are now: their
        rows updated, their tags, extra fields and history (all this
        import's: nobody else sees them yet) made anew."""
        ids = [p.contact.pk for p in resent]
        for planned in resent:
            planned.contact.refresh_search_fields(planned.extra_values())
        database.update_rows(Contact, [p.contact for p in resent], RESENT_FIELDS)
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            records = Contact.history.filter(id__in=part)
            tags_history_model().objects.filter(history_id__in=records.values("history_id"))._raw_delete(connection.alias)
            records._raw_delete(connection.alias)
            CustomField.history.filter(contact_id__in=part)._raw_delete(connection.alias)
            CustomField.objects.filter(contact_id__in=part)._raw_delete(connection.alias)
            Contact.tags.through.objects.filter(contact_id__in=part)._raw_delete(connection.alias)

    def _write_changed(self, changed: list[Planned]) -> None:
        update_fields = sorted({name for p in changed for name in p.changed} | {*DERIVED_FIELDS, "updated_at"})
        for planned in changed:
            planned.contact.refresh_search_fields(planned.extra_values())
            planned.contact.updated_at = self.planner.now
        database.update_rows(Contact, [p.contact for p in changed], update_fields)

    def _new_rows(self, part: list[Planned]) -> list[Rows]:
        """New contacts' tags and extra fields, and the history of all
        three (what each contact and extra field is, by this import), as
        rows to write, their ids drawn. A tag the file creates is named by
        its key (see _write_rows)."""
        links = _links(part)
        extras = _created_extras(part)
        history_model, columns, records, _ids = history_rows(model=CustomField, objects=extras, history_type="+")
        return [
            (Contact.tags.through, LINK_COLUMNS, links),
            (CustomField, EXTRA_COLUMNS, _extra_values(extras)),
            *history_bulk_rows(contacts=[p.contact for p in part], history_type="+", tag_links=links),
            (history_model, columns, records),
        ]

    def _write_rows(self, part: list[Planned], rows: list[Rows]) -> None:
        """Write `rows` in order, the tags the part's contacts have that
        the file creates created first, and named by their ids."""
        self._create_tags(part)
        ids = self._tag_ids
        for model, columns, made in rows:
            if ids and "tag_id" in columns:
                at = columns.index("tag_id")
                made = (row if row[at].__class__ is int else (*row[:at], ids[row[at]], *row[at + 1 :]) for row in made)
            database.insert(model, columns, made)

    def _write_related(self, part: list[Planned]) -> None:
        """Stored contacts' new tags (only added, never removed) and extra
        fields, their changed extra fields, and the history of all three:
        what each contact and extra field is now, by this import."""
        created = _created_extras(part)
        self._write_rows(part, [(Contact.tags.through, LINK_COLUMNS, _links(part)), (CustomField, EXTRA_COLUMNS, _extra_values(created))])
        changed = [extra for p in part if p.changed_extras for extra in p.extras if extra.key in p.changed_extras]
        database.update_rows(CustomField, changed, ["value"])
        # Their tags are read: the links written and those they had.
        history_bulk_record(contacts=[p.contact for p in part])
        custom_fields_bulk_record(fields=created, created=True)
        custom_fields_bulk_record(fields=changed)


LINK_COLUMNS = ["id", "contact_id", "tag_id"]
EXTRA_COLUMNS = ["id", "contact_id", "name", "value"]


def _links(part: list[Planned]) -> list[tuple]:
    """The tag rows the part's contacts gain (id, contact id, tag id or the
    key of a tag the file creates), their ids drawn."""
    links = [(p.contact.pk, key) for p in part for key in p.added_tags()]
    ids = database.allocate_ids(Contact.tags.through, len(links))
    return [(pk, contact_id, key) for pk, (contact_id, key) in zip(ids, links, strict=True)]


def _created_extras(part: list[Planned]) -> list:
    """The extra fields the part creates, their ids drawn."""
    created = []
    for p in part:
        for extra in p.created_extras():
            extra.contact_id = p.contact.pk
            created.append(extra)
    for extra, pk in zip(created, database.allocate_ids(CustomField, len(created)), strict=True):
        extra.pk = pk
    return created


def _extra_values(extras: list) -> list[tuple]:
    return [(e.pk, e.contact_id, e.name, e.value) for e in extras]


@dataclass(slots=True)
class SentRows:
    """A chunk's new contacts as the planner sent them, and every row they
    write, in order."""

    planned: list[Planned]
    rows: list[Rows]


def _take(items: deque, count: int) -> list:
    """The first `count` items, taken out of `items`."""
    return [items.popleft() for _ in range(min(count, len(items)))]


class ConcurrentWriter(threading.Thread):
    """The write of an import begun while the rows are still being
    planned: the database's work on the new contacts (their indexes, the
    trigram ones above all), their tags, extra fields and history then
    overlaps with Python's on the next rows (benchmarks/README.md has the
    figures).

    The writer has a connection and a transaction of its own (Django's
    connections are per thread). It writes each chunk's new contacts as the
    planner sends them; when the plan is done, it writes the rest (contacts
    a later row changed, updates, audit) in the same transaction, so the
    import is still all or nothing. Abandoned, or failing, it rolls back."""

    _DONE = object()
    _ABANDON = object()
    # Chunks sent and not yet written: a database slower than the planning
    # (large indexes) makes the planner wait, rather than the rows pile up
    # in memory.
    BACKLOG = 2

    def __init__(self, planner: Planner, finish: Callable[[PlanWriter], None]):
        super().__init__(name="contacts-import-writer", daemon=True)
        self._plan_writer = PlanWriter(planner)
        self._finish = finish
        self._queue = queue.Queue(maxsize=self.BACKLOG)
        self._context = contextvars.copy_context()  # who is importing, in what language
        self.error: BaseException | None = None

    def send(self, part: list[Planned], rows: list[tuple]) -> None:
        """Called by the planner: the part's rows are made here, in its
        thread (see PlanWriter.sent_rows)."""
        self._put(self._plan_writer.sent_rows(part, rows))
        if self.error is not None:
            raise self.error

    def close(self, *, abandon: bool = False) -> None:
        """Finish the write (or abandon it) and wait for it; raises what
        the write raised."""
        self._put(self._ABANDON if abandon else self._DONE)
        self.join()
        if self.error is not None and not abandon:
            raise self.error

    def _put(self, item) -> None:
        """Queue `item` once there is room, unless the writer has stopped
        (failed: nothing takes from the queue any more)."""
        while self.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def run(self) -> None:
        self._context.run(self._write)

    def _write(self) -> None:
        try:
            with transaction.atomic():
                database.check_references_now()
                while (item := self._queue.get()) is not self._DONE:
                    if item is self._ABANDON:
                        raise _Abandoned
                    self._plan_writer.write_sent(item)
                self._finish(self._plan_writer)
        except _Abandoned:
            pass
        except BaseException as error:  # raised again in the importing thread
            self.error = error
        finally:
            connection.close()


class _Abandoned(Exception):
    pass


def write_while_planning(planner: Planner, *, finish: Callable[[PlanWriter], None]):
    """Plan with a ConcurrentWriter writing meanwhile; then `finish` in its
    transaction, with the writer of the plan's rest. Returns the planner's
    result."""
    writer = ConcurrentWriter(planner, finish)
    planner.send = writer.send
    writer.start()
    try:
        planner.plan()
    except BaseException:
        writer.close(abandon=True)
        raise
    writer.close()
    return planner.result
