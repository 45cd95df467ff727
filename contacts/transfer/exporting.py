"""Exporting contacts as .xlsx (written row by row, flat memory whatever the
size) or .csv (UTF-8 with BOM, ";"), with the header row the importer reads
back: a contract.

No cell is ever a formula: .xlsx text cells are written as text, and .csv
cells that a spreadsheet would read as a formula get a leading apostrophe
(the importer removes it). Characters Excel refuses are dropped.
"""

import csv
import functools
import io
import re
import tempfile
from collections.abc import Callable, Iterator

from django.db.models import QuerySet

from .. import normalizers
from ..models import Contact, CustomField
from .columns import HEADERS
from .reading import FORMULA_START

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


def csv_text(value: str) -> str:
    """A CSV cell that no spreadsheet turns into a formula: a leading
    apostrophe, which the import removes again
    (reading.unescape_csv_text)."""
    text = excel_text(value)
    return "'" + text if text.startswith(FORMULA_START) else text


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


def export_rows(queryset: QuerySet, extras: list[str]) -> Iterator[list]:
    """The data rows, in list order, read a chunk at a time: a page of
    contacts, then their tags and extra fields in one query each."""
    extra_index = {normalizers.fold(name): i for i, name in enumerate(extras)}
    fold = functools.lru_cache(maxsize=1024)(normalizers.fold)  # a handful of names, a million times
    fields = ["pk", "name", "number", "email", "cpf_cnpj", "birth_date", "first_name", "last_name", "company", "wallet__name", "telegram_id", "is_group"]
    last = None
    contacts = queryset.order_by("pk")
    while True:
        page = list((contacts.filter(pk__gt=last) if last else contacts).values_list(*fields)[:CHUNK])
        if not page:
            return
        # The page's tags and extra fields by the page's own condition, not
        # by a list of its ids: two thousand parameters cost more to send
        # than the query takes to run.
        span = {"pk__gt": last or 0, "pk__lte": page[-1][0]}
        of_page = {"contact_id__gt": last or 0, "contact_id__lte": page[-1][0], "contact_id__in": contacts.filter(**span).order_by().values("pk")}
        last = page[-1][0]
        tags = {}
        for contact_id, tag in Contact.tags.through.objects.filter(**of_page).order_by("tag__name").values_list("contact_id", "tag__name"):
            tags.setdefault(contact_id, []).append(tag)
        values = {}
        for contact_id, name, value in CustomField.objects.filter(**of_page).values_list("contact_id", "name", "value"):
            values.setdefault(contact_id, {})[extra_index[fold(name)]] = value
        for pk, name, number, email, document, birth, first, last_name, company, wallet, telegram, is_group in page:
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


def write_xlsx(queryset: QuerySet, *, progress: Callable[[int], None] | None = None):
    """An .xlsx of the queryset in a temporary file (rewound), written with
    XlsxWriter's constant-memory mode: one row in memory at a time."""
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
    for count, row in enumerate(export_rows(queryset, extras), start=1):
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


def write_csv(queryset: QuerySet, *, progress: Callable[[int], None] | None = None):
    """A .csv (UTF-8 with BOM, ";") in a temporary file, rewound."""
    extras = extra_field_names(queryset)
    output = tempfile.TemporaryFile()
    text = io.TextIOWrapper(output, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in HEADERS + extras])
    count = 0
    for count, row in enumerate(export_rows(queryset, extras), start=1):
        writer.writerow(
            [value.strftime("%d/%m/%Y") if column == 4 and value else csv_text(value or "") for column, value in enumerate(row)]
        )
        if progress and count % CHUNK == 0:
            progress(count)
    text.flush()
    text.detach()
    output.seek(0)
    return output, count
