"""The spreadsheet columns of a contact, shared by the import and the export
(as pretix's import columns): each declares its header aliases, its label,
its export header and how it cleans its own cell, by the field's rule.

The export headers are a contract: files exported once must import again.
"""

import functools
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
    nothing; it raises ValidationError for a cell it cannot take.

    A cell it cannot take costs its row when the column says who the
    contact is (or who may see it); an optional one costs only its value,
    and the row is imported without it, with a warning."""

    optional = False
    # Whether values repeat down the column, and are worth keeping once.
    repeats = False

    def __init__(self, field: str, label, header: str, aliases: tuple[str, ...]):
        self.field = field
        self.label = label
        self.header = header
        self.aliases = aliases

    def clean(self, text: str, raw, context: Context):
        raise NotImplementedError

    def is_optional(self, values: dict) -> bool:
        """Whether the row can do without this cell, given the values
        cleaned before it (see CLEANING_ORDER)."""
        return self.optional


class TextColumn(Column):
    """Free text, no longer than the model's field."""

    optional = True
    repeats = True  # a company, a first name: kept once (see planning.RowCleaner)

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
        check_digits_kept(text, raw)
        group = normalizers.only_digits(text) if context.group_numbers else ""
        if group in context.group_numbers:
            return group
        return rules.number(text)


class DocumentColumn(Column):
    def clean(self, text, raw, context):
        check_digits_kept(text, raw)
        return rules.cpf_cnpj(_digits_document(normalizers.clean_code(text)))


class EmailColumn(Column):
    def clean(self, text, raw, context):
        return rules.email(text, validate=True)

    def is_optional(self, values):
        # The e-mail identifies a row only when nothing else does.
        return any(values.get(key) for key in ("number", "telegram_id", "cpf_cnpj"))


class TelegramColumn(Column):
    def clean(self, text, raw, context):
        check_digits_kept(text, raw)
        return rules.telegram_id(text)


class DateColumn(Column):
    optional = True

    def clean(self, text, raw, context):
        return rules.birth_date(_cell_date(text, raw, today=context.today), today=context.today)


class WalletColumn(Column):
    """Not optional: the wallet decides who sees the contact, and a row
    imported without it would be seen by every agent."""

    def clean(self, text, raw, context):
        wallet = context.wallets.get(text.casefold())
        if wallet is None:
            raise ValidationError(_("There is no wallet with this name."))
        return wallet


# More in one cell is a list pasted into the wrong column, not tags: the
# row is refused rather than the tag list flooded.
MAX_TAGS_PER_CELL = 20


# Google Contacts separates labels with " ::: " and lists its own system
# groups ("* myContacts", "* starred"; "myContacts" in its Outlook CSV)
# among them: those are not tags.
TAG_SEPARATORS = re.compile(r"[,;]|\s:::\s")


def _is_system_label(name: str) -> bool:
    return name.startswith("*") or name.casefold() == "mycontacts"


class TagsColumn(Column):
    def clean(self, text, raw, context):
        names = [" ".join(t.split())[:50] for t in TAG_SEPARATORS.split(text)]
        names = list(dict.fromkeys(name for name in names if name and not _is_system_label(name)))
        if len(names) > MAX_TAGS_PER_CELL:
            raise ValidationError(
                _("The tags cell names %(count)d tags (“%(start)s…”); a contact takes at most %(limit)d in an import.")
                % {"count": len(names), "start": ", ".join(names[:3]), "limit": MAX_TAGS_PER_CELL}
            )
        return names


# Of several phone columns, the number is the one the export names
# "Número" (a file exported once imports again), else one named for a
# mobile, else one named for any phone: a sheet with "Telefone" and
# "Celular" reaches people on WhatsApp at the mobile, and the landline
# stays as an extra field.
NUMBER_ALIASES = ("numero", "number")
MOBILE_ALIASES = (
    "celular", "whatsapp", "mobile", "cel", "telefone celular", "mobile phone", "cell", "cell phone", "cellphone",
    "numero do celular", "numero do whatsapp", "whatsapp number", "movel", "telemovel",
)  # fmt: skip
PHONE_ALIASES = (
    "telefone", "fone", "phone", "tel", "phone number", "telefone 1", "telefone principal",
    "phone 1 value",  # Google Contacts: the first phone
    "primary phone",  # Outlook
)  # fmt: skip
# Other phones: never guessed as the number, but where a row whose number
# cell is empty finds it (see other_phone_columns).
OTHER_PHONE = re.compile(
    r"telefone (fixo|residencial|comercial|\d+)|fixo|(home|business|other|company main) phone( \d+)?|phone \d+ value|telefone \d+"
)

_DECLARED = {
    column.field: column
    for column in (
        TextColumn(
            "name", gettext_lazy("Name"), "Nome", ("nome", "name", "nome completo", "contato", "full name", "display name", "nome de exibicao")
        ),
        NumberColumn("number", gettext_lazy("Number"), "Número", NUMBER_ALIASES + MOBILE_ALIASES + PHONE_ALIASES),
        EmailColumn(
            "email",
            gettext_lazy("E-mail"),
            "E-mail",
            (
                "e mail", "email", "correio eletronico", "endereco de e mail", "endereco de email",
                "e mail 1 value",  # Google Contacts
                "e mail address", "email address",  # Outlook
            ),
        ),  # fmt: skip
        DocumentColumn(
            "cpf_cnpj", gettext_lazy("CPF/CNPJ"), "CPF/CNPJ", ("cpf cnpj", "cpf", "cnpj", "documento", "document", "cpf ou cnpj")
        ),
        DateColumn(
            "birth_date",
            gettext_lazy("Birth date"),
            "Data de Nascimento",
            ("data de nascimento", "nascimento", "aniversario", "birth date", "birthdate", "birthday", "data nascimento", "date of birth"),
        ),
        TextColumn(
            "first_name", gettext_lazy("First name"), "Primeiro Nome", ("primeiro nome", "first name", "prenome", "given name", "nome proprio")
        ),
        TextColumn(
            "last_name", gettext_lazy("Last name"), "Sobrenome", ("sobrenome", "last name", "surname", "ultimo nome", "family name")
        ),
        TextColumn(
            "company",
            gettext_lazy("Company"),
            "Empresa",
            ("empresa", "company", "organizacao", "organization", "organization name", "organization 1 name", "company name"),
        ),
        WalletColumn("wallet", gettext_lazy("Wallet"), "Carteira", ("carteira", "wallet")),
        TagsColumn(
            "tags",
            gettext_lazy("Tags"),
            "Etiquetas",
            ("etiquetas", "etiqueta", "tags", "tag", "labels", "marcadores", "group membership", "categories", "categorias"),
        ),
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

#: A middle name has no field: it stays an extra field, and is part of
#: the name of a contact the row creates without naming it.
MIDDLE_NAME_ALIASES = frozenset({"middle name", "additional name", "segundo nome", "nome do meio"})
#: Columns that are not about the person, left out of the guess: the
#: import's own report columns (a report fixed and sent again), the kind
#: of the value beside ("Phone 1 - Label": "Mobile"), Outlook's settings.
LEFT_OUT = re.compile(
    r"erro|error|aviso|avisos|warning|warnings"
    r"|(e mail|phone|address|website|im|relation|event|organization|custom field)( \d+)? (type|label|display name)"
    r"|sensitivity|priority|private|internet free busy|directory server|billing information|mileage"
)
#: Contacts exporters write several values of one kind in one cell with
#: this between them (Google Contacts: "Phone 1 - Value": "a ::: b").
MULTIPLE = " ::: "
#: What Outlook writes in a cell it has nothing for.
PLACEHOLDERS = frozenset({"0/0/00", "0/0/0000", "Unspecified"})


def label(field: str) -> str:
    return str(COLUMN_BY_FIELD[field].label)


def header_key(text: str) -> str:
    """"E-mail", "EMAIL", "e_mail" -> "e mail": case, accents and
    punctuation aside."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", normalizers.fold(text)).split())


def extra_name(header: str) -> str:
    """The extra field a column fills: its header, single-spaced, without
    the " - Value" Google Contacts puts after each kind ("Phone 2")."""
    name = " ".join(header.split())
    if name.casefold().endswith(" - value"):
        name = name[: -len(" - value")]
    return name[:100]


def is_middle_name(header: str) -> bool:
    return header_key(header) in MIDDLE_NAME_ALIASES


def other_phone_columns(headers: list[str], mapping: list[str]) -> list[int]:
    """The phone columns that are extra fields, in the order a row whose
    number cell is empty takes its number from them (a mobile, a phone,
    then a landline): a sheet of mobiles and landlines loses no row that
    has only a landline. None when no column is the number."""
    if "number" not in mapping:
        return []
    keys = [header_key(header) for header in headers]
    extras = [i for i, target in enumerate(mapping) if target.startswith(EXTRA) and i < len(keys)]
    tiers = (
        lambda key: key in NUMBER_ALIASES or key in MOBILE_ALIASES,
        lambda key: key in PHONE_ALIASES,
        lambda key: OTHER_PHONE.fullmatch(key) is not None,
    )
    return [i for tier in tiers for i in extras if tier(keys[i])]


def guess_mapping(headers: list[str]) -> list[str]:
    """For each column, the contact field it fills: a known header (in pt-BR
    or English, any case and accents; Google Contacts' and Outlook's
    exports), else an extra field of that name. Of several phone columns,
    one named for a mobile is the number; the others, and a second column
    for any field, are extra fields."""
    keys = [header_key(header) for header in headers]
    number = next((i for aliases in (NUMBER_ALIASES, MOBILE_ALIASES, PHONE_ALIASES) for i, key in enumerate(keys) if key in aliases), None)
    mapping, taken = [], set()
    for index, (header, key) in enumerate(zip(headers, keys, strict=True)):
        field_name = COLUMN_BY_ALIAS.get(key)
        if field_name == "number" and index != number:
            field_name = None
        if field_name and field_name not in taken:
            taken.add(field_name)
            mapping.append(field_name)
        elif header.strip() and not LEFT_OUT.fullmatch(key):
            mapping.append(EXTRA + extra_name(header))
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


# Excel shows a long number in a column formatted as a number as
# "1,19871E+10", and a CSV it saves keeps only that: the digits are gone.
SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
# Excel keeps 15 significant digits of a number: no phone, CPF or CNPJ
# has more, so a number beyond is one that lost digits.
EXCEL_DIGITS = 10**15


def check_digits_kept(text: str, raw) -> None:
    """Raise ValidationError for a cell of digits that Excel turned into
    a number and cut."""
    if (isinstance(raw, float) and abs(raw) >= EXCEL_DIGITS) or (("E" in text or "e" in text) and SCIENTIFIC.fullmatch(text.replace(" ", ""))):
        raise ValidationError(
            _(
                "The column was formatted as a number in the spreadsheet, which lost digits. "
                "Format the column as text, type the numbers again (or export the file again) and send it again."
            ),
            code="lost_digits",
        )


def _digits_document(text: str) -> str:
    """A CPF or CNPJ that Excel kept as a number lost its leading zeros."""
    if text.isdigit():
        if len(text) <= 11:
            return text.zfill(11)
        if len(text) <= 14:
            return text.zfill(14)
    return text


# Excel's serial number of a day: 1 is 01/01/1900. Excel counts a 29th of
# February 1900 that never was (serial 60), so from serial 61 on the days
# are counted from 30/12/1899, and before it from 31/12/1899.
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_FAKE_LEAP_DAY = 60
EXCEL_LAST_SERIAL = 2958465  # 31/12/9999
# 09/03/1990, 9-3-90, 09.03.1990: day, month, year (two or four digits).
DAY_MONTH_YEAR = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
# 1990-03-09, as ISO and Google Contacts write it (maybe with a time),
# or 1990/03/09.
YEAR_MONTH_DAY = re.compile(r"(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
# A birthday without its year: Google Contacts' "--03-09", or "09/03".
WITHOUT_YEAR = re.compile(r"--\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}")
EARLIEST_YEAR = 1900
# A birth date is one of some 40,000 days: the rows of a large file share
# each day's object (32 bytes a row, a hundred thousand rows kept).
_day = functools.lru_cache(maxsize=40_000)(date)


def _cell_date(text: str, raw, *, today: date) -> date | None:
    """A date cell, a date written as Brazilians write it (a two-digit
    year in the past: "01/01/68" is 1968), as ISO writes it, or Excel's
    serial number of a date. Raises ValidationError saying what is
    wrong."""
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        day, month, year = raw.day, raw.month, raw.year
    elif not text or text in PLACEHOLDERS:
        return None
    elif match := DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
        if len(match[4]) == 2:
            year = _past_year(year, month, day, today)
    elif match := YEAR_MONTH_DAY.fullmatch(text):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    elif WITHOUT_YEAR.fullmatch(text):
        raise ValidationError(
            _("A birth date without the year cannot be kept: the field needs the day, the month and the year."), code="no_year"
        )
    elif (serial := _excel_serial(text, today)) is not None:
        if serial == EXCEL_FAKE_LEAP_DAY:
            raise ValidationError(_("There is no such date: use dd/mm/yyyy, like 01/01/1990."), code="invalid_date")
        day = EXCEL_EPOCH + timedelta(days=serial if serial > EXCEL_FAKE_LEAP_DAY else serial + 1)
        return _day(day.year, day.month, day.day)
    else:
        raise ValidationError(_("Use dd/mm/yyyy, like 01/01/1990."), code="date_format")
    if year < EARLIEST_YEAR:
        raise ValidationError(_("Years before 1900 are not accepted."), code="too_old")
    try:
        return _day(year, month, day)
    except ValueError:
        raise ValidationError(_("There is no such date: use dd/mm/yyyy, like 01/01/1990."), code="invalid_date") from None


def _excel_serial(text: str, today: date) -> int | None:
    """A number alone, as Excel's serial number of a day; not one that
    reads as a year (a year alone is not a birth date)."""
    if not re.fullmatch(r"\d{1,7}(\.0+)?", text):
        return None
    serial = int(float(text))
    if 1 <= serial <= EXCEL_LAST_SERIAL and not EARLIEST_YEAR <= serial <= today.year:
        return serial
    return None


def _past_year(year: int, month: int, day: int, today: date) -> int:
    """A two-digit year of a birth date: this century's unless that is
    after today, then the last one's."""
    year += today.year // 100 * 100
    try:
        future = date(year, month, day) > today
    except ValueError:  # not a date: said by the caller
        future = year > today.year
    return year - 100 if future else year
