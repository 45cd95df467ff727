"""Phase one of an import: every row read and cleaned by its columns,
matched with the contacts it names (in the database, or planned by an
earlier row), and folded into a plan that says, for each contact, whether
it is created, updated or left as it is, and for each rejected row why.
The rows go a chunk at a time, so that only the plan stays in memory.

Slots and shared empty containers: an import holds a hundred thousand of
the objects below at once (peak memory is a target, see benchmarks/).
"""

import dataclasses
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts_portal import database

from .. import normalizers, rules
from ..models import Contact, ContactIdentity, CustomField, Tag, Wallet
from .columns import (
    CLEANING_ORDER,
    COLUMN_BY_FIELD,
    EXTRA,
    FIELDS,
    MULTIPLE,
    PLACEHOLDERS,
    Context,
    check_digits_kept,
    guess_mapping,
    is_middle_name,
    label,
    other_phone_columns,
)
from .columns import extra_name as column_extra_name
from .reading import SpreadsheetError, Table, cell_text, unescape_csv_text
from .reading.tables import _thousands

CHUNK = 5000  # rows cleaned, matched and planned together
# Texts that repeat down a column (a company, a city, a job title, a first
# name) are kept once, the first this many different ones.
SHARED_TEXTS = 50_000
NOTHING = frozenset()
UNIQUE_FIELDS = ("number", "telegram_id", "cpf_cnpj")
IDENTITY_ORDER = ("number", "telegram_id", "cpf_cnpj", "email")
# What a row that would replace a contact's filled number, Telegram id or
# CPF/CNPJ does (see RowReport.conflicting).
SKIP, OVERWRITE = "skip", "overwrite"
CONFLICT_CHOICES = (SKIP, OVERWRITE)

CONTACT_COLUMNS = [field.attname for field in Contact._meta.concrete_fields]
contact_values = attrgetter(*CONTACT_COLUMNS)
# Written again for a new contact a later row changed (see writing).
RESENT_FIELDS = [field.name for field in Contact._meta.concrete_fields if not field.primary_key and field.name != "created_at"]
# The fields a row can change, as Planned.changed names them.
PLANNED_FIELDS = [name for name in FIELDS if name != "tags"]
field_values = attrgetter(*(name if name != "wallet" else "wallet_id" for name in PLANNED_FIELDS))


@dataclass(slots=True, eq=False)
class Row:
    """A row of the file, cleaned; kept only while its chunk is planned."""

    number: int  # in the file
    cells: list | None  # as read; kept for the error report
    values: dict | None = None  # contact field -> clean value
    extras: dict | None = None  # extra field name -> value
    tags: list | None = None  # tag names
    wallet: Wallet | None = None
    error: str = ""
    # Cells left out of a row imported without them, each naming its
    # column and quoting the cell (translated, for the user).
    warnings: list[str] = dataclasses.field(default_factory=list)
    # The name of a contact the row creates without naming it: the first,
    # middle and last names, else the company.
    default_name: str = ""


@dataclass(slots=True, eq=False)
class PlainContact:
    """What a Contact holds, without the cost of a model instance: a
    contact the import creates, or one it found. The fields are the
    model's, in its order."""

    pk: int | None = None
    name: str = ""
    number: str = ""
    email: str = ""
    cpf_cnpj: str = ""
    birth_date: date | None = None
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    wallet_id: int | None = None
    telegram_id: str = ""
    photo: str = ""
    is_group: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    name_key: str = ""
    search_text: str = ""
    birthday_key: int | None = None

    @property
    def id(self):  # noqa: A003 (as a Contact has it)
        return self.pk

    def refresh_search_fields(self, extra_values):
        Contact.refresh_search_fields(self, extra_values)


assert [f.name for f in dataclasses.fields(PlainContact)] == ["pk", *CONTACT_COLUMNS[1:]], "PlainContact follows Contact's fields"


@dataclass(slots=True, eq=False)
class PlainExtra:
    """An extra field, as PlainContact is a contact: one the import creates,
    or one it found."""

    name: str
    value: str
    key: str  # the name folded: "Cidade" and "cidade" are one field
    pk: int | None = None
    contact_id: int | None = None

    @property
    def id(self):  # noqa: A003 (as a CustomField has it)
        return self.pk


@dataclass(slots=True, eq=False)
class Planned:
    """A contact as the import will leave it: an existing one (with what it
    was) or a new one. Containers stay the shared empty ones until used."""

    contact: PlainContact
    is_new: bool
    original: tuple | None = None  # of an existing one: its PLANNED_FIELDS' values
    changed: frozenset | set = NOTHING
    rows: int = 0  # rows of the file about this contact
    tags: tuple = ()  # tag ids, or keys of tags to create; a tuple weighs less than a set
    original_tags: tuple = ()
    # PlainExtra, one per key; a tuple, not a dict by key: a contact has
    # few, and a hundred thousand dicts weigh.
    extras: tuple = ()
    original_extras: dict | None = None
    changed_extras: frozenset | set = NOTHING
    updated_rows: int = 0  # rows counted as updating it (see Planner.decide)
    resend: bool = False  # a new contact changed after it was sent (see writing)

    def add_tag(self, key) -> None:
        if key not in self.tags:
            self.tags += (key,)

    def set_extra(self, key: str, name: str, value: str) -> None:
        for extra in self.extras:
            if extra.key == key:
                extra.value = value
                return
        self.extras += (PlainExtra(name=name, value=value, key=key),)

    def created_extras(self) -> Iterator[PlainExtra]:
        """The extra fields the import creates: a new contact's every one,
        a stored contact's those it did not have. (Not kept in a list of
        their own: a hundred thousand lists weigh.)"""
        original = self.original_extras or NOTHING
        for extra in self.extras:
            if extra.key not in original:
                yield extra

    def extra_values(self) -> list[str]:
        return [extra.value for extra in self.extras]

    def added_tags(self) -> list:
        """Tags are only added, never removed."""
        return [key for key in self.tags if key not in self.original_tags]

    def state(self) -> tuple:
        return (
            field_values(self.contact),
            frozenset(self.tags),
            tuple(sorted((extra.key, extra.value) for extra in self.extras)),
        )

    def changes(self) -> bool:
        return bool(self.is_new or self.changed or self.added_tags() or self.changed_extras or any(self.created_extras()))


def new_contact_rows(new: list[Planned], now: datetime) -> Iterator[tuple]:
    """The rows of new contacts, their ids drawn and search columns made,
    one at a time as they are asked for."""
    for planned, pk in zip(new, database.allocate_ids(Contact, len(new)), strict=True):
        contact = planned.contact
        contact.pk = pk
        contact.created_at = contact.updated_at = now
        contact.refresh_search_fields(planned.extra_values())
        row = contact_values(contact)
        # Nothing reads them again (a contact a later row changes makes
        # them anew): only the row sent holds them, until it is written.
        contact.name_key = contact.search_text = ""
        yield row


class RowCleaner:
    """A row of the file as a Row: each mapped cell cleaned by its column
    (a wrong optional one left out, with a warning), the extra fields'
    cells kept as text. A cell with several values (Google Contacts'
    "a ::: b") gives the field its first; a row without a number takes it
    from another phone column."""

    def __init__(self, table: Table, mapping: list[str]):
        self._is_csv = table.kind == "csv"
        self._row_errors = table.row_errors
        self._fields = [(index, target) for index, target in enumerate(mapping) if target and not target.startswith(EXTRA)]
        self.extras = [(index, target[len(EXTRA) :]) for index, target in enumerate(mapping) if target.startswith(EXTRA)]
        headers = table.headers
        # How a warning or an error names a column: as the file does.
        self._column_names = {target: (headers[i] if i < len(headers) and headers[i] else label(target)) for i, target in self._fields}
        # The second and later values of a cell that holds several (see
        # columns.MULTIPLE) go to extra fields named after its column.
        self._overflow = {target: column_extra_name(self._column_names[target]) for target in ("number", "email") if target in self._column_names}
        self._middle_names = [name for index, name in self.extras if index < len(headers) and is_middle_name(headers[index])]
        extra_of = dict(self.extras)
        self._other_phones = [(index, extra_of[index]) for index in other_phone_columns(headers, mapping)]
        #: Every extra field a row may fill.
        self.extra_names = [name for _index, name in self.extras] + [f"{name} ({n})" for name in self._overflow.values() for n in (2, 3)]
        mapped = {target for _index, target in self._fields}
        self._columns = [COLUMN_BY_FIELD[name] for name in CLEANING_ORDER if name in mapped]
        self._texts: dict[str, str] = {}
        self.extra_values = 0
        self._extra_values_limit = settings.IMPORT_MAX_EXTRA_VALUES
        self._context = Context(
            today=date.today(),
            wallets={w.name.casefold(): w for w in Wallet.objects.all()},
            group_numbers=set(Contact.objects.filter(is_group=True).exclude(number="").values_list("number", flat=True)),
        )

    def clean(self, number: int, cells: list) -> Row:
        row = Row(number, cells)
        is_csv = self._is_csv
        width = len(cells)
        for index, name in self.extras:
            if index < width:
                text = cell_text(cells[index])
                if is_csv:
                    text = unescape_csv_text(text)
                if text and text not in PLACEHOLDERS:
                    if ("E+" in text or "e+" in text) and self._lost_digits(row, name, text, cells[index]):
                        continue  # a landline's digits that Excel cut: not kept as if they were right
                    if row.extras is None:
                        row.extras = {}
                    row.extras[name] = self._shared(text.replace(MULTIPLE, ", ")[:500])
                    self._count_extra_value()
        if number in self._row_errors:
            row.error = self._row_errors.pop(number)  # what the reader could not take as it is
            return row
        raw_values = {}
        for index, target in self._fields:
            if index < width:
                raw = cells[index]
                text = cell_text(raw)
                if is_csv:
                    text = unescape_csv_text(text)
                if MULTIPLE in text and target in self._overflow:
                    text, *others = text.split(MULTIPLE)
                    self._keep_others(row, target, others)
                raw_values[target] = (text, raw)
        if self._other_phones and not raw_values.get("number", ("",))[0].strip():
            self._number_from_other_phone(row, cells, raw_values)
        try:
            self._clean_values(row, raw_values)
        except ValidationError as error:
            row.error = " ".join(error.messages)
        else:
            if not row.warnings:
                row.cells = None  # only the error report needs the cells
        return row

    def _count_extra_value(self) -> None:
        """One more value of additional information the plan holds; beyond
        IMPORT_MAX_EXTRA_VALUES the file is refused (the memory budget)."""
        self.extra_values += 1
        if self.extra_values > self._extra_values_limit:
            limit = _thousands(self._extra_values_limit)
            raise SpreadsheetError(
                _(
                    "The file has more than %(limit)s values of additional information; an import accepts at most %(limit)s. "
                    "Leave out the columns you do not need, or split the file, and import again."
                )
                % {"limit": limit}
            )

    def _shared(self, text: str) -> str:
        """The text, as the first row that had it holds it."""
        shared = self._texts.get(text)
        if shared is None:
            if len(self._texts) < SHARED_TEXTS:
                self._texts[text] = text
            return text
        return shared

    def _lost_digits(self, row: Row, name: str, text: str, raw) -> bool:
        """An extra field's cell of digits that Excel cut is left out, with
        a warning."""
        try:
            check_digits_kept(text, raw)
        except ValidationError as error:
            row.warnings.append(_left_out(name, text, error))
            return True
        return False

    def _number_from_other_phone(self, row: Row, cells: list, raw_values: dict) -> None:
        """A row without a number takes the first valid one of its other
        phones (as extra fields), which is then not kept as an extra field
        too."""
        for index, name in self._other_phones:
            if index >= len(cells) or not row.extras or name not in row.extras:
                continue
            raw = cells[index]
            text = cell_text(raw)
            if self._is_csv:
                text = unescape_csv_text(text)
            text, *others = (part.strip() for part in text.split(MULTIPLE))
            try:
                check_digits_kept(text, raw)
                rules.number(text)
            except ValidationError:
                continue  # not a phone: it stays an extra field
            raw_values["number"] = (text, raw)
            if others:
                row.extras[name] = ", ".join(filter(None, others))[:500]
            else:
                del row.extras[name]
                self.extra_values -= 1  # counted as it was read
            return

    def _keep_others(self, row: Row, target: str, others: list[str]) -> None:
        """The second value of a cell that holds several goes to the extra
        field "<column> (2)", any more together to "<column> (3)"."""
        others = [value.strip() for value in others if value.strip()]
        if not others:
            return
        if row.extras is None:
            row.extras = {}
        name = self._overflow[target]
        row.extras[f"{name} (2)"] = others[0][:500]
        self._count_extra_value()
        if len(others) > 1:
            row.extras[f"{name} (3)"] = ", ".join(others[1:])[:500]
            self._count_extra_value()

    def _clean_values(self, row: Row, raw: dict) -> None:
        values = row.values = {}
        context = self._context
        for column in self._columns:
            cell = raw.get(column.field)
            if cell is not None and (text := normalizers.clean_text(cell[0]).strip()):
                try:
                    value = column.clean(text, cell[1], context)
                except ValidationError as error:
                    name = self._column_names[column.field]
                    if not column.is_optional(values):
                        raise ValidationError(_refused(name, text, error)) from None
                    row.warnings.append(_left_out(name, text, error))
                    continue
                if value is not None:
                    values[column.field] = self._shared(value) if column.repeats else value
        row.wallet = values.pop("wallet", None)
        row.tags = values.pop("tags", None)
        if not any(values.get(key) for key in IDENTITY_ORDER):
            raise ValidationError(_("The row has no number, Telegram id, CPF/CNPJ nor e-mail to identify the contact."))
        if "name" not in values:
            middle = [row.extras[name] for name in self._middle_names if row.extras and name in row.extras]
            full = " ".join(filter(None, (values.get("first_name"), *middle, values.get("last_name"))))
            row.default_name = full or values.get("company", "")



def _refused(column: str, text: str, error: ValidationError) -> str:
    """Why a cell costs its row, naming its column (as the file does) and
    quoting it (its start, when long)."""
    return _("%(column)s “%(value)s”: %(reason)s") % _about_cell(column, text, error)


def _left_out(column: str, text: str, error: ValidationError) -> str:
    """Why a cell was left out of a row imported without it."""
    return _("%(column)s “%(value)s” was left out. %(reason)s") % _about_cell(column, text, error)


def _about_cell(column: str, text: str, error: ValidationError) -> dict:
    return {"column": column, "value": text if len(text) <= 60 else text[:60] + "…", "reason": " ".join(error.messages)}


class Planner:
    """Phase one of an import: a table, a mapping, options; plan() reads
    every row and leaves in `planned` what each contact becomes, and in
    `result` the counts and the rejected rows."""

    def __init__(
        self,
        table: Table,
        *,
        result,
        mapping=None,
        wallet=None,
        tag: str = "",
        progress: Callable[[int], None] | None = None,
        conflicts: str = SKIP,
        outcomes=None,
    ):
        self.table = table
        self.mapping = mapping or guess_mapping(table.headers)
        self.wallet = wallet
        self.tag = " ".join((tag or "").split())
        self.progress = progress or (lambda done: None)
        self.result = result
        self.planned: list[Planned] = []
        self.now = timezone.now()
        self._cleaner = RowCleaner(table, self.mapping)
        self._extra_keys = {name: normalizers.fold(name) for name in self._cleaner.extra_names}
        self._tag_keys = TagKeys()
        self._index = ContactIndex(self.planned)
        # When set (see writing.ConcurrentWriter), each chunk's new contacts
        # are sent to it as soon as the chunk is planned.
        self.send: Callable[[list[Planned], list[tuple]], None] | None = None
        self._unsent: list[Planned] = []
        self.conflicts = conflicts
        # A preview's account of each row (preview.RowLog), or None.
        self.outcomes = outcomes
        self._report = RowReport(result=result, conflicts=conflicts, outcomes=outcomes, aliases=self._index.aliases, tags=self._tag_keys.tags)

    def plan(self):
        """Read and check every row, match it, and decide what it does; a
        chunk of rows at a time. Returns the result."""
        chunk = []
        clean = self._cleaner.clean
        for number, cells in self.table.rows:
            chunk.append(clean(number, cells))
            if len(chunk) == CHUNK:
                self._plan_rows(chunk)
                chunk = []
        self._plan_rows(chunk)
        self._decide()
        self.progress(self.result.rows)
        self.table = None  # the reader's copy of the sheet is no longer needed
        return self.result

    def release_index(self) -> None:
        """Let go of what matching needed (every value of the file, the
        contacts found and their tables) once the plan is made: the
        writing then has that memory."""
        self._index = self._report = None

    def _plan_rows(self, rows: list[Row]) -> None:
        self._index.match(rows)
        result = self.result
        for row in rows:
            if not row.error:
                self._apply(row)
            if row.error:
                result.rejected += 1
                result.errors.append((row.number, row.cells, row.error))
                if self.outcomes is not None:
                    self.outcomes.add("rejected", row.number, "", message=row.error, notes=row.warnings)
            elif row.warnings:
                result.warned += 1
                result.warnings.append((row.number, row.cells, row.warnings))
        result.rows += len(rows)
        if self._unsent:
            self._send_new()
        if rows:
            self.progress(result.rows)
        gc.collect(0)  # this chunk's cycles, if any (see importing._without_full_collections)

    def _apply(self, row: Row) -> None:
        """Fold a row into the contact it is (an existing one, one planned
        by an earlier row, or a new one), and count it once, for what it
        did: the row that brings a new contact created it; a later row
        about the same person, or a row about an existing one, updated it
        or left it unchanged."""
        planned, matched_by = self._index.contact_of(row.values)
        if self._refused(row, planned):
            return
        report = self._report
        notes = report.notes(row) if self.outcomes is not None else ()
        created_here = planned.is_new and not planned.rows
        if not planned.is_new and (clashes := report.conflicting(row, planned)):
            report.conflict(row, planned, matched_by, clashes, notes)
            if self.conflicts != OVERWRITE:
                return
        was = report.snapshot(planned) if self.outcomes is not None and not created_here else None
        before = None if created_here else planned.state()
        if created_here:
            self.planned.append(planned)
            if self.send is not None:
                self._unsent.append(planned)
        elif planned.is_new and planned.contact.pk is not None:
            planned.resend = True  # sent as an earlier chunk left it: written again at the end
        planned.rows += 1
        self._fold(row, planned)
        if created_here:
            self.result.created += 1
            kind = "created"
        elif planned.state() != before:
            self.result.updated += 1
            planned.updated_rows += 1
            kind = "updated"
        else:
            self.result.unchanged += 1
            kind = "unchanged"
        if self.outcomes is not None:
            report.outcome(kind, row, planned, was, notes)

    def _refused(self, row: Row, planned: Planned) -> bool:
        """A value that another contact already holds would be a duplicate."""
        values = row.values
        for key in UNIQUE_FIELDS:
            value = values.get(key)
            if not value:
                continue
            holder = self._index.named(key, value)
            if holder is not None and holder is not planned:
                row.error = _("%(field)s %(value)s already belongs to another contact (%(name)s).") % {
                    "field": label(key),
                    "value": value,
                    "name": holder.contact.name,
                }
                return True
        return False

    def _fold(self, row: Row, planned: Planned) -> None:
        contact = planned.contact
        aliases = self._index.aliases
        for name, value in row.values.items():
            if (name, value) in aliases:
                continue  # the survivor's earlier address: its own number stays
            if getattr(contact, name) != value:  # an equal value stays the same object, shared with `original`
                setattr(contact, name, value)
        if not contact.name:
            # A new contact without a name is named by its names or company,
            # else as the desk names one that has talked to it: by its
            # number (or other identity).
            contact.name = (
                row.default_name or normalizers.format_phone(contact.number) or contact.email or contact.telegram_id or contact.cpf_cnpj
            )
        # The operator's wallet applies to every row; else the row's own.
        if self.wallet is not None:
            contact.wallet_id = self.wallet.pk
        elif row.wallet is not None:
            contact.wallet_id = row.wallet.pk
        if row.tags or self.tag:
            for name in (row.tags or []) + ([self.tag] if self.tag else []):
                planned.add_tag(self._tag_keys.key(name))
            planned.tags = self._tag_keys.shared(planned.tags)
        for name, value in (row.extras or {}).items():
            planned.set_extra(self._extra_keys[name], name, value)
        self._index.add(planned)

    def _send_new(self) -> None:
        """Send the contacts the chunk just planned creates, as they are
        now, with their ids (drawn here: the writer's connection is busy
        with the COPY)."""
        part = self._unsent
        rows = list(new_contact_rows(part, self.now))
        self._unsent = []
        self.send(part, rows)

    def _decide(self) -> None:
        for planned in self.planned:
            if not planned.is_new:
                now = field_values(planned.contact)
                planned.changed = {name for name, was, value in zip(PLANNED_FIELDS, planned.original, now, strict=True) if value != was}
                original = planned.original_extras or {}
                planned.changed_extras = {extra.key for extra in planned.extras if extra.key in original and original[extra.key] != extra.value}
                if planned.updated_rows and not planned.changes():
                    # Rows that changed it back and forth left it as it was.
                    self.result.updated -= planned.updated_rows
                    self.result.unchanged += planned.updated_rows


class ContactIndex:
    """The planned contact each identity value names: one an earlier row
    planned, or one in the database (found a chunk of rows at a time by the
    Matcher, and planned when a row first names it)."""

    def __init__(self, planned: list[Planned]):
        self._planned = planned  # the planner's list: a stored contact joins it when first named
        # Per identity field, value -> the planned contact it names.
        self._by_key: dict[str, dict[str, Planned]] = {key: {} for key in IDENTITY_ORDER}
        self._matcher = Matcher(self._by_key)
        self._existing = self._matcher.existing
        self.aliases = self._matcher.aliases
        self._planned_by_pk: dict[int, Planned] = {}

    def match(self, rows: list[Row]) -> None:
        self._matcher.match(rows)

    def contact_of(self, values: dict) -> tuple[Planned, str]:
        """The contact the row is, and the field that found it ("" for a new one)."""
        for key in IDENTITY_ORDER:
            value = values.get(key)
            if not value:
                continue
            planned = self.named(key, value)
            if planned is not None:
                return planned, key
        return Planned(PlainContact(), is_new=True), ""

    def named(self, key: str, value: str) -> Planned | None:
        """The planned contact whose field `key` holds `value`, if any."""
        planned = self._by_key[key].get(value)
        if planned is None and value in self._existing[key]:
            planned = self._plan_existing(self._existing[key][value])
        return planned

    def add(self, planned: Planned) -> None:
        """The contact's values, as a row left them, name it for the rows after."""
        contact = planned.contact
        for key in IDENTITY_ORDER:
            value = getattr(contact, key)
            if value:
                self._by_key[key][_lower(value) if key == "email" else value] = planned

    def _plan_existing(self, contact: PlainContact) -> Planned:
        planned = self._planned_by_pk.get(contact.pk)
        if planned is None:
            # Taken from the matcher's tables, not copied: a hundred
            # thousand contacts found weigh as little as possible.
            tags = tuple(self._matcher.tags.pop(contact.pk, ()))
            extras = tuple(self._matcher.extras.pop(contact.pk, {}).values())
            planned = Planned(contact, is_new=False, original=field_values(contact), tags=tags, original_tags=tags, extras=extras)
            if extras:
                planned.original_extras = {extra.key: extra.value for extra in extras}
            self._planned_by_pk[contact.pk] = planned
            self._planned.append(planned)
        return planned


class TagKeys:
    """The key a planned contact keeps for a tag the file names: an
    existing tag's id, or the name of one to create (one key per name in
    any case, "VIP" and "vip" alike, written as first met and shared by
    every contact that gets it)."""

    def __init__(self):
        self.tags = {tag.name.casefold(): tag for tag in Tag.objects.all()}
        self._keys: dict[str, int | tuple] = {}
        self._new_tags = 0
        self._combinations: dict[tuple, tuple] = {}

    def shared(self, keys: tuple) -> tuple:
        """The contact's tags as the first contact with the same ones
        holds them: a file has few combinations of tags, and many rows."""
        shared = self._combinations.get(keys)
        if shared is None:
            if len(self._combinations) < SHARED_TEXTS:
                self._combinations[keys] = keys
            return keys
        return shared

    def key(self, name: str):
        folded = name.casefold()
        key = self._keys.get(folded)
        if key is None:
            tag = self.tags.get(folded)
            if tag is None:
                self._new_tags += 1
                if self._new_tags > settings.IMPORT_MAX_NEW_TAGS:
                    raise SpreadsheetError(
                        ngettext(
                            "The file would create more than %(limit)s new tag; an import creates at most %(limit)s. "
                            "Check the tags column (is it the right one?) or create the tags first, and import again.",
                            "The file would create more than %(limit)s new tags; an import creates at most %(limit)s. "
                            "Check the tags column (is it the right one?) or create the tags first, and import again.",
                            settings.IMPORT_MAX_NEW_TAGS,
                        )
                        % {"limit": settings.IMPORT_MAX_NEW_TAGS}
                    )
            key = self._keys[folded] = tag.pk if tag is not None else ("new", folded, name)
        return key


class RowReport:
    """What the preview and the command say about a row, beyond its counts:
    its notes (its warnings, a number an earlier row had), the conflicts it
    raises and, for a preview (`outcomes`, a preview.RowLog), what it did
    and each change it made."""

    def __init__(self, *, result, conflicts: str, outcomes, aliases: set, tags: dict):
        self.result = result
        self.conflicts = conflicts
        self.outcomes = outcomes
        self._aliases = aliases
        # Number -> the first row of the file that has it (for a preview
        # only: the import itself need not carry it).
        self._number_rows: dict[str, int] = {}
        self._tag_names = {tag.pk: tag.name for tag in tags.values()} if outcomes is not None else {}

    def notes(self, row: Row) -> list[str]:
        """The row's warnings, and a number an earlier row of the file
        already had (the rows then become one contact: worth a look)."""
        notes = row.warnings
        number = row.values.get("number")
        if number:
            first = self._number_rows.setdefault(number, row.number)
            if first != row.number:
                self.result.repeated_numbers += 1
                notes = [*notes, _("The number %(number)s is also in row %(row)d.") % {"number": normalizers.format_phone(number), "row": first}]
        return notes

    def conflicting(self, row: Row, planned: Planned) -> list[tuple[str, str, str]]:
        """(field, old, new) of a stored contact's filled number, Telegram
        id or CPF/CNPJ the row would replace: a row found by another of its
        values that would turn the contact into someone else. (Rows of the
        file about a contact it creates are one person's, the last row's
        values winning: the preview shows each change.)"""
        contact = planned.contact
        clashes = []
        for key in UNIQUE_FIELDS:
            value = row.values.get(key)
            old = getattr(contact, key)
            if value and old and value != old and (key, value) not in self._aliases:
                clashes.append((key, old, value))
        return clashes

    def conflict(self, row: Row, planned: Planned, matched_by: str, clashes: list, notes: list) -> None:
        value = row.values[matched_by]
        found = {"name": planned.contact.name, "field": label(matched_by), "value": normalizers.format_phone(value) if matched_by == "number" else value}
        message = _("Found as %(name)s by the field %(field)s (%(value)s); the file would replace %(changes)s.") % {
            **found,
            "changes": ", ".join(
                _("%(field)s %(old)s with %(new)s")
                % {
                    "field": label(key),
                    "old": normalizers.format_phone(old) if key == "number" else old,
                    "new": normalizers.format_phone(new) if key == "number" else new,
                }
                for key, old, new in clashes
            ),
        }
        self.result.conflict_rows.append((row.number, message))
        if self.conflicts == OVERWRITE:
            return  # applied: the row is counted, and listed, as the update it is
        self.result.conflicts += 1
        if self.outcomes is not None:
            # The preview lists the replaced values below the sentence.
            message = _("Found as %(name)s by the field %(field)s (%(value)s).") % found
            self.outcomes.add("conflict", row.number, planned.contact.name, changes=clashes, message=message, notes=notes)

    @staticmethod
    def snapshot(planned: Planned) -> tuple:
        extras = {extra.key: extra.value for extra in planned.extras}
        return field_values(planned.contact), planned.tags, extras

    def outcome(self, kind: str, row: Row, planned: Planned, was: tuple | None, notes) -> None:
        """What the row did to its contact, for the preview; `was` is the
        contact's snapshot before the row (None for one the row created)."""
        changes = self._changes(was or ((None,) * len(PLANNED_FIELDS), (), {}), planned)
        self.outcomes.add(kind, row.number, planned.contact.name, changes=changes, notes=notes)

    def _changes(self, was: tuple, planned: Planned) -> list[tuple]:
        """(field, old, new) for each field the row changed; a new contact's
        are its values (old None)."""
        fields, tags, extras = was
        now = field_values(planned.contact)
        changes = [(name, old, new) for name, old, new in zip(PLANNED_FIELDS, fields, now, strict=True) if old != new and (old or new)]
        added = [key for key in planned.tags if key not in tags]
        if added:
            changes.append(("tags", None, [key[2] if isinstance(key, tuple) else self._tag_names.get(key, "") for key in added]))
        for extra in planned.extras:
            if extras.get(extra.key) != extra.value:
                changes.append((EXTRA + extra.name, extras.get(extra.key), extra.value))
        return changes


class Matcher:
    """The contacts in the database that rows name (by number, Telegram id,
    CPF/CNPJ, e-mail, or an address a merge left to its survivor), read a
    chunk of rows at a time, with their tags and extra fields."""

    def __init__(self, planned: dict[str, dict[str, Planned]]):
        self._planned = planned  # the planner's: values earlier rows already name
        # Per identity field, value -> the contact in the database that has it.
        self.existing: dict[str, dict[str, PlainContact]] = {key: {} for key in IDENTITY_ORDER}
        self.found: dict[int, PlainContact] = {}
        self.tags: dict[int, set] = {}
        self.extras: dict[int, dict] = {}
        self.aliases: set[tuple[str, str]] = set()  # (field, value) matched through ContactIdentity

    def match(self, rows: list[Row]) -> None:
        """Find the contacts the rows refer to that earlier rows did not
        already find: a query per field for the whole chunk."""
        wanted = self._wanted(rows)
        found_by: dict[int, list[str]] = {}  # contact id -> the fields it was found by
        for key, values in wanted.items():
            for pk in _contact_ids(key, list(values)):
                found_by.setdefault(pk, []).append(key)
        # A number or Telegram id that a merge of duplicates left to its
        # survivor is the survivor's (if no contact holds it as its own).
        aliased = []
        for kind in ("number", "telegram_id"):
            aliased += [(kind, value, pk) for value, pk in _aliases(kind, list(wanted[kind]))]
        for _kind, _value, pk in aliased:
            found_by.setdefault(pk, [])
        self._read([pk for pk in found_by if pk not in self.found])
        # Oldest first: of several contacts with one e-mail, the oldest is the one.
        for pk in sorted(found_by, key=lambda pk: (self.found[pk].created_at, pk)):
            contact = self.found[pk]
            for key in found_by[pk]:
                value = getattr(contact, key)
                self.existing[key].setdefault(_lower(value) if key == "email" else value, contact)
        for kind, value, pk in aliased:
            self.existing[kind].setdefault(value, self.found[pk])
            self.aliases.add((kind, value))

    def _wanted(self, rows: list[Row]) -> dict[str, set]:
        wanted = {key: set() for key in IDENTITY_ORDER}
        for row in rows:
            if not row.error:
                for key in IDENTITY_ORDER:
                    value = row.values.get(key)
                    if value and value not in self._planned[key] and value not in self.existing[key]:
                        wanted[key].add(value)
        return wanted

    def _read(self, ids: list[int]) -> None:
        """The contacts, their tags and extra fields, as plain objects read
        with values_list: model instances weighed many times more."""
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            for values in Contact.objects.filter(pk__in=part).values_list(*CONTACT_COLUMNS):
                self.found[values[0]] = PlainContact(*values)
            for contact_id, tag_id in Contact.tags.through.objects.filter(contact_id__in=part).values_list("contact_id", "tag_id"):
                self.tags.setdefault(contact_id, set()).add(tag_id)
            for pk, contact_id, name, value in CustomField.objects.filter(contact_id__in=part).values_list("id", "contact_id", "name", "value"):
                key = normalizers.fold(name)
                self.extras.setdefault(contact_id, {})[key] = PlainExtra(name=name, value=value, key=key, pk=pk, contact_id=contact_id)


def _lower(text: str) -> str:
    """The text in lower case, the same object when it already is (as
    every stored address is): one copy less of each address kept."""
    return text if text.islower() else text.lower()


def _contact_ids(key: str, values: list[str]) -> list[int]:
    """The ids of the contacts whose `key` is one of `values`, as stored:
    canonical, like the values (an e-mail in lower case). A contact stored
    otherwise by older data is for the duplicate search to find; looking
    for it here (LOWER(email)) read the whole table for every chunk."""
    # Excluding blanks lets the database use the partial (unique) index.
    column = connection.ops.quote_name(key)
    return [pk for (pk,) in database.select_where_in(Contact, "id", f"{column} <> '' AND {column}", values)]


def _aliases(kind: str, values: list[str]) -> list[tuple[str, int]]:
    """(value, contact id) of the earlier addresses of `kind` among `values`."""
    return database.select_where_in(ContactIdentity, "value, contact_id", f"kind = '{kind}' AND value", values)
