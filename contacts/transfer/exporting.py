"""Exporting contacts as .xlsx (written row by row, flat memory whatever the
size) or .csv (UTF-8 with BOM, ";"), with the header row the importer reads
back: a contract.

No cell is ever a formula: .xlsx text cells are written as text. A .csv
has no cell types, so a cell that a spreadsheet would read as a number or
a formula is written as a formula whose whole content is one quoted text
constant, ="+5511987654321": Excel and LibreOffice show the text as it is,
with no mark, and nothing in it can be evaluated (see csv_text). The rows
come in the list's order. Characters Excel refuses are dropped.
"""

import csv
import functools
import io
import re
import tempfile
from collections.abc import Callable, Iterator

from django.db.models import Q, QuerySet

from .. import normalizers
from ..models import Contact, CustomField
from .columns import HEADERS
from .reading import FORMULA_START

#: A CSV cell starting with one of these is escaped (csv_text): it would be
#: a formula, or the apostrophe would be taken for the escape.
ESCAPED_START = (*FORMULA_START, "'")

CHUNK = 5000
NOTHING: dict = {}

#: XlsxWriter options for every workbook we write: text stays text, never a
#: formula, a number or a link.
XLSX_TEXT_ONLY = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}

# What Excel refuses in a cell: control characters other than tab and newlines.
_EXCEL_REFUSES = dict.fromkeys([c for c in range(32) if c not in (9, 10, 13)] + [0xFFFE, 0xFFFF])
_SURROGATES = re.compile("[\ud800-\udfff]")


def excel_text(value: str) -> str:
    """Text as Excel accepts it: control characters and non-characters
    removed (also lone surrogates, which cannot be encoded)."""
    text = str(value)
    if text.isascii() and text.isprintable():
        return text  # most text: nothing to remove, and an export has millions
    return _SURROGATES.sub("", text.translate(_EXCEL_REFUSES))


# What Excel and LibreOffice turn into a number or a date when a CSV is
# opened: a phone loses its "+" and its leading zeros, a long id its last
# digits ("1,19871E+10"), "(11)" becomes -11 and "10:30" a time.
_NUMBER_LIKE = re.compile(r"[0-9 ().,/:%+-]*[0-9][0-9 ().,/:%+-]*")
_NUMBER_FIRST = frozenset("0123456789(.,")
# Excel refuses a text constant longer than this inside a formula.
_FORMULA_TEXT_MAX = 255


def csv_text(value: str) -> str:
    """A CSV cell that a spreadsheet shows as the text it is, never as a
    number and never as a formula that runs.

    A cell that looks like a number, or starts like a formula (= + - @, a
    tab, a carriage return) or with an apostrophe, is written ="text", with
    its quotes doubled: a formula whose only content is a text constant,
    which Excel and LibreOffice show without any mark and which can compute
    nothing else (OWASP's leading apostrophe stays visible in LibreOffice
    and on a phone's "+"). Excel limits such a constant to 255 characters
    and a line break does not survive it, so a longer or multi-line cell
    that starts like a formula gets OWASP's leading apostrophe instead.
    The import undoes both (reading.unescape_csv_text).
    """
    text = excel_text(value)
    if not text:
        return text
    escape = text.startswith(ESCAPED_START)
    if not escape and not (text[0] in _NUMBER_FIRST and _NUMBER_LIKE.fullmatch(text)):
        return text  # most cells: a name, an e-mail
    quoted = text.replace('"', '""')
    if len(quoted) <= _FORMULA_TEXT_MAX and "\n" not in text and "\r" not in text:
        return f'="{quoted}"'
    return "'" + text if escape else text


def extra_field_names(queryset: QuerySet) -> list[str]:
    """One column per extra-field name, in the order they first appear;
    names that differ only in case or accents are one column."""
    names = {}
    for name in (
        CustomField.objects.filter(contact__in=queryset.order_by().values("pk"))
        .values_list("name", flat=True)
        .distinct()
        .order_by("name")
    ):
        names.setdefault(normalizers.fold(name), name)
    return list(names.values())


def _after(order: list[str], values: tuple) -> Q:
    """The rows that come after `values` in `order` (a keyset: each page
    starts where the one before ended, however deep). The first key's
    range comes first, on its own: both databases read it from the list
    order's index, where the OR alone could make them sort every row."""
    condition = Q()
    for index, field in enumerate(order):
        name = field.lstrip("-")
        step = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": values[index]})
        for earlier, value in zip(order[:index], values, strict=False):
            step &= Q(**{earlier.lstrip("-"): value})
        condition |= step
    first = order[0]
    return Q(**{f"{first.lstrip('-')}__{'lte' if first.startswith('-') else 'gte'}": values[0]}) & condition


def _pages(queryset: QuerySet, fields: list[str]) -> Iterator[tuple[QuerySet, list[tuple]]]:
    """The queryset CHUNK rows at a time in its own order (the list's:
    name or newest first), each page as (its rows' queryset, the rows'
    `fields` values)."""
    order = [field for field in (queryset.query.order_by or Contact._meta.ordering) if isinstance(field, str)]
    if not {"id", "-id", "pk", "-pk"} & set(order):
        order.append("id")  # a unique last key: no row is skipped or repeated
    keys = [field.lstrip("-") for field in order]
    ordered = queryset.order_by(*order)
    last = None
    while True:
        page_queryset = (ordered.filter(_after(order, last)) if last else ordered)[:CHUNK]
        page = list(page_queryset.values_list(*fields, *keys))
        if not page:
            return
        last = page[-1][len(fields) :]
        yield page_queryset, page


def export_rows(parts: list[QuerySet], extras: list[str]) -> Iterator[list]:
    """The data rows in the list's order, part after part (a name search
    lists the names that start with its first word first), read a chunk
    at a time: a page of contacts, then their tags and extra fields in one
    query each."""
    extra_index = {normalizers.fold(name): i for i, name in enumerate(extras)}
    fold = functools.lru_cache(maxsize=1024)(normalizers.fold)  # a handful of names, a million times
    fields = ["pk", "name", "number", "email", "cpf_cnpj", "birth_date", "first_name", "last_name", "company", "wallet__name", "telegram_id", "is_group"]
    for part in parts:
        for page_queryset, page in _pages(part, fields):
            # The page's tags and extra fields by the page's own query, not
            # by a list of its ids: thousands of parameters cost more to
            # send than the query takes to run.
            of_page = {"contact_id__in": page_queryset.values("pk")}
            tags = {}
            for contact_id, tag in Contact.tags.through.objects.filter(**of_page).order_by("tag__name").values_list("contact_id", "tag__name"):
                tags.setdefault(contact_id, []).append(tag)
            values = {}
            for contact_id, name, value in CustomField.objects.filter(**of_page).values_list("contact_id", "name", "value"):
                values.setdefault(contact_id, {})[extra_index[fold(name)]] = value
            for pk, name, number, email, document, birth, first, last_name, company, wallet, telegram, is_group, *_keys in page:
                extra_cells = [""] * len(extras)
                for index, value in values.get(pk, NOTHING).items():
                    extra_cells[index] = value
                yield [
                    name,
                    number if is_group or not number else f"+{number}",
                    email,
                    document,
                    birth,
                    first,
                    last_name,
                    company,
                    wallet or "",
                    ", ".join(tags.get(pk, [])),
                    telegram,
                    *extra_cells,
                ]


def write_xlsx(queryset: QuerySet, *, parts: list[QuerySet] | None = None, progress: Callable[[int], None] | None = None):
    """An .xlsx of the queryset in a temporary file (rewound), written with
    XlsxWriter's constant-memory mode: one row in memory at a time. The
    rows follow the queryset's order, or come part after part (`parts`,
    which together are the queryset)."""
    import xlsxwriter

    extras = extra_field_names(queryset)
    output = tempfile.TemporaryFile()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            **XLSX_TEXT_ONLY,
            "default_date_format": "dd/mm/yyyy",
            "tmpdir": tempfile.gettempdir(),
        },
    )
    sheet = workbook.add_worksheet("Contatos")
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    headers = HEADERS + extras
    for column, header in enumerate(headers):
        sheet.write_string(0, column, excel_text(header), bold)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 17)
    sheet.set_column(2, 2, 30)
    sheet.set_column(3, len(headers) - 1, 16)
    count = 0
    write_string, write_datetime = sheet.write_string, sheet.write_datetime  # a million rows: lookups add up
    for count, row in enumerate(export_rows(parts or [queryset], extras), start=1):
        for column, value in enumerate(row):
            if value:
                if column == 4:
                    write_datetime(count, 4, value, date_format)
                else:
                    write_string(count, column, excel_text(value))
        if progress and count % CHUNK == 0:
            progress(count)
    sheet.freeze_panes(1, 0)
    workbook.close()
    output.seek(0)
    return output, count


def write_csv(queryset: QuerySet, *, parts: list[QuerySet] | None = None, progress: Callable[[int], None] | None = None):
    """A .csv (UTF-8 with BOM, ";") in a temporary file, rewound; the rows
    in order as write_xlsx's."""
    extras = extra_field_names(queryset)
    output = tempfile.TemporaryFile()
    text = io.TextIOWrapper(output, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in HEADERS + extras])
    count = 0
    for count, row in enumerate(export_rows(parts or [queryset], extras), start=1):
        writer.writerow(
            [value.strftime("%d/%m/%Y") if column == 4 and value else csv_text(value or "") for column, value in enumerate(row)]
        )
        if progress and count % CHUNK == 0:
            progress(count)
    text.flush()
    text.detach()
    output.seek(0)
    return output, count
