"""Importar with the files people really have: columns guessed as people
name them (a mobile and a landline, Google Contacts' and Outlook's
exports), a wrong optional cell that costs only its value (with a warning
naming the column and quoting the cell), dates as people write them, and
numbers that Excel turned into 1,19871E+10."""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st
from django.core.management import call_command
from django.urls import reverse
from python_calamine import CalamineWorkbook

from contacts.models import Contact, Tag
from contacts.tests.factories import ContactFactory
from contacts.tests.spreadsheet_files import csv_bytes, inline_row, minimal_xlsx, sheet_xml, xlsx
from contacts.tests.test_import import import_through_the_panel, run
from contacts.transfer.columns import COLUMN_BY_FIELD, EARLIEST_YEAR, Context, guess_mapping

pytestmark = pytest.mark.django_db

# Google Contacts' "Google CSV" export, as it is today and as it was
# (both are still in people's drives).
GOOGLE_HEADER = (
    "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,Name Prefix,Name Suffix,"
    "Nickname,File As,Organization Name,Organization Title,Organization Department,Birthday,Notes,Photo,Labels,"
    "E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,"
    "Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Formatted,Address 1 - Street,Address 1 - City,"
    "Address 1 - PO Box,Address 1 - Region,Address 1 - Postal Code,Address 1 - Country,Address 1 - Extended Address,"
    "Website 1 - Label,Website 1 - Value"
).split(",")
GOOGLE_OLD_HEADER = (
    "Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,Additional Name Yomi,Family Name Yomi,"
    "Name Prefix,Name Suffix,Initials,Nickname,Short Name,Maiden Name,Birthday,Gender,Location,Billing Information,"
    "Directory Server,Mileage,Occupation,Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,Group Membership,"
    "E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,"
    "Organization 1 - Type,Organization 1 - Name,Organization 1 - Yomi Name,Organization 1 - Title,"
    "Organization 1 - Department,Organization 1 - Symbol,Organization 1 - Location,Organization 1 - Job Description"
).split(",")
# Outlook's "Comma Separated Values" export.
OUTLOOK_HEADER = (
    "First Name,Middle Name,Last Name,Title,Suffix,Initials,Web Page,Gender,Birthday,Anniversary,Location,Language,"
    "Internet Free Busy,Notes,E-mail Address,E-mail 2 Address,E-mail 3 Address,Primary Phone,Home Phone,Home Phone 2,"
    "Mobile Phone,Pager,Home Fax,Home Address,Home Street,Home Street 2,Home Street 3,Home Address PO Box,Home City,"
    "Home State,Home Postal Code,Home Country,Spouse,Children,Manager's Name,Assistant's Name,Referred By,"
    "Company Main Phone,Business Phone,Business Phone 2,Business Fax,Assistant's Phone,Company,Job Title,Department,"
    "Office Location,Organizational ID Number,Profession,Account,Business Address,Business Street,Business Street 2,"
    "Business Street 3,Business Address PO Box,Business City,Business State,Business Postal Code,Business Country,"
    "Other Phone,Other Fax,Other Address,Other Street,Other Street 2,Other Street 3,Other Address PO Box,Other City,"
    "Other State,Other Postal Code,Other Country,Callback,Car Phone,ISDN,Radio Phone,TTY/TDD Phone,Telex,User 1,User 2,"
    "User 3,User 4,Keywords,Mileage,Hobby,Billing Information,Directory Server,Sensitivity,Priority,Private,Categories"
).split(",")


def row_of(header: list[str], **cells) -> list[str]:
    """A row of an export: the named cells, the others empty."""
    assert set(cells) <= set(header), set(cells) - set(header)
    return [cells.get(name, "") for name in header]


def csv_of(header, *rows) -> bytes:
    """A CSV as the exporters write it: commas, quotes where needed, UTF-8."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def extras(contact: Contact) -> dict:
    return dict(contact.custom_fields.values_list("name", "value"))


def report_rows(client, job) -> list[list]:
    response = client.get(reverse("jobs:file", args=[job.token, "report"]))
    assert response.status_code == 200
    return CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content))).get_sheet_by_index(0).to_python()


# Columns guessed as people name them


@pytest.mark.parametrize(
    "landline, mobile",
    [("Telefone", "Celular"), ("Fone", "WhatsApp"), ("Phone", "Mobile"), ("Tel", "Cel"), ("Telefone", "Telefone Celular")],
)
def test_of_a_landline_and_a_mobile_column_the_mobile_is_the_number_and_the_landline_an_extra_field(landline, mobile):
    content = csv_bytes([["Nome", landline, mobile], ["Maria", "(11) 3333-4444", "(11) 98765-4321"]])
    result = run(content)
    assert result.counts()["created"] == 1, result.errors
    maria = Contact.objects.get()
    assert maria.number == "5511987654321"
    assert extras(maria) == {landline: "(11) 3333-4444"}


def test_a_mobile_column_is_the_number_whichever_comes_first_and_the_exports_own_header_stays_the_number():
    assert guess_mapping(["Celular", "Telefone", "Nome"]) == ["number", "extra:Telefone", "name"]
    # A file exported once imports again: its "Número" is the number,
    # whatever extra fields it has.
    assert guess_mapping(["Nome", "Celular", "Número"]) == ["name", "extra:Celular", "number"]


def test_a_phone_column_alone_is_still_the_number():
    assert guess_mapping(["Nome", "Telefone"]) == ["name", "number"]
    assert guess_mapping(["Name", "Phone"]) == ["name", "number"]


# Google Contacts and Outlook, imported as they come


def test_a_google_contacts_export_imports_through_the_panel_with_the_guessed_columns(admin_client, django_capture_on_commit_callbacks):
    content = csv_of(
        GOOGLE_HEADER,
        row_of(
            GOOGLE_HEADER,
            **{
                "First Name": "Maria",
                "Middle Name": "Aparecida",
                "Last Name": "Souza",
                "Organization Name": "Padaria Pão Quente",
                "Organization Title": "Gerente",
                "Birthday": "1990-03-09",
                "Labels": "* myContacts ::: Clientes ::: * starred ::: VIP",
                "E-mail 1 - Label": "* Home",
                "E-mail 1 - Value": "maria@exemplo.com.br",
                "Phone 1 - Label": "Mobile",
                "Phone 1 - Value": "+55 11 98765-4321 ::: +55 11 3333-4444",
                "Phone 2 - Label": "Work",
                "Phone 2 - Value": "+55 11 2222-1111",
            },
        ),
        row_of(
            GOOGLE_HEADER,
            **{
                "Organization Name": "Oficina do Zé",
                "Birthday": "--03-09",
                "Labels": "* myContacts",
                "Phone 1 - Label": "Mobile",
                "Phone 1 - Value": "(21) 99876-5432",
            },
        ),
    )
    preview, job = import_through_the_panel(admin_client, content, name="contacts.csv", execute=django_capture_on_commit_callbacks)
    assert (preview.result["created"], preview.result["rejected"], preview.result["warned"]) == (2, 0, 1), preview.result
    assert (job.result["created"], job.result["rejected"], job.result["warned"]) == (2, 0, 1), job.result
    assert "1 linha será importada com aviso" in admin_client.get(preview.get_absolute_url()).content.decode()

    maria = Contact.objects.get(number="5511987654321")
    assert (maria.name, maria.first_name, maria.last_name, maria.company, maria.email, maria.birth_date) == (
        "Maria Aparecida Souza", "Maria", "Souza", "Padaria Pão Quente", "maria@exemplo.com.br", date(1990, 3, 9),
    )  # fmt: skip
    assert sorted(maria.tags.values_list("name", flat=True)) == ["Clientes", "VIP"]
    assert extras(maria) == {
        "Middle Name": "Aparecida",
        "Organization Title": "Gerente",
        "Phone 1 (2)": "+55 11 3333-4444",
        "Phone 2": "+55 11 2222-1111",
    }
    oficina = Contact.objects.get(number="5521998765432")
    assert (oficina.name, oficina.birth_date, oficina.tags.count()) == ("Oficina do Zé", None, 0)
    assert not Tag.objects.filter(name__startswith="*").exists()

    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "1 linha foi importada com aviso" in page
    report = report_rows(admin_client, job)
    assert report[0][-2:] == ["Erro", "Aviso"]
    assert len(report) == 2 and report[1][-2] == ""
    assert "Birthday “--03-09” ficou de fora" in report[1][-1] and "sem o ano" in report[1][-1]


def test_a_google_contacts_export_in_the_older_format_imports_with_the_guessed_columns():
    content = csv_of(
        GOOGLE_OLD_HEADER,
        row_of(
            GOOGLE_OLD_HEADER,
            **{
                "Name": "João Pereira",
                "Given Name": "João",
                "Family Name": "Pereira",
                "Birthday": "1985-11-30",
                "Group Membership": "* My Contacts ::: Fornecedores",
                "E-mail 1 - Type": "* Work",
                "E-mail 1 - Value": "joao@fornecedor.com.br ::: joao.pereira@gmail.com",
                "Phone 1 - Type": "Mobile",
                "Phone 1 - Value": "+55 31 99123-4567",
                "Phone 2 - Type": "Home",
                "Phone 2 - Value": "+55 31 3222-1111",
                "Organization 1 - Type": "Work",
                "Organization 1 - Name": "Fornecedor Ltda",
            },
        ),
    )
    result = run(content)
    assert result.counts() == {"rows": 1, "created": 1, "updated": 0, "unchanged": 0, "rejected": 0, "conflicts": 0}, result.errors
    assert result.warned == 0, result.warnings
    joao = Contact.objects.get()
    assert (joao.name, joao.number, joao.email, joao.company, joao.birth_date) == (
        "João Pereira", "5531991234567", "joao@fornecedor.com.br", "Fornecedor Ltda", date(1985, 11, 30),
    )  # fmt: skip
    assert list(joao.tags.values_list("name", flat=True)) == ["Fornecedores"]
    assert extras(joao) == {"E-mail 1 (2)": "joao.pereira@gmail.com", "Phone 2": "+55 31 3222-1111"}


def test_an_outlook_export_imports_with_the_guessed_columns_and_without_outlooks_placeholders():
    defaults = {"Gender": "Unspecified", "Birthday": "0/0/00", "Anniversary": "0/0/00", "Sensitivity": "Normal", "Priority": "Normal", "Private": "False"}
    content = csv_of(
        OUTLOOK_HEADER,
        row_of(
            OUTLOOK_HEADER,
            **defaults
            | {
                "First Name": "Ana",
                "Middle Name": "Maria",
                "Last Name": "Costa",
                "Company": "Costa & Filhos",
                "Job Title": "Diretora",
                "E-mail Address": "ana@costa.com.br",
                "Mobile Phone": "(11) 91234-5678",
                "Business Phone": "(11) 3000-1000",
                "Home Phone": "(11) 2000-3000",
                "Birthday": "9/3/1971",
                "Categories": "Clientes;VIP;myContacts",  # as Google's "Outlook CSV" lists its system group
            },
        ),
        row_of(OUTLOOK_HEADER, **defaults | {"Company": "Mercado Central", "Mobile Phone": "+55 85 98888-7777"}),
    )
    result = run(content)
    assert result.counts() == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0, "conflicts": 0}, result.errors
    assert result.warned == 0, result.warnings
    ana = Contact.objects.get(number="5511912345678")
    assert (ana.name, ana.first_name, ana.last_name, ana.company, ana.email, ana.birth_date) == (
        "Ana Maria Costa", "Ana", "Costa", "Costa & Filhos", "ana@costa.com.br", date(1971, 3, 9),
    )  # fmt: skip
    assert sorted(ana.tags.values_list("name", flat=True)) == ["Clientes", "VIP"]
    assert extras(ana) == {"Middle Name": "Maria", "Job Title": "Diretora", "Business Phone": "(11) 3000-1000", "Home Phone": "(11) 2000-3000"}
    mercado = Contact.objects.get(number="5585988887777")
    assert (mercado.name, mercado.birth_date) == ("Mercado Central", None)
    assert extras(mercado) == {}


# A bad optional cell does not lose the row


@pytest.mark.parametrize(
    "column, cell, reason",
    [
        ("Nascimento", "31/02/1991", "Essa data não existe"),
        ("Nascimento", "--03-09", "sem o ano"),
        ("Nascimento", "09/03", "sem o ano"),
        ("Nascimento", "01/01/1850", "anteriores a 1900"),
        ("Nascimento", "01/01/2999", "não pode estar no futuro"),
        ("Nascimento", "amanhã", "Use dd/mm/aaaa"),
        ("E-mail", "maria@", "e-mail válido"),
        ("Empresa", "P" * 300, "mais de 200 caracteres"),
    ],
)
def test_a_bad_optional_cell_in_a_row_identified_by_its_number_leaves_the_row_imported_without_it_with_a_warning(column, cell, reason):
    result = run(csv_bytes([["Nome", "Celular", column], ["Maria", "11987654321", cell]]))
    assert result.counts() == {"rows": 1, "created": 1, "updated": 0, "unchanged": 0, "rejected": 0, "conflicts": 0}, result.errors
    maria = Contact.objects.get()
    assert (maria.name, maria.number, maria.birth_date, maria.email, maria.company) == ("Maria", "5511987654321", None, "", "")
    assert result.warned == 1
    [(number, _cells, [warning])] = result.warnings
    shown = cell if len(cell) <= 60 else cell[:60] + "…"
    assert number == 2 and warning.startswith(f"{column} “{shown}” ficou de fora.") and reason in warning


def test_a_name_too_long_leaves_a_new_contact_named_by_its_number_with_a_warning():
    result = run(csv_bytes([["Nome", "Celular"], ["A" * 300, "11987654321"]]))
    assert result.counts()["created"] == 1 and result.warned == 1
    assert Contact.objects.get().name == "+55 11 98765-4321"


def test_a_bad_optional_cell_leaves_an_existing_contacts_value_as_it_was_and_the_rest_of_the_row_applies():
    maria = ContactFactory(name="Maria", number="5511987654321", birth_date=date(1990, 1, 1), email="maria@exemplo.com")
    result = run(csv_bytes([["Celular", "Nascimento", "E-mail", "Empresa"], ["11987654321", "31/02/1991", "maria@@x", "Nova"]]))
    assert result.counts() == {"rows": 1, "created": 0, "updated": 1, "unchanged": 0, "rejected": 0, "conflicts": 0}, result.errors
    assert result.warned == 1 and len(result.warnings[0][2]) == 2
    maria.refresh_from_db()
    assert (maria.birth_date, maria.email, maria.company) == (date(1990, 1, 1), "maria@exemplo.com", "Nova")


def test_a_row_whose_identity_is_invalid_is_rejected_quoting_the_cell():
    result = run(
        csv_bytes(
            [
                ["Nome", "Celular", "E-mail", "Nascimento"],
                ["Só e-mail errado", "", "ana@", "31/02/1991"],  # the e-mail was its only identity
                ["Número errado", "123", "bia@exemplo.com", ""],  # a wrong number is never left out
            ]
        )
    )
    assert result.counts() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 0, "rejected": 2, "conflicts": 0}
    assert result.warned == 0
    first, second = (message for _number, _cells, message in result.errors)
    assert first.startswith("E-mail “ana@”:") and "e-mail válido" in first
    assert second.startswith("Celular “123”:") and "telefone válido" in second
    assert not Contact.objects.exists()


def test_an_unknown_wallet_still_rejects_its_row_because_it_decides_who_sees_the_contact():
    result = run(csv_bytes([["Nome", "Celular", "Carteira"], ["Maria", "11987654321", "Carteira Que Não Existe"]]))
    assert result.counts()["rejected"] == 1 and "Não existe carteira com esse nome" in result.errors[0][2]
    assert not Contact.objects.exists()


def test_the_error_report_has_the_rejected_rows_and_the_rows_imported_with_a_warning_and_imports_again_once_fixed(
    admin_client, django_capture_on_commit_callbacks
):
    content = csv_bytes(
        [
            ["Nome", "Celular", "Nascimento"],
            ["Boa", "11987654321", "01/01/1990"],
            ["Sem ano", "11912345678", "09/03"],
            ["Ruim", "123", ""],
        ]
    )
    _preview, job = import_through_the_panel(admin_client, content, name="x.csv", execute=django_capture_on_commit_callbacks)
    assert (job.result["created"], job.result["rejected"], job.result["warned"]) == (2, 1, 1)
    assert job.result["warnings"] == [[3, "Nascimento “09/03” ficou de fora. Uma data de nascimento sem o ano não pode ser guardada: o campo precisa do dia, do mês e do ano."]]
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "1 linha foi importada com aviso" in page and "coluna “Aviso”" in page
    report = report_rows(admin_client, job)
    assert report[0] == ["Nome", "Celular", "Nascimento", "Erro", "Aviso"]
    assert report[1][:3] == ["Sem ano", "11912345678", "09/03"] and report[1][3] == "" and "sem o ano" in report[1][4]
    assert report[2][:3] == ["Ruim", "123", ""] and "telefone válido" in report[2][3] and report[2][4] == ""
    # Fixed and sent again: the report's own columns are left out.
    fixed = xlsx([report[0], ["Sem ano", "11912345678", "09/03/1980", "", report[1][4]], ["Ruim", "11955554444", "", report[2][3], ""]])
    assert guess_mapping(report[0]) == ["name", "number", "birth_date", "", ""]
    result = run(fixed)
    assert (result.counts()["created"], result.counts()["updated"], result.warned) == (1, 1, 0), (result.errors, result.warnings)
    assert Contact.objects.get(number="5511912345678").birth_date == date(1980, 3, 9)
    assert not Contact.objects.filter(custom_fields__isnull=False).exists()


def test_the_error_report_lists_every_rejected_and_warned_row_of_a_large_file_in_the_files_order(admin_client, django_capture_on_commit_callbacks):
    # Beyond the rows kept in memory (the rest wait in a file): three
    # hundred rows, a third rejected, a third imported with a warning.
    rows = [["Nome", "Celular", "Nascimento"]]
    for n in range(300):
        number, birth = f"119{n:08d}", "01/01/1990"
        if n % 3 == 1:
            number = "123"
        elif n % 3 == 2:
            birth = "31/02/1991"
        rows.append([f"Pessoa {n}", number, birth])
    _preview, job = import_through_the_panel(admin_client, csv_bytes(rows), name="x.csv", execute=django_capture_on_commit_callbacks)
    assert (job.result["created"], job.result["rejected"], job.result["warned"]) == (200, 100, 100)
    report = report_rows(admin_client, job)
    assert [row[0] for row in report[1:]] == [f"Pessoa {n}" for n in range(300) if n % 3]
    assert all("telefone válido" in row[3] and row[4] == "" for row in report[1::2])
    assert all(row[3] == "" and "31/02/1991" in row[4] for row in report[2::2])


def test_the_command_prints_the_rows_imported_with_a_warning(tmp_path, capsys):
    path = tmp_path / "contatos.csv"
    path.write_bytes(csv_bytes([["Nome", "Celular", "Nascimento"], ["Maria", "11987654321", "31/02/1991"]]))
    call_command("import_contacts", str(path))
    out, err = capsys.readouterr()
    assert "1 created" in out and "1 imported with warnings." in out
    assert "row 2, imported with a warning: Nascimento “31/02/1991”" in err


# Dates as people write them


def two_digit_year_after_this_one() -> str:
    return f"{(date.today().year + 1) % 100:02d}"


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("01/01/68", date(1968, 1, 1)),
        ("15/03/85", date(1985, 3, 15)),
        ("09/03/2001", date(2001, 3, 9)),
        ("9/3/01", date(2001, 3, 9)),
        (f"01/01/{two_digit_year_after_this_one()}", date(date.today().year + 1 - 100, 1, 1)),
        ("1990-03-09", date(1990, 3, 9)),
        ("1990/03/09", date(1990, 3, 9)),
        ("1990-03-09 00:00:00", date(1990, 3, 9)),
        ("09.03.1990", date(1990, 3, 9)),
        ("09-03-1990", date(1990, 3, 9)),
        # Excel's serial numbers, kept as numbers in a CSV: 1 is 01/01/1900,
        # 59 the 28th of February, and after Excel's 29th (60), 61 is 1st March.
        ("1", date(1900, 1, 1)),
        ("59", date(1900, 2, 28)),
        ("61", date(1900, 3, 1)),
        ("32874", date(1990, 1, 1)),
    ],
)
def test_birth_dates_are_read_as_people_write_them(cell, expected):
    result = run(csv_bytes([["Nome", "Celular", "Nascimento"], ["Maria", "11987654321", cell]]))
    assert result.warned == 0, result.warnings
    assert Contact.objects.get().birth_date == expected


@pytest.mark.parametrize("cell, reason", [("60", "Essa data não existe"), ("1899-12-31", "anteriores a 1900"), ("1980", "Use dd/mm/aaaa")])
def test_excels_fake_leap_day_a_year_before_1900_or_a_year_alone_are_left_out_with_a_warning(cell, reason):
    result = run(csv_bytes([["Nome", "Celular", "Nascimento"], ["Maria", "11987654321", cell]]))
    assert result.counts()["created"] == 1 and Contact.objects.get().birth_date is None
    assert reason in result.warnings[0][2][0]


def test_date_cells_and_excel_serials_in_an_xlsx_are_read_as_excel_means_them():
    content = xlsx([["Nome", "Celular", "Nascimento"], ["A", "11987654321", date(1968, 1, 1)], ["B", "11912345678", 59], ["C", "11955554444", 61]])
    result = run(content)
    assert result.warned == 0, result.warnings
    assert dict(Contact.objects.values_list("name", "birth_date")) == {"A": date(1968, 1, 1), "B": date(1900, 2, 28), "C": date(1900, 3, 1)}


def test_a_cell_formatted_as_a_date_on_excels_fake_leap_day_is_left_out_with_a_warning():
    """Excel shows serial 60 in a date cell as 29/02/1900, a day that never was."""
    styles = (
        b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>'
    )
    relationships = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        b'<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'
    )
    rows = inline_row(1, "Nome", "Celular", "Nascimento")
    for number, serial in enumerate([1, 59, 60, 61], start=2):
        rows += (
            f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>P{serial}</t></is></c>'
            f'<c r="B{number}" t="inlineStr"><is><t>1198765432{number}</t></is></c><c r="C{number}" s="1"><v>{serial}</v></c></row>'
        )
    result = run(minimal_xlsx(sheet_xml(rows), {"xl/styles.xml": styles, "xl/_rels/workbook.xml.rels": relationships}))
    assert result.counts()["created"] == 4
    assert dict(Contact.objects.values_list("name", "birth_date")) == {
        "P1": date(1900, 1, 1),
        "P59": date(1900, 2, 28),
        "P60": None,
        "P61": date(1900, 3, 1),
    }
    assert [number for number, _cells, _warnings in result.warnings] == [4]
    assert "Essa data não existe" in result.warnings[0][2][0]


# Numbers that Excel turned into 1,19871E+10


@pytest.mark.parametrize(
    "column, cell",
    [("Celular", "1,19871E+10"), ("Celular", "1.19871E+10"), ("Telefone", "5,51199E+12"), ("CPF", "5,29982E+10"), ("CPF", "5.29982e10")],
)
def test_a_number_excel_wrote_in_scientific_notation_rejects_its_row_saying_the_column_lost_digits(column, cell):
    result = run(csv_bytes([["Nome", column], ["Maria", cell], ["Bia", "11987654321" if column != "CPF" else "529.982.247-25"]]))
    assert result.counts()["rejected"] == 1 and result.counts()["created"] == 1, result.errors
    message = result.errors[0][2]
    assert message.startswith(f"{column} “{cell}”:")
    assert "formatada como número" in message and "perdeu dígitos" in message and "Formate a coluna como texto" in message


def test_a_number_cell_beyond_excels_fifteen_digits_says_the_column_lost_digits():
    result = run(xlsx([["Nome", "Celular"], ["Maria", 5.511987654321001e16]]))
    assert result.counts()["rejected"] == 1 and "perdeu dígitos" in result.errors[0][2]
    assert not Contact.objects.exists()


def test_a_landline_excel_cut_into_scientific_notation_is_left_out_of_the_extra_fields_with_a_warning():
    result = run(csv_bytes([["Nome", "Celular", "Telefone"], ["Maria", "11987654321", "1,13333E+9"]]))
    assert result.counts()["created"] == 1 and result.warned == 1
    assert Contact.objects.get().custom_fields.count() == 0
    assert result.warnings[0][2][0].startswith("Telefone “1,13333E+9” ficou de fora.") and "perdeu dígitos" in result.warnings[0][2][0]


TODAY = date(2026, 12, 5)
BIRTH_DATES = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


def read_birth_date(text: str, raw=None):
    return COLUMN_BY_FIELD["birth_date"].clean(text, text if raw is None else raw, Context(today=TODAY, wallets={}, group_numbers=set()))


@given(BIRTH_DATES)
@example(date(1905, 4, 1))
@example(date(1900, 2, 28))
@example(date(1900, 3, 1))
def test_any_birth_date_since_1900_written_in_full_as_iso_or_as_excels_serial_reads_back_the_same(day):
    assert read_birth_date(day.strftime("%d/%m/%Y")) == day
    assert read_birth_date(day.isoformat()) == day
    serial = (day - date(1899, 12, 30)).days if day >= date(1900, 3, 1) else (day - date(1899, 12, 31)).days
    if EARLIEST_YEAR <= serial <= TODAY.year:
        # A number that reads as a year (the serials of 1905's spring) is
        # taken for one: a year alone is not a birth date.
        with pytest.raises(ValidationError, match="01/01/1990"):
            read_birth_date(str(serial), float(serial))
    else:
        assert read_birth_date(str(serial), float(serial)) == day


@given(st.dates(min_value=date(TODAY.year - 99, 1, 1), max_value=TODAY))
def test_a_birth_date_of_the_last_hundred_years_written_with_two_digits_reads_back_the_same(day):
    assert read_birth_date(day.strftime("%d/%m/%y")) == day


def test_a_row_without_a_mobile_takes_its_landline_as_the_number_and_loses_nothing():
    content = csv_bytes(
        [
            ["Nome", "Telefone", "Celular", "E-mail"],
            ["Maria", "(11) 3333-4444", "(11) 98765-4321", ""],
            ["Padaria", "(11) 2222-1111", "", ""],  # a landline only: it is the number
            ["Ramal", "ramal 23", "", "ramal@exemplo.com"],  # not a phone: stays an extra field
        ]
    )
    result = run(content)
    assert result.counts() == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0, "conflicts": 0}, result.errors
    assert extras(Contact.objects.get(number="5511987654321")) == {"Telefone": "(11) 3333-4444"}
    padaria = Contact.objects.get(name="Padaria")
    assert (padaria.number, extras(padaria)) == ("551122221111", {})
    ramal = Contact.objects.get(name="Ramal")
    assert (ramal.number, ramal.email, extras(ramal)) == ("", "ramal@exemplo.com", {"Telefone": "ramal 23"})


def test_an_outlook_contact_without_a_mobile_takes_its_first_other_phone_as_the_number():
    content = csv_of(OUTLOOK_HEADER, row_of(OUTLOOK_HEADER, **{"First Name": "Rui", "Business Phone": "(31) 3222-1111", "Home Phone": "(31) 3333-2222"}))
    result = run(content)
    assert result.counts()["created"] == 1, result.errors
    rui = Contact.objects.get()
    assert (rui.name, rui.number, extras(rui)) == ("Rui", "553133332222", {"Business Phone": "(31) 3222-1111"})
