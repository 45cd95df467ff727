"""Importing contacts from a spreadsheet, in two phases (as pretix's
modelimport): columns are declared once, with their header aliases and a
clean per column; phase one reads and checks every row and decides, for
each, create / update / unchanged / rejected; phase two writes in batches,
in one transaction, with history and audit. A preview is phase one alone.
On PostgreSQL phase two begins during phase one: each chunk's new contacts
are written while the next chunk is planned (see _Writer).

Counts are true: created + updated + unchanged + rejected = data rows.
Importing the same file twice creates and changes nothing the second time.
"""

import contextvars
import dataclasses
import functools
import gc
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import batched
from operator import attrgetter

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.services import audit_record
from contacts_portal import database as bulk

from . import normalizers
from .history import custom_fields_bulk_record, history_bulk_record
from .models import Contact, ContactAlias, CustomField, Tag, Wallet
from .spreadsheets import Table, cell_text, unescape_csv_text

BATCH = 2000
CHUNK = 5000  # rows cleaned, matched and planned together
IGNORE = ""  # the mapping of a column that is left out


def header_key(text: str) -> str:
    """"E-mail", "EMAIL", "e_mail" -> "e mail": case, accents and
    punctuation aside."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", normalizers.fold(text)).split())


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...]


COLUMNS = [
    Column("name", gettext_lazy("Name"), ("nome", "name", "nome completo", "contato", "full name")),
    Column(
        "number",
        gettext_lazy("Number"),
        ("numero", "number", "telefone", "celular", "whatsapp", "phone", "fone", "tel", "telefone celular", "mobile"),
    ),
    Column("email", gettext_lazy("E-mail"), ("e mail", "email", "correio eletronico")),
    Column("cpf_cnpj", gettext_lazy("CPF/CNPJ"), ("cpf cnpj", "cpf", "cnpj", "documento", "document", "cpf ou cnpj")),
    Column(
        "birth_date",
        gettext_lazy("Birth date"),
        ("data de nascimento", "nascimento", "aniversario", "birth date", "birthdate", "birthday", "data nascimento", "date of birth"),
    ),
    Column("first_name", gettext_lazy("First name"), ("primeiro nome", "first name", "prenome")),
    Column("last_name", gettext_lazy("Last name"), ("sobrenome", "last name", "surname", "ultimo nome")),
    Column("company", gettext_lazy("Company"), ("empresa", "company", "organizacao", "organization")),
    Column("wallet", gettext_lazy("Wallet"), ("carteira", "wallet")),
    Column("tags", gettext_lazy("Tags"), ("etiquetas", "etiqueta", "tags", "tag")),
    Column("telegram_id", gettext_lazy("Telegram id"), ("id telegram", "telegram id", "telegram", "telegram_id")),
]
COLUMN_BY_ALIAS = {alias: column.field for column in COLUMNS for alias in column.aliases}
FIELDS = [column.field for column in COLUMNS]
EXTRA = "extra:"  # a mapping to an extra field: "extra:<name>"


def guess_mapping(headers: list[str]) -> list[str]:
    """For each column, the contact field it fills: a known header (in pt-BR
    or English, any case and accents), else an extra field of that name. A
    second column for the same field is an extra field too."""
    mapping, taken = [], set()
    for header in headers:
        field_name = COLUMN_BY_ALIAS.get(header_key(header))
        if field_name and field_name not in taken:
            taken.add(field_name)
            mapping.append(field_name)
        elif header.strip():
            mapping.append(EXTRA + " ".join(header.split())[:100])
        else:
            mapping.append(IGNORE)
    return mapping


def clean_mapping(headers: list[str], mapping: list[str]) -> list[str]:
    """A mapping as the user sent it, checked: one per column, known
    fields at most once. Raises ValidationError."""
    if len(mapping) != len(headers):
        raise ValidationError(_("The columns changed; upload the file again."))
    seen = set()
    cleaned = []
    for choice in mapping:
        if choice in FIELDS:
            if choice in seen:
                raise ValidationError(
                    _("Two columns are set to “%(field)s”; choose it for one column only.")
                    % {"field": next(c.label for c in COLUMNS if c.field == choice)}
                )
            seen.add(choice)
        elif choice.startswith(EXTRA):
            name = " ".join(choice[len(EXTRA) :].split())[:100]
            if not name:
                raise ValidationError(_("An extra field needs a name."))
            choice = EXTRA + name
        elif choice != IGNORE:
            raise ValidationError(_("Choose what each column holds."))
        cleaned.append(choice)
    if not {"name", "number", "telegram_id", "cpf_cnpj", "email"} & seen:
        raise ValidationError(_("Choose at least one column with the name, the number, the Telegram id, the CPF/CNPJ or the e-mail."))
    return cleaned


# Cell cleaning: each returns the stored value or raises ValidationError.


def _digits_document(text: str) -> str:
    """A CPF or CNPJ that Excel kept as a number lost its leading zeros."""
    if text.isdigit():
        if len(text) <= 11:
            return text.zfill(11)
        if len(text) <= 14:
            return text.zfill(14)
    return text


EXCEL_EPOCH = date(1899, 12, 30)
DAY_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _clean_date(text: str, raw) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if not text:
        return None
    if match := DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = map(int, match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValidationError(_("Birth date: use dd/mm/yyyy, like 01/01/1990.")) from None
    if re.fullmatch(r"\d{1,6}(\.0+)?", text):
        serial = int(float(text))
        if 1 <= serial <= 2958465:  # Excel's serial numbers: 1900-01-01 to 9999-12-31
            return EXCEL_EPOCH + timedelta(days=serial)
    for pattern in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValidationError(_("Birth date: use dd/mm/yyyy, like 01/01/1990."))


# Slots and shared empty containers: an import holds a hundred thousand of
# each of these at once (peak memory is a target, see benchmarks/).
NOTHING = frozenset()


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


CONTACT_COLUMNS = [field.attname for field in Contact._meta.concrete_fields]
_contact_values = attrgetter(*CONTACT_COLUMNS)
# Written again for a new contact a later row changed (see _Writer).
RESENT_FIELDS = [field.name for field in Contact._meta.concrete_fields if not field.primary_key and field.name != "created_at"]
# The fields a row can change, as Planned.changed names them.
CONTACT_FIELDS = [name for name in FIELDS if name != "tags"]
_field_values = attrgetter(*(name if name != "wallet" else "wallet_id" for name in CONTACT_FIELDS))


@dataclass(slots=True, eq=False)
class PlainContact:
    """What a Contact holds, without the cost of a model instance: a
    contact the import creates, or one it found (an import holds a hundred
    thousand; as model instances, those it updated weighed 3 KB each). The
    fields are the model's, in its order."""

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
    original: tuple | None = None  # of an existing one: its CONTACT_FIELDS' values
    changed: frozenset | set = NOTHING
    rows: int = 0  # rows of the file about this contact
    tags: tuple = ()  # tag ids, or keys of tags to create; a tuple weighs a quarter of a set
    original_tags: tuple = ()
    extras: dict | None = None  # folded name -> PlainExtra
    original_extras: dict | None = None
    changed_extras: frozenset | set = NOTHING
    new_extras: list | None = None
    updated_rows: int = 0  # rows counted as updating it (see _decide)
    resend: bool = False  # a new contact changed after it was sent (see _Writer)

    def add_tag(self, key) -> None:
        if key not in self.tags:
            self.tags += (key,)

    def set_extra(self, key: str, name: str, value: str) -> None:
        extra = self.extras.get(key) if self.extras else None
        if extra is not None:
            extra.value = value
            return
        extra = PlainExtra(name=name, value=value)
        if self.extras is None:
            self.extras = {}
        self.extras[key] = extra
        if self.new_extras is None:
            self.new_extras = []
        self.new_extras.append(extra)

    def extra_values(self) -> list[str]:
        return [extra.value for extra in self.extras.values()] if self.extras else []


UNIQUE_FIELDS = ("number", "telegram_id", "cpf_cnpj")
IDENTITY_ORDER = ("number", "telegram_id", "cpf_cnpj", "email")


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list = field(default_factory=list)  # (row number, cells, message)
    headers: list = field(default_factory=list)

    def counts(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


class _EmailValidator(EmailValidator):
    """Django's e-mail check, with its patterns compiled up front (the lazy
    ones cost a proxy call per use) and each domain checked once: an import
    checks a hundred thousand addresses on a handful of domains."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def validate_domain_part(domain_part):
        return validate_email.validate_domain_part(domain_part)


_validate_email = _EmailValidator()


class Importer:
    """One import: a table, a mapping, options. `plan()` is phase one,
    `write()` phase two."""

    def __init__(
        self,
        table: Table,
        *,
        mapping: list[str] | None = None,
        wallet: Wallet | None = None,
        tag: str = "",
        progress: Callable[[int], None] | None = None,
    ):
        self.table = table
        self.mapping = mapping or guess_mapping(table.headers)
        self.wallet = wallet
        self.tag = " ".join((tag or "").split())
        self.progress = progress or (lambda done: None)
        self.result = ImportResult(headers=table.headers)
        self.planned: list[Planned] = []
        self._fields = [(index, target) for index, target in enumerate(self.mapping) if target and not target.startswith(EXTRA)]
        self._extras = [(index, target[len(EXTRA) :]) for index, target in enumerate(self.mapping) if target.startswith(EXTRA)]
        self._folded_extras = {name: normalizers.fold(name) for _index, name in self._extras}
        self._limits = {name: Contact._meta.get_field(name).max_length for name in ("name", "first_name", "last_name", "company", "email")}
        self._today = date.today()
        self._wallets = {w.name.casefold(): w for w in Wallet.objects.all()}
        self._tags = {tag.name.casefold(): tag for tag in Tag.objects.all()}
        self._tag_keys: dict[str, int | tuple] = {}
        # Per identity field, value -> the planned contact it names, and
        # value -> the contact in the database that has it.
        self._by_key: dict[str, dict[str, Planned]] = {key: {} for key in IDENTITY_ORDER}
        self._existing: dict[str, dict[str, PlainContact]] = {key: {} for key in IDENTITY_ORDER}
        self._found: dict[int, PlainContact] = {}
        self._existing_tags: dict[int, set] = {}
        self._existing_extras: dict[int, dict] = {}
        self._planned_by_pk: dict[int, Planned] = {}
        self._aliases: set[tuple[str, str]] = set()  # (field, value) matched through ContactAlias
        # A group's number is the provider's group id, not a phone: an
        # exported group comes back by it.
        self._group_numbers = set(Contact.objects.filter(is_group=True).exclude(number="").values_list("number", flat=True))
        self._now = timezone.now()
        # When set (see _Writer), each chunk's new contacts are sent to it
        # as soon as the chunk is planned.
        self._send: Callable[[list[tuple]], None] | None = None
        self._unsent: list[Planned] = []

    # Phase one

    def plan(self) -> ImportResult:
        """Read and check every row, match it, and decide what it does; a
        chunk of rows at a time, so that only the plan stays in memory."""
        chunk = []
        for number, cells in self.table.rows:
            chunk.append(self._clean(number, cells))
            if len(chunk) == CHUNK:
                self._plan_rows(chunk)
                chunk = []
        self._plan_rows(chunk)
        self._decide()
        self.progress(self.result.rows)
        self.table = None  # the reader's copy of the sheet is no longer needed
        return self.result

    def _plan_rows(self, rows: list[Row]) -> None:
        self._match(rows)
        result = self.result
        for row in rows:
            if not row.error:
                self._apply(row)
            if row.error:
                result.rejected += 1
                result.errors.append((row.number, row.cells, row.error))
        result.rows += len(rows)
        if self._unsent:
            self._send_new()
        if rows:
            self.progress(result.rows)
        gc.collect(0)  # this chunk's cycles, if any (see _without_full_collections)

    def _clean(self, number: int, cells: list) -> Row:
        row = Row(number, cells)
        is_csv = self.table.kind == "csv"
        width = len(cells)
        for index, name in self._extras:
            if index < width:
                text = cell_text(cells[index])
                if is_csv:
                    text = unescape_csv_text(text)
                if text:
                    if row.extras is None:
                        row.extras = {}
                    row.extras[name] = text[:500]
        if number in self.table.formula_rows:
            row.error = _("A cell has a formula without a calculated value; open the file in Excel, save it and send it again.")
            return row
        raw_values = {}
        for index, target in self._fields:
            if index < width:
                raw = cells[index]
                text = cell_text(raw)
                if is_csv:
                    text = unescape_csv_text(text)
                raw_values[target] = (text, raw)
        try:
            self._clean_values(row, raw_values)
        except ValidationError as error:
            row.error = " ".join(error.messages)
        else:
            row.cells = None  # only the error report needs the cells
        return row

    def _clean_values(self, row: Row, raw: dict) -> None:
        values = row.values = {}
        text = {key: normalizers.clean_text(value[0]).strip() for key, value in raw.items()}
        for name in ("name", "first_name", "last_name", "company"):
            if text.get(name):
                value = " ".join(text[name].split())
                if len(value) > self._limits[name]:
                    raise ValidationError(
                        _("%(field)s is longer than %(limit)d characters.")
                        % {"field": _column_label(name), "limit": self._limits[name]}
                    )
                values[name] = value
        if text.get("number"):
            group = normalizers.only_digits(text["number"]) if self._group_numbers else ""
            if group in self._group_numbers:
                values["number"] = group
            else:
                values["number"] = normalizers.normalize_phone(text["number"])
        if text.get("telegram_id"):
            values["telegram_id"] = normalizers.normalize_telegram_id(text["telegram_id"])
        if text.get("cpf_cnpj"):
            values["cpf_cnpj"] = normalizers.normalize_document(_digits_document(normalizers.clean_code(text["cpf_cnpj"])))
        if text.get("email"):
            email = normalizers.clean_code(text["email"]).strip().lower()
            try:
                _validate_email(email)
            except ValidationError:
                raise ValidationError(_("Enter a valid e-mail address.")) from None
            if len(email) > self._limits["email"]:
                raise ValidationError(_("Enter a valid e-mail address."))
            values["email"] = email
        if "birth_date" in raw:
            birth = _clean_date(text.get("birth_date", ""), raw["birth_date"][1])
            if birth:
                if birth > self._today:
                    raise ValidationError(_("The birth date cannot be in the future."))
                values["birth_date"] = birth
        if text.get("wallet"):
            wallet = self._wallets.get(text["wallet"].casefold())
            if wallet is None:
                raise ValidationError(_("There is no wallet named “%(name)s”.") % {"name": text["wallet"]})
            row.wallet = wallet
        if text.get("tags"):
            row.tags = [" ".join(t.split())[:50] for t in re.split(r"[,;]", text["tags"]) if t.strip()]
        if not any(values.get(key) for key in IDENTITY_ORDER):
            raise ValidationError(_("The row has no number, Telegram id, CPF/CNPJ nor e-mail to identify the contact."))

    def _match(self, rows: list[Row]) -> None:
        """Find the existing contacts the rows refer to (by number, Telegram
        id, CPF/CNPJ, e-mail) that earlier rows did not already find: a
        query per field for the whole chunk."""
        wanted = {key: set() for key in IDENTITY_ORDER}
        for row in rows:
            if not row.error:
                for key in IDENTITY_ORDER:
                    value = row.values.get(key)
                    if value and value not in self._by_key[key] and value not in self._existing[key]:
                        wanted[key].add(value)
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
        new_ids = [pk for pk in found_by if pk not in self._found]
        for start in range(0, len(new_ids), 900):
            ids = new_ids[start : start + 900]
            for values in Contact.objects.filter(pk__in=ids).values_list(*CONTACT_COLUMNS):
                self._found[values[0]] = PlainContact(*values)
            for contact_id, tag_id in Contact.tags.through.objects.filter(contact_id__in=ids).values_list("contact_id", "tag_id"):
                self._existing_tags.setdefault(contact_id, set()).add(tag_id)
            for pk, contact_id, name, value in CustomField.objects.filter(contact_id__in=ids).values_list("id", "contact_id", "name", "value"):
                extra = PlainExtra(name=name, value=value, pk=pk, contact_id=contact_id)
                self._existing_extras.setdefault(contact_id, {})[normalizers.fold(name)] = extra
        # Oldest first: of several contacts with one e-mail, the oldest is the one.
        for pk in sorted(found_by, key=lambda pk: (self._found[pk].created_at, pk)):
            contact = self._found[pk]
            for key in found_by[pk]:
                value = getattr(contact, key)
                self._existing[key].setdefault(value.lower() if key == "email" else value, contact)
        for kind, value, pk in aliased:
            self._existing[kind].setdefault(value, self._found[pk])
            self._aliases.add((kind, value))

    def _apply(self, row: Row) -> None:
        """Fold a row into the contact it is (an existing one, one planned
        by an earlier row, or a new one)."""
        values = row.values
        planned = None
        for key in IDENTITY_ORDER:
            value = values.get(key)
            if not value:
                continue
            planned = self._by_key[key].get(value)
            if planned is None and value in self._existing[key]:
                planned = self._plan_existing(self._existing[key][value])
            if planned is not None:
                break
        if planned is None:
            planned = Planned(PlainContact(), is_new=True)
        # A value that another contact already holds would be a duplicate.
        for key in UNIQUE_FIELDS:
            value = values.get(key)
            if not value:
                continue
            holder = self._by_key[key].get(value)
            if holder is None and value in self._existing[key]:
                holder = self._plan_existing(self._existing[key][value])
            if holder is not None and holder is not planned:
                row.error = _("%(field)s %(value)s already belongs to another contact (%(name)s).") % {
                    "field": _column_label(key),
                    "value": value,
                    "name": holder.contact.name,
                }
                return
        created_here = planned.is_new and not planned.rows
        before = None if created_here else self._state(planned)
        if created_here:
            self.planned.append(planned)
            if self._send is not None:
                self._unsent.append(planned)
        elif planned.is_new and planned.contact.pk is not None:
            planned.resend = True  # sent as an earlier chunk left it: written again at the end
        planned.rows += 1
        contact = planned.contact
        for name, value in values.items():
            if (name, value) in self._aliases:
                continue  # the survivor's earlier address: its own number stays
            if getattr(contact, name) != value:  # an equal value stays the same object, shared with `original`
                setattr(contact, name, value)
        if not contact.name:
            # A new contact without a name is named as the desk names one
            # that has talked to it: by its number (or other identity).
            full = " ".join(filter(None, (contact.first_name, contact.last_name)))
            contact.name = full or normalizers.format_phone(contact.number) or contact.email or contact.telegram_id or contact.cpf_cnpj
        # The operator's wallet applies to every row; else the row's own.
        if self.wallet is not None:
            contact.wallet_id = self.wallet.pk
        elif row.wallet is not None:
            contact.wallet_id = row.wallet.pk
        for name in (row.tags or []) + ([self.tag] if self.tag else []):
            planned.add_tag(self._tag_key(name))
        for name, value in (row.extras or {}).items():
            planned.set_extra(self._folded_extras[name], name, value)
        for key in IDENTITY_ORDER:
            value = getattr(contact, key)
            if value:
                self._by_key[key][value.lower() if key == "email" else value] = planned
        # Each row counts once, for what it did: the row that brings a new
        # contact created it; a later row about the same person, or a row
        # about an existing one, updated it or left it unchanged.
        if created_here:
            self.result.created += 1
        elif self._state(planned) != before:
            self.result.updated += 1
            planned.updated_rows += 1
        else:
            self.result.unchanged += 1

    @staticmethod
    def _state(planned: Planned) -> tuple:
        contact = planned.contact
        return (
            _field_values(contact),
            frozenset(planned.tags),
            tuple(sorted((key, extra.value) for key, extra in (planned.extras or {}).items())),
        )

    def _plan_existing(self, contact: PlainContact) -> Planned:
        planned = self._planned_by_pk.get(contact.pk)
        if planned is None:
            # Taken from the look-up's tables, not copied: a hundred thousand
            # contacts found weigh as little as possible (see Planned).
            tags = tuple(self._existing_tags.pop(contact.pk, ()))
            extras = self._existing_extras.pop(contact.pk, None)
            planned = Planned(contact, is_new=False, original=_field_values(contact), tags=tags, original_tags=tags, extras=extras)
            if extras:
                planned.original_extras = {key: extra.value for key, extra in extras.items()}
            self._planned_by_pk[contact.pk] = planned
            self.planned.append(planned)
        return planned

    def _send_new(self) -> None:
        """Send the contacts the chunk just planned creates, as they are
        now, with their ids (drawn here: the writer's connection is busy
        with the COPY)."""
        rows = list(self._new_rows(self._unsent))
        self._unsent = []
        self._send(rows)

    def _new_rows(self, new: list[Planned]) -> Iterator[tuple]:
        """The rows of new contacts, their ids drawn and search columns made,
        one at a time as they are asked for."""
        for planned, pk in zip(new, bulk.allocate_ids(Contact, len(new)), strict=True):
            contact = planned.contact
            contact.pk = pk
            contact.created_at = contact.updated_at = self._now
            contact.refresh_search_fields(planned.extra_values())
            yield _contact_values(contact)

    def _tag_key(self, name: str):
        """An existing tag's id, or the name of one to create (one key per
        name, shared by every contact that gets it)."""
        key = self._tag_keys.get(name)
        if key is None:
            tag = self._tags.get(name.casefold())
            key = self._tag_keys[name] = tag.pk if tag is not None else ("new", name.casefold(), name)
        return key

    def _decide(self) -> None:
        for planned in self.planned:
            if not planned.is_new:
                contact = planned.contact
                now = _field_values(contact)
                planned.changed = {name for name, was, value in zip(CONTACT_FIELDS, planned.original, now, strict=True) if value != was}
                planned.changed_extras = {
                    key for key, value in (planned.original_extras or {}).items() if planned.extras[key].value != value
                }
                if planned.updated_rows and not self._changes(planned):
                    # Rows that changed it back and forth left it as it was.
                    self.result.updated -= planned.updated_rows
                    self.result.unchanged += planned.updated_rows

    @staticmethod
    def _changes(planned: Planned) -> bool:
        return bool(
            planned.is_new
            or planned.changed
            or _added_tags(planned)
            or planned.changed_extras
            or planned.new_extras
        )

    # Phase two

    @transaction.atomic
    def write(self) -> ImportResult:
        """Write the plan: new contacts, changed ones, tags, extra fields,
        their history; all or nothing. New rows go in with bulk.insert (the
        ORM's bulk_create compiles every value in Python, most of the time
        of a large import)."""
        self._lock_matched()
        tag_ids = self._create_tags()
        new = [p for p in self.planned if p.is_new]
        changed = [p for p in self.planned if not p.is_new and self._changes(p)]
        now = self._now
        if self._send is not None:
            # Sent while planning (see _Writer); those a later row changed
            # are written again as they are now.
            resent = [p for p in new if p.resend]
            for planned in resent:
                planned.contact.refresh_search_fields(planned.extra_values())
            bulk.update_rows(Contact, [p.contact for p in resent], RESENT_FIELDS)
        else:
            # Made as they are sent: on PostgreSQL the database indexes one
            # batch while the next is made.
            bulk.insert(Contact, CONTACT_COLUMNS, self._new_rows(new))
        self.progress(len(new))
        update_fields = sorted({name for p in changed for name in p.changed} | {"name_key", "search_text", "updated_at"})
        for planned in changed:
            planned.contact.refresh_search_fields(planned.extra_values())
            planned.contact.updated_at = now
        updated = [p.contact for p in changed]
        # Not the ORM's bulk_update: its CASE per field and row took 12 s
        # for 20,000 contacts on PostgreSQL.
        bulk.update_rows(Contact, updated, update_fields)
        # Tags: only added, never removed.
        links = [
            (p.contact.pk, tag_ids[key] if isinstance(key, tuple) else key)
            for p in new + changed
            for key in _added_tags(p)
        ]
        Through = Contact.tags.through
        links = [(pk, contact_id, tag_id) for pk, (contact_id, tag_id) in zip(bulk.allocate_ids(Through, len(links)), links, strict=True)]
        bulk.insert(Through, ["id", "contact_id", "tag_id"], links)
        # Extra fields.
        new_extras = []
        for planned in new + changed:
            for extra in planned.new_extras or ():
                extra.contact_id = planned.contact.pk
                new_extras.append(extra)
        for extra, pk in zip(new_extras, bulk.allocate_ids(CustomField, len(new_extras)), strict=True):
            extra.pk = pk
        bulk.insert(CustomField, ["id", "contact_id", "name", "value"], ((e.pk, e.contact_id, e.name, e.value) for e in new_extras))
        changed_extras = [p.extras[key] for p in changed for key in p.changed_extras]
        bulk.update_rows(CustomField, changed_extras, ["value"])
        # History: what each contact and extra field is now, by this import.
        new_ids = {p.contact.pk for p in new}
        history_bulk_record(
            contacts=[p.contact for p in new], created=True, tag_links=[link for link in links if link[1] in new_ids]
        )
        history_bulk_record(contacts=updated)
        custom_fields_bulk_record(fields=new_extras, created=True)
        custom_fields_bulk_record(fields=changed_extras)
        return self.result

    def _lock_matched(self) -> None:
        """Lock the contacts the plan updates, in id order like every bulk
        writer (a merge waits for the import, or the import for the merge).
        One merged or deleted since the plan was made raises ContactsChanged:
        the import is planned again from the file, and finds the survivor."""
        ids = sorted({p.contact.pk for p in self.planned if not p.is_new})
        locked = 0
        if connection.vendor == "postgresql":
            # The ids as arrays, in order (batches of ascending ids lock in
            # ascending order too): the ORM's IN prepared each id, 1.4 s
            # for 100,000.
            with connection.cursor() as cursor:
                for batch in batched(ids, bulk.BATCH):
                    cursor.execute(
                        f"SELECT id FROM {Contact._meta.db_table} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE", [list(batch)]
                    )
                    locked += len(cursor.fetchall())
        else:  # SQLite's one writer holds the whole database: nothing to lock, only to count
            for start in range(0, len(ids), 900):
                locked += Contact.objects.filter(pk__in=ids[start : start + 900]).count()
        if locked != len(ids):
            raise ContactsChanged

    def _create_tags(self) -> dict:
        wanted = {key: key[2] for p in self.planned for key in p.tags if isinstance(key, tuple)}
        ids = {}
        for key, name in wanted.items():
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
            ids[key] = tag.pk
        return ids





class _Writer(threading.Thread):
    """The write of an import on PostgreSQL, begun while the rows are still
    being planned: the database's work on the new contacts (their indexes,
    the trigram ones above all) then overlaps with Python's on the next
    rows. One after the other, 100,000 new contacts took 13 s here; side by
    side, 9 s (benchmarks/README.md).

    The writer has a connection and a transaction of its own (Django's
    connections are per thread). It keeps one COPY of new contacts open and
    writes each chunk's as the planner sends them; when the plan is done,
    it writes the rest (contacts a later row changed, updates, tags, extra
    fields, history, audit) in the same transaction, so the import is still
    all or nothing. Abandoned, or failing, it rolls back."""

    _DONE = object()
    _ABANDON = object()

    def __init__(self, finish: Callable[[], None]):
        super().__init__(name="contacts-import-writer", daemon=True)
        self._finish = finish
        self._queue = queue.SimpleQueue()
        self._context = contextvars.copy_context()  # who is importing, in what language
        self.error: BaseException | None = None

    def send(self, rows: list[tuple]) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(rows)

    def close(self, *, abandon: bool = False) -> None:
        """Finish the write (or abandon it) and wait for it; raises what
        the write raised."""
        self._queue.put(self._ABANDON if abandon else self._DONE)
        self.join()
        if self.error is not None and not abandon:
            raise self.error

    def run(self) -> None:
        self._context.run(self._write)

    def _write(self) -> None:
        try:
            with transaction.atomic():
                with bulk.Inserter(Contact, CONTACT_COLUMNS) as inserter:
                    while (rows := self._queue.get()) is not self._DONE:
                        if rows is self._ABANDON:
                            raise _Abandoned
                        inserter.write(rows)
                self._finish()
        except _Abandoned:
            pass
        except BaseException as error:  # raised again in the importing thread
            self.error = error
        finally:
            connection.close()


class _Abandoned(Exception):
    pass


def _plan_and_write(importer: Importer, *, finish: Callable[[], None]) -> ImportResult:
    """Plan with a _Writer writing meanwhile; then `finish` in its transaction."""
    writer = _Writer(finish)
    importer._send = writer.send
    writer.start()
    try:
        importer.plan()
    except BaseException:
        writer.close(abandon=True)
        raise
    writer.close()
    return importer.result


def _added_tags(planned: Planned) -> list:
    """Tags are only added, never removed."""
    return [key for key in planned.tags if key not in planned.original_tags]


def _contact_ids(key: str, values: list[str]) -> list[int]:
    """The ids of the contacts whose `key` is one of `values`, as stored:
    canonical, like the values (an e-mail in lower case). A contact stored
    otherwise by older data is for the duplicate search to find; looking
    for it here (LOWER(email)) read the whole table for every 5,000 rows."""
    # Excluding blanks lets the database use the partial (unique) index.
    column = connection.ops.quote_name(key)
    return [pk for (pk,) in _rows_where(Contact, "id", f"{column} <> '' AND {column}", values)]


def _aliases(kind: str, values: list[str]) -> list[tuple[str, int]]:
    """(value, contact id) of the earlier addresses of `kind` among `values`."""
    return _rows_where(ContactAlias, "value, contact_id", f"kind = '{kind}' AND value", values)


def _rows_where(model, select: str, condition: str, values: list[str]) -> list[tuple]:
    """SELECT `select` FROM `model`'s table WHERE `condition` is one of
    `values`, in plain SQL: the ORM prepares each value in Python, and the
    driver quotes a list element by element (a tenth of an import's time).
    On PostgreSQL the values travel as one text, split by the database
    (clean values never hold a line break)."""
    if not values:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    rows = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {select} FROM {table} WHERE {condition} = ANY(string_to_array(%s, chr(10)))", ["\n".join(values)])
            return cursor.fetchall()
        for start in range(0, len(values), 900):
            chunk = values[start : start + 900]
            cursor.execute(f"SELECT {select} FROM {table} WHERE {condition} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            rows += cursor.fetchall()
    return rows


def _column_label(name: str) -> str:
    return str(next(column.label for column in COLUMNS if column.field == name))


class ContactsChanged(Exception):
    """A contact the import matched was merged or deleted before it could
    be written; nothing was written."""


def import_file(*, read: Callable[[], Table], attempts: int = 3, **options) -> ImportResult:
    """import_contacts() on the table `read()` returns, read and planned
    again when contacts changed meanwhile: one it matched was merged away
    (the import then runs as if after the merge), or one with a number,
    Telegram id or CPF/CNPJ it was about to create was saved first (a sync,
    an inbound message: the import then updates that one)."""
    for attempt in range(attempts):
        try:
            return import_contacts(table=read(), **options)
        except (ContactsChanged, IntegrityError):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def import_contacts(*, table: Table, mapping=None, wallet=None, tag="", dry_run=False, file_name="", progress=None) -> ImportResult:
    """Import a table: plan it, and unless `dry_run`, write it and record
    the import in the audit trail. The caller sets the recording (who,
    through what)."""
    importer = Importer(table, mapping=mapping, wallet=wallet, tag=tag, progress=progress)

    def finish():
        importer.write()
        audit_record(
            action=AuditEvent.Action.IMPORT,
            parameters={"file": file_name, "wallet": wallet.name if wallet else "", "tag": tag, "mapping": importer.mapping},
            counts=importer.result.counts(),
        )

    with _without_full_collections():
        if dry_run:
            return importer.plan()
        # Inside a caller's transaction the import must be part of it: no
        # connection of its own then.
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            return _plan_and_write(importer, finish=finish)
        importer.plan()
        with transaction.atomic():
            finish()
    return importer.result


@contextmanager
def _without_full_collections():
    """The garbage collector's automatic passes off while an import runs: it
    makes a few hundred thousand objects that live until it ends, and the
    collector walked them all again and again (a fifth of the planning
    time). The few cycles an import makes (a rejected row's error) are
    young ones: plan() collects the youngest generation after each chunk."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rejected_rows(result: ImportResult) -> Iterable[list]:
    """The error report's rows: the original cells plus "Erro"."""
    yield [*result.headers, _("Error")]
    for _number, cells, message in result.errors:
        yield [*(cell_text(cell) for cell in cells), message]
