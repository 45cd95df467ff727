"""Files cannot hurt the server: the probe's files (a cell at the far corner,
zip headers that lie, a sheet as wide as Excel's grid, a million rows, four
million shared strings, as many cells as the caps accept), each read in a
child process whose peak memory is measured, as the upload and the mapping
step read them and as the import's job does; and what a user sees of them
and of the files people really have (Excel's "Unicode text", a stray quote,
formulas without a stored result, a tag column gone wrong)."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from audit.recording import Source, recording
from contacts.models import Contact, Tag
from contacts.tests.spreadsheet_files import (
    csv_bytes,
    dense_file,
    fullest_file,
    far_cell_file,
    inline_row,
    large_shared_strings_file,
    lying_headers_file,
    million_rows_file,
    minimal_xlsx,
    realistic_file,
    shared_strings_file,
    sheet_xml,
    unreferenced_cells_file,
    upload,
    wide_empty_file,
    wide_file,
    raw_xlsx,
    xlsx,
    zip_with,
)
from contacts.transfer.importing import import_contacts
from contacts.transfer.reading import SpreadsheetError, read_table, survey
from jobs.models import Job

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BUDGET_MB = 300

# Run in a fresh interpreter: the upload's form (read, survey) and the
# mapping step's form rendered; or the job's copy of the file read through.
CHILD = """
import json, os, resource, sys
import django
django.setup()
from django.core.files.uploadedfile import UploadedFile
from contacts.transfer.reading import SpreadsheetError, read_table
from contacts.transfer.views import ImportUploadForm, MappingForm
from jobs.models import Job

path, step = sys.argv[1], sys.argv[2]
outcome = {}
if step == "upload":
    with open(path, "rb") as file:
        form = ImportUploadForm(files={"file": UploadedFile(file, name="planilha.xlsx", size=os.path.getsize(path))})
        if form.is_valid():
            job = Job(parameters={"headers": form.survey.headers, "columns": form.survey.columns, "sample": form.survey.sample})
            mapping = MappingForm(job=job)
            html = "".join(str(field) for field, _header, _values in mapping.columns())
            outcome = {"columns": form.survey.columns, "rows": form.survey.rows, "html": len(html)}
        else:
            outcome = {"error": " ".join(form.errors["file"])}
else:
    from django.conf import settings
    from contacts.transfer import jobs
    settings.MEDIA_ROOT = os.path.dirname(path)
    try:
        table = jobs._table(Job(source_file=os.path.basename(path)))
        outcome = {"rows": sum(1 for _ in table.rows)}
    except SpreadsheetError as error:
        outcome = {"error": str(error)}
# The peak of this process's own memory since it started the interpreter:
# ru_maxrss would also count what the forked test runner held before exec.
with open("/proc/self/status") as status:
    outcome["peak_mb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
outcome["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(outcome))
"""


def read_in_a_child(tmp_path, content: bytes, step: str, **settings) -> dict:
    path = tmp_path / "planilha.xlsx"
    path.write_bytes(content)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contacts_portal.test_settings", **{k: str(v) for k, v in settings.items()}}
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


UNPACKS_TOO_MUCH = "A planilha descompactada passa do tamanho aceito"
DAMAGED = "O arquivo está danificado ou incompleto"
LOW_UNPACKED_CAP = {"IMPORT_MAX_UNPACKED_BYTES": 20 * 1024 * 1024}

PROBES = {
    # name: (the file, the caps it is read under, what the user is told at
    # the upload and by the job: None when it is read)
    "a cell at the far corner": (far_cell_file, {}, ("1.048.576 linhas e 16.384 colunas",) * 2),
    "zip headers that understate the unpacked size": (lambda: lying_headers_file("both"), LOW_UNPACKED_CAP, (UNPACKS_TOO_MUCH,) * 2),
    "zip headers that understate the compressed size too": (lambda: lying_headers_file("compressed"), LOW_UNPACKED_CAP, (UNPACKS_TOO_MUCH,) * 2),
    "a central directory that disagrees with the local header": (lambda: lying_headers_file("central"), LOW_UNPACKED_CAP, (DAMAGED,) * 2),
    # The job reads the one row (the upload refused the file before).
    "16,384 named columns": (wide_file, {}, ("16.384 colunas com dados", None)),
    "a million rows within the unpacked cap": (million_rows_file, {}, ("mais de 150000 linhas",) * 2),
    "4 million shared strings": (shared_strings_file, {}, (None, None)),
    # Its text beyond a budget goes to a temporary file.
    "300 MB of shared strings": (large_shared_strings_file, {}, (None, None)),
    # Ten million cells without a reference in one row: refused at Excel's
    # last column, before the row is built.
    "a row of cells without a reference": (unreferenced_cells_file, {}, ("2 linhas e 16.385 colunas",) * 2),
    # A CSV whose header is 45 million empty cells: refused before a line
    # is held whole, let alone made a list of cells.
    "a CSV header of millions of empty cells": (
        lambda: b"Nome,Telefone" + b"," * 45_000_000 + b"\r\nAna,11987654321\r\n",
        {},
        ("Uma linha da lista é mais longa do que pode ser lida",) * 2,
    ),
    # As many cells as the caps accept, at a tenth of the default caps (the
    # reading holds a row at a time: the default's 10 million cells take
    # half a minute to parse, in the same memory).
    "as many cells as the caps accept": (lambda: dense_file(20_000, 50), {"IMPORT_MAX_ROWS": 20_000, "IMPORT_MAX_CELLS": 1_000_000}, (None, None)),
}


@pytest.mark.parametrize("step", ["upload", "job"])
@pytest.mark.parametrize("name", list(PROBES))
def test_the_probes_files_cost_less_than_the_memory_budget_and_get_their_message(tmp_path, name, step):
    make, caps, messages = PROBES[name]
    outcome = read_in_a_child(tmp_path, make(), step, **caps)
    assert outcome["peak_mb"] < BUDGET_MB, outcome
    message = messages[0 if step == "upload" else 1]
    if message is None:
        assert "error" not in outcome, outcome
    else:
        assert message in outcome.get("error", ""), outcome


def test_a_sheet_thousands_of_columns_wide_maps_only_the_columns_with_data(tmp_path):
    outcome = read_in_a_child(tmp_path, wide_empty_file(), "upload")
    assert outcome["columns"] == [0, 1, 16_383]
    assert outcome["peak_mb"] < BUDGET_MB


# A job as a worker runs it, in a fresh interpreter on a database of its
# own: the preview's or the import's, of the file in the media folder.
JOB_CHILD = """
import json, sys
import django
django.setup()
from django.conf import settings
settings.MEDIA_ROOT = sys.argv[1]
from django.core.management import call_command
call_command("migrate", verbosity=0)
from jobs.models import Job
from jobs.tasks import run_job

kind = Job.Kind.IMPORT_PREVIEW if sys.argv[2] == "preview" else Job.Kind.IMPORT
job = Job.objects.create(kind=kind, file_name="planilha.xlsx", source_file="planilha.xlsx", parameters={"file_name": "planilha.xlsx"})
run_job.call(job_id=job.pk)
job.refresh_from_db()
outcome = {"status": job.status, "error": job.error, "result": {key: job.result.get(key) for key in ("rows", "created", "rejected", "warned")}}
with open("/proc/self/status") as status:
    outcome["peak_mb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
print(json.dumps(outcome))
"""


@pytest.mark.parametrize("step", ["preview", "import"])
def test_a_realistic_file_of_as_many_rows_as_the_cap_accepts_is_previewed_and_imported_within_the_memory_budget(tmp_path, settings, step):
    """The plan of every row is what an import holds (the file itself is
    read as a stream), so the row cap bounds it; the rows it reports on
    (here half of them, each with a warning) wait in a file."""
    rows = settings.IMPORT_MAX_ROWS
    (tmp_path / "planilha.xlsx").write_bytes(realistic_file(rows))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contacts_portal.test_settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", JOB_CHILD, str(tmp_path), step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["status"] == Job.Status.DONE, outcome
    assert outcome["result"] == {"rows": rows, "created": rows, "rejected": 0, "warned": rows // 2}, outcome
    assert outcome["peak_mb"] < BUDGET_MB, outcome


def test_the_fullest_file_the_caps_accept_is_imported_within_the_memory_budget(tmp_path, settings):
    """The row cap's rows, each filling every field of a contact with a
    value no other row has, and as many values of additional information
    as IMPORT_MAX_EXTRA_VALUES accepts: what the plan holds is the most a
    file can make it hold."""
    rows = settings.IMPORT_MAX_ROWS
    (tmp_path / "planilha.xlsx").write_bytes(fullest_file(rows, settings.IMPORT_MAX_EXTRA_VALUES // rows))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contacts_portal.test_settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", JOB_CHILD, str(tmp_path), "import"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["status"] == Job.Status.DONE, outcome
    assert outcome["result"]["created"] == rows, outcome
    assert outcome["peak_mb"] < BUDGET_MB, outcome


def import_page(client, content, name="planilha.xlsx"):
    response = client.post(reverse("contacts:import"), {"file": upload(content, name)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.latest("pk")
    return job, client.get(job.get_absolute_url())


def test_raising_the_column_cap_raises_djangos_limit_on_the_fields_the_mapping_step_posts():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contacts_portal.test_settings", "IMPORT_MAX_COLUMNS": "1500"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert int(done.stdout.strip().splitlines()[-1]) > 1500 + 2  # a field per column, the wallet and the tag


def test_the_mapping_step_shows_and_posts_only_the_columns_that_hold_data(admin_client, django_capture_on_commit_callbacks):
    job, page = import_page(admin_client, wide_empty_file())
    form = page.context["form"]
    assert [header for _field, header, _values in form.columns()] == ["Nome", "Telefone", ""]
    assert len([name for name in form.fields if name.startswith("column_")]) == 3
    assert "Coluna 16384" in page.content.decode()  # the column without a name, by its place
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(job.get_absolute_url(), {"column_0": "name", "column_1": "number", "column_2": "extra:Coluna 16384"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.result["created"] == 1
    assert len(job.parameters["mapping"]) == 16_384 and job.parameters["mapping"][16_383] == "extra:Coluna 16384"


def test_empty_columns_of_a_csv_are_left_out_of_the_mapping(admin_client):
    content = csv_bytes([["Nome", "", "Telefone", "Vazia"], ["Maria", "", "11987654321", ""], ["João", "", "21987654321", ""]])
    _job, page = import_page(admin_client, content, "lista.csv")
    assert [header for _field, header, _values in page.context["form"].columns()] == ["Nome", "Telefone", "Vazia"]


@override_settings(IMPORT_MAX_COLUMNS=5)
def test_a_sheet_with_more_columns_of_data_than_the_cap_is_refused_at_the_upload(admin_client):
    content = csv_bytes([[f"Coluna {n}" for n in range(8)], ["x"] * 8])
    response = admin_client.post(reverse("contacts:import"), {"file": upload(content, "lista.csv")})
    assert "A planilha tem 8 colunas com dados; uma importação aceita no máximo 5." in response.content.decode()
    assert not Job.objects.exists()


def test_a_file_over_the_row_cap_is_refused_at_the_upload(admin_client, settings):
    settings.IMPORT_MAX_ROWS = 1000
    response = admin_client.post(reverse("contacts:import"), {"file": upload(million_rows_file(5000))})
    assert "mais de 1000 linhas de dados" in response.content.decode()
    assert not Job.objects.exists()


@override_settings(IMPORT_MAX_UNPACKED_BYTES=20 * 1024 * 1024)
@pytest.mark.parametrize("lie, message", [("both", UNPACKS_TOO_MUCH), ("compressed", UNPACKS_TOO_MUCH), ("central", DAMAGED)])
def test_zip_headers_that_lie_about_a_part_do_not_get_more_past_the_cap(lie, message):
    with pytest.raises(SpreadsheetError, match=message):
        read_table(io.BytesIO(lying_headers_file(lie)))


def test_a_part_within_the_cap_is_read_as_before():
    content = lying_headers_file("none", real_size=2000)
    assert read_table(io.BytesIO(content)).headers == ["Nome", "Telefone"]


def run(content: bytes, **options):
    with recording(source=Source.IMPORT):
        return import_contacts(table=read_table(io.BytesIO(content)), **options)


def test_excels_unicode_text_a_utf_16_csv_with_tabs_is_read():
    content = "Nome\tTelefone\tCidade\r\nJoão Ação\t11987654321\tSão Paulo\r\n".encode("utf-16")
    assert content.startswith(b"\xff\xfe")
    result = run(content)
    assert result.counts()["created"] == 1, result.errors
    contact = Contact.objects.get()
    assert (contact.name, contact.number) == ("João Ação", "5511987654321")
    assert list(contact.custom_fields.values_list("name", "value")) == [("Cidade", "São Paulo")]


def test_a_stray_quote_costs_its_own_row_not_the_rows_after_it():
    rows = [["Nome", "Telefone"], ['"Maria', "11900000000"]] + [[f"Pessoa {n}", f"119{n:08d}"] for n in range(1, 1001)]
    result = run(csv_bytes(rows))
    assert result.counts() == {"rows": 1001, "created": 1000, "updated": 0, "unchanged": 0, "rejected": 1, "conflicts": 0}, result.errors[:3]
    number, _cells, message = result.errors[0]
    assert number == 2
    assert "abre aspas (\") que não fecham" in message and "“\"Maria;11900000000”" in message


def test_a_stray_quote_on_the_last_line_rejects_that_line():
    result = run(csv_bytes([["Nome", "Telefone"], ["Ana", "11912345678"], ['"Maria', "11900000000"]]))
    assert (result.counts()["created"], result.counts()["rejected"]) == (1, 1)


def test_a_csv_line_of_more_cells_than_excel_has_columns_is_refused_before_it_is_read():
    content = b"Nome;Telefone" + b";" * 16_383 + b"\r\nAna;11987654321\r\n"
    with pytest.raises(SpreadsheetError, match="mais de 16.384 células"):
        list(read_table(io.BytesIO(content)).rows)


def test_a_csv_line_as_wide_as_excel_is_read():
    content = b"Nome;Telefone" + b";" * 16_382 + b"\r\nAna;11987654321\r\n"
    assert run(content).counts()["created"] == 1


def test_a_quoted_cell_with_line_breaks_and_quotes_is_still_one_cell():
    content = 'Nome;Telefone;Endereço\r\nMaria;11987654321;"Rua A, 10\r\nApto ""2"""\r\nJoão;21987654321;Rua B\r\n'.encode()
    result = run(content)
    assert result.counts()["created"] == 2, result.errors
    assert Contact.objects.get(name="Maria").custom_fields.get().value == 'Rua A, 10 Apto "2"'


FORMULA_MESSAGE = "fórmula sem valor calculado"


# A workbook whose program calculated nothing and asks Excel to (openpyxl,
# XlsxWriter): its formulas' stored results are not results.
NEVER_CALCULATED = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets>'
    b'<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
)


@pytest.mark.parametrize(
    ("cell", "workbook"),
    [
        ('<c r="B2"><f>CONCAT("11","987654321")</f></c>', None),
        ('<c r="B2"><f>CONCAT("11","987654321")</f><v/></c>', None),  # as openpyxl writes one
        ('<c r="B2"><f>CONCAT("11","987654321")</f><v></v></c>', NEVER_CALCULATED),  # and its workbook
        ('<c t="str" r="B2"><f>A1</f></c>', None),  # the reference after the type
        ('<c r="B2" t="str"><f>A1</f><v></v></c>', NEVER_CALCULATED),
        ('<c s="0" t="str" r="B2"><f t="shared" si="0"/></c>', None),
    ],
    ids=["no value", "openpyxl's empty value", "openpyxl's workbook", "attributes in another order", "an empty text never calculated", "shared formula"],
)
def test_a_formula_without_a_stored_value_rejects_its_row_however_it_is_written(cell, workbook):
    rows = inline_row(1, "Nome", "Telefone") + f'<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c>{cell}</row>' + inline_row(3, "Bia", "21987654321")
    result = run(minimal_xlsx(sheet_xml(rows), {"xl/workbook.xml": workbook} if workbook else None))
    assert (result.counts()["created"], result.counts()["rejected"]) == (1, 1)
    assert result.errors[0][0] == 2 and FORMULA_MESSAGE in result.errors[0][2]


@pytest.mark.parametrize("value", ["<v></v>", "<v/>"])
def test_a_formula_whose_result_is_an_empty_text_leaves_its_cell_empty_and_keeps_the_row(value):
    """As Excel and LibreOffice save '=SE(A2="";"";A2)' when A2 is empty."""
    rows = inline_row(1, "Nome", "Telefone", "Empresa") + (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="B2" t="inlineStr"><is><t>11987654321</t></is></c>'
        f'<c r="C2" t="str"><f>IF(D2="","",D2)</f>{value}</c></row>'
    )
    result = run(minimal_xlsx(sheet_xml(rows)))
    assert result.counts()["created"] == 1 and not result.errors, result.errors
    assert Contact.objects.get().company == ""


def test_a_formula_with_its_stored_value_is_read_by_that_value():
    rows = inline_row(1, "Nome", "Telefone") + '<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c t="str" r="B2"><f>A1</f><v>11987654321</v></c></row>'
    assert run(minimal_xlsx(sheet_xml(rows))).counts()["created"] == 1


def test_the_first_sheet_is_the_workbooks_first_whatever_its_files_name():
    workbook = (
        b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        b'<sheet name="Contatos" sheetId="2" r:id="rId7"/><sheet name="Rascunho" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    relationships = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        b'<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/contatos.xml"/>'
        b"</Relationships>"
    )
    draft = sheet_xml(inline_row(1, "Rascunho") + inline_row(2, "nada"))
    contacts = sheet_xml(
        inline_row(1, "Nome", "Telefone") + '<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="B2"><f>A1</f></c></row>' + inline_row(3, "Bia", "21987654321")
    )
    content = zip_with(
        {"xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": relationships, "xl/worksheets/sheet1.xml": draft, "xl/worksheets/contatos.xml": contacts}
    )
    table = read_table(io.BytesIO(content))
    assert table.headers == ["Nome", "Telefone"]
    result = import_contacts(table=table)
    assert (result.counts()["created"], result.counts()["rejected"]) == (1, 1)  # the formula found in the right sheet


def test_a_doctype_anywhere_in_a_part_is_refused():
    padded = b'<?xml version="1.0"?>' + b" " * 10_000 + b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
    with pytest.raises(SpreadsheetError, match="definição de tipo de documento"):
        read_table(io.BytesIO(minimal_xlsx(padded)))


EXTRA_COLUMNS_FILE = [
    ["Nome", "Telefone", "Cidade", "Cargo", "Observação"],
    ["A", "11987654321", "Recife", "Gerente", "liga à tarde"],
    ["B", "11912345678", "Natal", "", ""],
    ["C", "11955554444", "", "", ""],
]


@override_settings(IMPORT_MAX_EXTRA_VALUES=3)
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_mapping_step_refuses_columns_of_additional_information_holding_more_values_than_the_cap(
    admin_client, django_capture_on_commit_callbacks, kind
):
    """The upload counts each column's values (a CSV's cells as they are
    read, a sheet's from its cells' references): the columns chosen hold
    two, one and one, over a cap of three; without the last, three."""
    content, name = (csv_bytes(EXTRA_COLUMNS_FILE), "lista.csv") if kind == "csv" else (xlsx(EXTRA_COLUMNS_FILE), "lista.xlsx")
    job, _page = import_page(admin_client, content, name)
    assert job.parameters["values"] == [3, 3, 2, 1, 1]
    mapping = {"column_0": "name", "column_1": "number", "column_2": "extra:Cidade", "column_3": "extra:Cargo", "column_4": "extra:Observação"}
    with django_capture_on_commit_callbacks(execute=True):
        page = admin_client.post(job.get_absolute_url(), mapping)
    assert page.status_code == 200
    assert "As colunas escolhidas como informação adicional têm 4 valores; uma importação aceita no máximo 3." in page.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.DRAFT and not Contact.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        page = admin_client.post(job.get_absolute_url(), {**mapping, "column_4": ""})
    assert page.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error


@override_settings(IMPORT_MAX_EXTRA_VALUES=3)
def test_an_import_holding_more_values_of_additional_information_than_the_cap_is_refused_and_writes_nothing():
    """The job counts the cells with a value (the command line has no
    mapping step): four here, over a cap of three."""
    with pytest.raises(SpreadsheetError, match="mais de 3 valores de informação adicional"):
        run(csv_bytes(EXTRA_COLUMNS_FILE))
    assert not Contact.objects.exists()
    with override_settings(IMPORT_MAX_EXTRA_VALUES=4):
        assert run(csv_bytes(EXTRA_COLUMNS_FILE)).counts()["created"] == 3


@override_settings(IMPORT_MAX_NEW_TAGS=3)
def test_an_import_that_would_create_more_new_tags_than_the_cap_is_refused_at_the_preview(admin_client, django_capture_on_commit_callbacks):
    Tag.objects.create(name="VIP")
    content = csv_bytes(
        [["Nome", "Telefone", "Etiquetas"], ["A", "11987654321", "VIP, Um, Dois"], ["B", "11912345678", "Três"], ["C", "11955554444", "Quatro"]]
    )
    job, _page = import_page(admin_client, content, "lista.csv")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job.get_absolute_url(), {"column_0": "name", "column_1": "number", "column_2": "tags"})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "criaria mais de 3 etiquetas novas" in job.error
    assert "criaria mais de 3 etiquetas novas" in admin_client.get(job.get_absolute_url()).content.decode()
    assert not Contact.objects.exists() and list(Tag.objects.values_list("name", flat=True)) == ["VIP"]


@override_settings(IMPORT_MAX_NEW_TAGS=3)
def test_new_tags_up_to_the_cap_and_existing_ones_beyond_it_are_imported():
    for name in ("A", "B", "C", "D"):
        Tag.objects.create(name=name)
    content = csv_bytes([["Nome", "Telefone", "Etiquetas"], ["A", "11987654321", "a, b, c, d, Um, Dois, Três"]])
    assert run(content).counts()["created"] == 1
    assert Tag.objects.count() == 7


def test_a_sheet_written_with_a_namespace_prefix_is_read():
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Nome</x:t></x:is></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>Telefone</x:t></x:is></x:c></x:row>'
        b'<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>Ana</x:t></x:is></x:c><x:c r="B2"><x:v>11987654321</x:v></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    assert run(minimal_xlsx(sheet)).counts()["created"] == 1
    assert Contact.objects.get().name == "Ana"


def test_a_sheet_in_another_namespace_is_not_read_as_one():
    sheet = b'<?xml version="1.0"?><worksheet xmlns="urn:other"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Nome</t></is></c></row></sheetData></worksheet>'
    with pytest.raises(SpreadsheetError, match="danificado"):
        read_table(io.BytesIO(minimal_xlsx(sheet)))


def test_merged_cells_listed_after_the_rows_are_refused_at_the_upload(admin_client):
    content = xlsx([["Nome", "Telefone"], ["Maria", "11987654321"], ["João", "21987654321"]], merge=(2, 0, 3, 1))
    response = admin_client.post(reverse("contacts:import"), {"file": upload(content)})
    assert response.status_code == 200
    assert "mescladas (linha 3)" in response.content.decode()
    assert not Job.objects.exists()


def test_a_cell_past_excels_last_column_is_refused_saying_so():
    rows = inline_row(1, "Nome", "Telefone") + '<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="XFE2"><v>1</v></c></row>'
    content = minimal_xlsx(sheet_xml(rows))
    with pytest.raises(SpreadsheetError, match="uma célula além da última coluna do Excel"):
        survey(read_table(io.BytesIO(content)))  # the upload: from the cells' references
    with pytest.raises(SpreadsheetError, match="uma célula além da última coluna do Excel"):
        list(read_table(io.BytesIO(content)).rows)  # the job: as the rows are read


def test_a_table_of_shared_strings_past_its_memory_share_is_read_back_from_its_file(monkeypatch):
    """The text past IN_MEMORY bytes goes to a temporary file, a batch at a
    time: strings on both sides of where it begins, an empty one, and a
    table the parser reads (rich text, after the patterns gave up on it
    with part of it spilled) come back as they were, through the import."""
    import zipfile

    from contacts.transfer.reading import xlsx as reading

    monkeypatch.setattr(reading._SharedStrings, "IN_MEMORY", 40)
    names = ["Ana Souza", "", "Bruno Lima", "Carla Dias", "Débora Nunes", "Édson Melo", "Fábio Luz"] * 3
    for rich in (False, True):
        strings = [f"<si><t>{name}</t></si>" for name in names] + (["<si><r><t>Gil</t></r><r><t>da Cruz</t></r></si>"] if rich else [])
        content = raw_xlsx([inline_row(1, "Nome")], shared_strings=strings)
        table = reading._SharedStrings(zipfile.ZipFile(io.BytesIO(content)), "xl/sharedStrings.xml")
        # The patterns take the table a megabyte at a time (here all of it
        # at once: all to the file); the parser a string at a time.
        assert table._spilled is not None and (0 < len(table._text) <= 40 if rich else not table._text)
        assert [table[index] for index in range(len(table))] == names + (["Gilda Cruz"] if rich else [])
    rows = [inline_row(1, "Nome", "Telefone")]
    rows += [f'<row r="{n}"><c r="A{n}" t="s"><v>{n - 2}</v></c><c r="B{n}"><v>{11_987_650_000 + n}</v></c></row>' for n in range(2, 2 + len(names)) if names[n - 2]]
    assert run(raw_xlsx(rows, shared_strings=[f"<si><t>{name}</t></si>" for name in names])).counts()["created"] == len([name for name in names if name])
    assert sorted(Contact.objects.values_list("name", flat=True)) == sorted(name for name in names if name)
