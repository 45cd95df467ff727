"""The spreadsheet columns of a contact, shared by the import and the export
(as pretix's import columns): each declares its header aliases, its label,
its export header and how it cleans its own cell, by the field's rule.

The export headers are a contract: files exported once must import again.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import normalizers, rules
from ..models import Contact, Wallet

IGNORE = ""  # the mapping of a column that is left out
EXTRA = "extra:"  # a mapping to an extra field: "extra:<name>"


@dataclass(frozen=True)
class Context:
    """What cleaning a cell needs to know beyond the cell: read once per
    import."""

    today: date
    wallets: dict[str, Wallet]  # by name, case-folded
    # A group's number is the provider's group id, not a phone: an
    # exported group comes back by it.
    group_numbers: frozenset[str] | set[str]


class Column:
    """A contact field as a spreadsheet column. clean() takes the cell's
    text (read, invisible marks removed, trimmed; never empty) and the value
    as the file holds it, and returns what the row stores, or None for
    nothing; it raises ValidationError for a cell it cannot take."""

    def __init__(self, field: str, label, header: str, aliases: tuple[str, ...]):
        self.field = field
        self.label = label
        self.header = header
        self.aliases = aliases

    def clean(self, text: str, raw, context: Context):
        raise NotImplementedError


class TextColumn(Column):
    """Free text, no longer than the model's field."""

    def __init__(self, *args):
        super().__init__(*args)
        self.limit = Contact._meta.get_field(self.field).max_length

    def clean(self, text, raw, context):
        value = rules.text(text)
        if len(value) > self.limit:
            raise ValidationError(_("%(field)s is longer than %(limit)d characters.") % {"field": self.label, "limit": self.limit})
        return value


class NumberColumn(Column):
    def clean(self, text, raw, context):
        group = normalizers.only_digits(text) if context.group_numbers else ""
        if group in context.group_numbers:
            return group
        return rules.number(text)


class DocumentColumn(Column):
    def clean(self, text, raw, context):
        return rules.cpf_cnpj(_digits_document(normalizers.clean_code(text)))


class EmailColumn(Column):
    def clean(self, text, raw, context):
        return rules.email(text, validate=True)


class TelegramColumn(Column):
    def clean(self, text, raw, context):
        return rules.telegram_id(text)


class DateColumn(Column):
    def clean(self, text, raw, context):
        return rules.birth_date(_cell_date(text, raw), today=context.today)


class WalletColumn(Column):
    def clean(self, text, raw, context):
        wallet = context.wallets.get(text.casefold())
        if wallet is None:
            raise ValidationError(_("There is no wallet named “%(name)s”.") % {"name": text})
        return wallet


# More in one cell is a list pasted into the wrong column, not tags: the
# row is refused rather than the tag list flooded.
MAX_TAGS_PER_CELL = 20


class TagsColumn(Column):
    def clean(self, text, raw, context):
        names = list(dict.fromkeys(" ".join(t.split())[:50] for t in re.split(r"[,;]", text) if t.strip()))
        if len(names) > MAX_TAGS_PER_CELL:
            raise ValidationError(
                _("The tags cell names %(count)d tags (“%(start)s…”); a contact takes at most %(limit)d in an import.")
                % {"count": len(names), "start": ", ".join(names[:3]), "limit": MAX_TAGS_PER_CELL}
            )
        return names


_DECLARED = {
    column.field: column
    for column in (
        TextColumn("name", gettext_lazy("Name"), "Nome", ("nome", "name", "nome completo", "contato", "full name")),
        NumberColumn(
            "number",
            gettext_lazy("Number"),
            "Número",
            ("numero", "number", "telefone", "celular", "whatsapp", "phone", "fone", "tel", "telefone celular", "mobile"),
        ),
        EmailColumn("email", gettext_lazy("E-mail"), "E-mail", ("e mail", "email", "correio eletronico")),
        DocumentColumn(
            "cpf_cnpj", gettext_lazy("CPF/CNPJ"), "CPF/CNPJ", ("cpf cnpj", "cpf", "cnpj", "documento", "document", "cpf ou cnpj")
        ),
        DateColumn(
            "birth_date",
            gettext_lazy("Birth date"),
            "Data de Nascimento",
            ("data de nascimento", "nascimento", "aniversario", "birth date", "birthdate", "birthday", "data nascimento", "date of birth"),
        ),
        TextColumn("first_name", gettext_lazy("First name"), "Primeiro Nome", ("primeiro nome", "first name", "prenome")),
        TextColumn("last_name", gettext_lazy("Last name"), "Sobrenome", ("sobrenome", "last name", "surname", "ultimo nome")),
        TextColumn("company", gettext_lazy("Company"), "Empresa", ("empresa", "company", "organizacao", "organization")),
        WalletColumn("wallet", gettext_lazy("Wallet"), "Carteira", ("carteira", "wallet")),
        TagsColumn("tags", gettext_lazy("Tags"), "Etiquetas", ("etiquetas", "etiqueta", "tags", "tag")),
        TelegramColumn("telegram_id", gettext_lazy("Telegram id"), "Id Telegram", ("id telegram", "telegram id", "telegram", "telegram_id")),
    )
}
#: The columns in the order of the contact's fields (a photo has none).
COLUMNS = [_DECLARED[name] for name in rules.CONTACT_FIELDS if name in _DECLARED]
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
COLUMN_BY_ALIAS = {alias: column.field for column in COLUMNS for alias in column.aliases}
FIELDS = [column.field for column in COLUMNS]
#: The export's header row, before one column per extra field.
HEADERS = [column.header for column in COLUMNS]
#: The order a row's cells are cleaned in: a row with several wrong cells
#: reports the first.
CLEANING_ORDER = ("name", "first_name", "last_name", "company", "number", "telegram_id", "cpf_cnpj", "email", "birth_date", "wallet", "tags")
assert sorted(CLEANING_ORDER) == sorted(FIELDS), "every column is cleaned"


def label(field: str) -> str:
    return str(COLUMN_BY_FIELD[field].label)


def header_key(text: str) -> str:
    """"E-mail", "EMAIL", "e_mail" -> "e mail": case, accents and
    punctuation aside."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", normalizers.fold(text)).split())


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
                raise ValidationError(_("Two columns are set to “%(field)s”; choose it for one column only.") % {"field": COLUMN_BY_FIELD[choice].label})
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


def _cell_date(text: str, raw) -> date | None:
    """A date cell, or a date written as Brazilians write it, or Excel's
    serial number of a date."""
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
