"""Importar: a spreadsheet as Excel really stores it, the mapping, the
preview, the import as a background job, the error report; hostile files
refused with a message and nothing written."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from python_calamine import CalamineWorkbook

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.history import contact_timeline
from contacts.models import Contact, CustomField, Tag
from contacts.transfer.columns import guess_mapping
from contacts.transfer.importing import import_contacts
from contacts.transfer.reading import read_table
from jobs.models import Job
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory
from contacts.tests.spreadsheet_files import csv_bytes, hostile_files, lying_dimension_files, upload, xlsx

pytestmark = pytest.mark.django_db

HEADER = ["Nome", "Telefone", "E-mail", "CPF", "Nascimento", "Etiquetas", "Cargo"]


def run(content: bytes, **options):
    with recording(source=Source.IMPORT):
        return import_contacts(table=read_table(io.BytesIO(content)), **options)


def import_through_the_panel(client, content, *, name="contatos.xlsx", mapping=None, execute, extra=None):
    """Upload, keep the guessed mapping (or change it), preview, confirm.
    Returns (preview job, import job)."""
    response = client.post(reverse("contacts:import"), {"file": upload(content, name)})
    assert response.status_code == 302, response.content.decode()[:3000]
    job = Job.objects.latest("pk")
    page = client.get(job.get_absolute_url())
    form = page.context["form"]
    data = {f"column_{i}": (mapping or {}).get(i, form[f"column_{i}"].initial) for i in range(len(form.headers))}
    data.update(extra or {})
    with execute(execute=True):
        response = client.post(job.get_absolute_url(), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    preview = Job.objects.get(pk=job.pk)
    assert preview.status == Job.Status.DONE, preview.error
    with execute(execute=True):
        client.post(reverse("contacts:import_confirm", args=[preview.token]))
    return preview, Job.objects.latest("pk")


def test_excel_cells_as_excel_stores_them_are_read_right():
    content = xlsx(
        [
            HEADER,
            ["  Maria\x07 da   Silva ", 5.511987654321e12, " MARIA@Exemplo.com ", 1234567890, 32874, "VIP; Cliente", "Gerente"],
            ["=João", "(21) 98765-4321", "", 52998224725.0, date(1985, 3, 15), "", ""],
            ["Ana", "+55 31 8765-4321", "", "", "15/03/1985", "", ""],
        ]
    )
    result = run(content)
    assert result.counts() == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0, "conflicts": 0}, result.errors
    maria = Contact.objects.get(number="5511987654321")
    assert (maria.name, maria.email, maria.cpf_cnpj, maria.birth_date) == (
        "Maria da Silva", "maria@exemplo.com", "012.345.678-90", date(1990, 1, 1),
    )
    assert sorted(maria.tags.values_list("name", flat=True)) == ["Cliente", "VIP"]
    assert list(maria.custom_fields.values_list("name", "value")) == [("Cargo", "Gerente")]
    joao = Contact.objects.get(number="5521987654321")
    assert (joao.name, joao.cpf_cnpj, joao.birth_date) == ("=João", "529.982.247-25", date(1985, 3, 15))
    assert Contact.objects.get(name="Ana").number == "5531987654321"  # the old 8-digit mobile


def test_headers_in_pt_br_or_english_any_case_and_accents_and_unknown_ones_become_extra_fields():
    headers = ["NOME", "Número", "e_mail", "Documento", "Aniversário", "Primeiro Nome", "sobrenome", "Empresa", "Carteira", "TAGS", "Id Telegram", "Cidade", ""]
    assert guess_mapping(headers) == [
        "name", "number", "email", "cpf_cnpj", "birth_date", "first_name", "last_name", "company", "wallet", "tags", "telegram_id", "extra:Cidade", "",
    ]
    # Of two phone columns, the mobile is the number; the landline an extra field.
    assert guess_mapping(["Name", "Phone", "Email", "Birth date", "Celular"]) == ["name", "extra:Phone", "email", "birth_date", "number"]


def test_rows_match_by_number_then_telegram_then_document_then_email_and_update_what_is_filled():
    vip = TagFactory(name="VIP")
    by_number = ContactFactory(name="Pelo Número", number="5511987654321", company="Antiga", tags=[vip])
    by_telegram = ContactFactory(name="Pelo Telegram", number="", telegram_id="777")
    by_document = ContactFactory(name="Pelo CPF", number="", cpf_cnpj="529.982.247-25")
    by_email = ContactFactory(name="Pelo E-mail", number="", email="ana@exemplo.com")
    content = csv_bytes(
        [
            ["Nome", "Telefone", "Id Telegram", "CPF", "E-mail", "Empresa", "Etiquetas"],
            ["", "(11) 98765-4321", "", "", "", "Nova", "Lead"],
            ["Telegram Novo", "", "0777", "", "", "", ""],
            ["", "", "", "52998224725", "", "Doc SA", ""],
            ["", "", "", "", "ANA@exemplo.com", "Mail SA", ""],
        ]
    )
    result = run(content)
    assert result.counts() == {"rows": 4, "created": 0, "updated": 4, "unchanged": 0, "rejected": 0, "conflicts": 0}, result.errors
    by_number.refresh_from_db()
    assert (by_number.name, by_number.company) == ("Pelo Número", "Nova")  # an empty cell keeps the value
    assert sorted(by_number.tags.values_list("name", flat=True)) == ["Lead", "VIP"]  # added, never removed
    by_telegram.refresh_from_db()
    assert by_telegram.name == "Telegram Novo"
    assert Contact.objects.get(pk=by_document.pk).company == "Doc SA"
    assert Contact.objects.get(pk=by_email.pk).company == "Mail SA"


def test_rows_of_one_file_that_are_the_same_person_become_one_contact():
    content = csv_bytes(
        [
            ["Nome", "Telefone", "E-mail", "Cargo"],
            ["Maria", "11987654321", "", "Analista"],
            ["Maria Silva", "+55 11 8765-4321", "maria@x.com", ""],
            ["", "", "MARIA@x.com", "Gerente"],
        ]
    )
    result = run(content)
    assert Contact.objects.count() == 1
    assert result.counts() == {"rows": 3, "created": 1, "updated": 2, "unchanged": 0, "rejected": 0, "conflicts": 0}
    maria = Contact.objects.get()
    assert (maria.name, maria.email) == ("Maria Silva", "maria@x.com")
    assert list(maria.custom_fields.values_list("value", flat=True)) == ["Gerente"]


def test_importing_the_same_file_twice_creates_and_changes_nothing_the_second_time():
    content = xlsx([HEADER, ["Maria", "11987654321", "m@x.com", "52998224725", "01/01/1990", "VIP", "Gerente"], ["Zé", "21987654321", "", "", "", "", ""]])
    first = run(content)
    records = Contact.history.model.objects.count()
    second = run(content)
    assert first.counts()["created"] == 2
    assert second.counts() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "rejected": 0, "conflicts": 0}
    assert Contact.history.model.objects.count() == records


def test_a_value_that_belongs_to_another_contact_rejects_the_row():
    ContactFactory(name="Dono do número", number="5511987654321")
    ContactFactory(name="Dono do CPF", number="5511900000000", cpf_cnpj="529.982.247-25")
    # The number finds one contact; the CPF is another's: which is right?
    result = run(csv_bytes([["Nome", "Telefone", "CPF"], ["Outra", "11987654321", "529.982.247-25"]]))
    assert result.counts()["rejected"] == 1
    assert "Dono do CPF" in result.errors[0][2]
    assert Contact.objects.get(number="5511987654321").name == "Dono do número"


def test_the_counts_always_add_up_to_the_data_rows():
    ContactFactory(number="5511987654321", name="Já existe")
    content = csv_bytes(
        [["Nome", "Telefone"], ["Já existe", "11987654321"], ["Novo", "11912345678"], ["Ruim", "123"], ["", ""], ["Novo 2", "11912345678"]]
    )
    counts = run(content).counts()
    assert counts["rows"] == 4  # the blank row is no data
    assert counts["created"] + counts["updated"] + counts["unchanged"] + counts["rejected"] == counts["rows"]


def test_wallet_and_tag_options_apply_to_every_row():
    wallet = WalletFactory(name="Carteira Import")
    run(csv_bytes([["Nome", "Telefone"], ["A", "11987654321"], ["B", "11912345678"]]), wallet=wallet, tag="Feira 2026")
    assert set(Contact.objects.values_list("wallet", flat=True)) == {wallet.pk}
    tag = Tag.objects.get(name="Feira 2026")
    assert Contact.objects.filter(tags=tag).count() == 2


def test_imported_changes_are_in_each_history_as_made_by_the_import_and_in_the_audit_trail(admin_client, admin_user, django_capture_on_commit_callbacks):
    existing = ContactFactory(name="Maria", number="5511987654321", company="Velha")
    content = xlsx([["Nome", "Telefone", "Empresa"], ["Maria", "11987654321", "Nova"], ["João", "21987654321", ""]])
    preview, job = import_through_the_panel(admin_client, content, execute=django_capture_on_commit_callbacks)
    assert job.status == Job.Status.DONE, job.error
    assert job.result["created"] == 1 and job.result["updated"] == 1
    entry = contact_timeline(existing.pk)[0]
    assert (entry.user, entry.source, entry.through) == (admin_user, "import", "importação")
    assert entry.sentence.endswith("alterou Empresa de “Velha” para “Nova”")
    created = contact_timeline(Contact.objects.get(name="João").pk)[0]
    assert created.verb == "created" and created.source == "import"
    event = AuditEvent.objects.get(action="import")
    assert event.parameters["file"] == "contatos.xlsx"
    assert event.counts == {"rows": 2, "created": 1, "updated": 1, "unchanged": 0, "rejected": 0, "conflicts": 0}


def test_the_preview_writes_nothing_and_says_what_will_happen(admin_client, django_capture_on_commit_callbacks):
    content = csv_bytes([["Nome", "Telefone"], ["A", "11987654321"], ["B", "123"]])
    admin_client.post(reverse("contacts:import"), {"file": upload(content, "lista.csv")})
    job = Job.objects.get()
    mapping_page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "Nome" in mapping_page and "11987654321" in mapping_page  # the columns with samples
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job.get_absolute_url(), {"column_0": "name", "column_1": "number"})
    job.refresh_from_db()
    assert not Contact.objects.exists()
    assert (job.result["created"], job.result["rejected"]) == (1, 1)
    html = admin_client.get(job.get_absolute_url()).content.decode()
    assert "Informe um telefone válido" in html and "Importar" in html


def test_the_user_can_change_the_mapping_or_leave_a_column_out(admin_client, django_capture_on_commit_callbacks):
    content = csv_bytes([["Cliente", "Fone", "Cor"], ["Maria", "11987654321", "azul"]])
    _preview, job = import_through_the_panel(
        admin_client, content, name="x.csv", mapping={0: "name", 1: "number", 2: ""}, execute=django_capture_on_commit_callbacks
    )
    maria = Contact.objects.get()
    assert maria.name == "Maria" and not maria.custom_fields.exists()


def test_a_mapping_without_any_identity_or_with_a_field_twice_is_refused(admin_client):
    admin_client.post(reverse("contacts:import"), {"file": upload(csv_bytes([["A", "B"], ["x", "y"]]), "x.csv")})
    job = Job.objects.get()
    response = admin_client.post(job.get_absolute_url(), {"column_0": "company", "column_1": ""})
    assert "Escolha pelo menos uma coluna" in response.content.decode()
    response = admin_client.post(job.get_absolute_url(), {"column_0": "name", "column_1": "name"})
    assert "Duas colunas" in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.DRAFT


def test_rejected_rows_go_to_an_error_report_that_can_be_fixed_and_imported_again(admin_client, django_capture_on_commit_callbacks):
    content = csv_bytes([["Nome", "Telefone"], ["Boa", "11987654321"], ["Ruim", "123"]])
    _preview, job = import_through_the_panel(admin_client, content, name="x.csv", execute=django_capture_on_commit_callbacks)
    response = admin_client.get(reverse("jobs:file", args=[job.token, "report"]))
    assert response.status_code == 200
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content))).get_sheet_by_index(0).to_python()
    assert sheet[0] == ["Nome", "Telefone", "Erro"]
    assert sheet[1][:2] == ["Ruim", "123"] and "telefone válido" in sheet[1][2]
    fixed = xlsx([sheet[0], ["Ruim", "11912345678", ""]])
    result = run(fixed)
    assert result.counts()["created"] == 1  # the "Erro" column is left out


def test_a_job_that_fails_half_way_writes_nothing_and_can_run_again(admin_client, django_capture_on_commit_callbacks, monkeypatch):
    from contacts.transfer import writing

    content = csv_bytes([["Nome", "Telefone"], ["A", "11987654321"], ["B", "11912345678"]])

    def crash(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(writing, "history_bulk_rows", crash)
    preview, job = import_through_the_panel(admin_client, content, name="x.csv", execute=django_capture_on_commit_callbacks)
    assert job.status == Job.Status.FAILED and "RuntimeError" not in job.error  # the user reads words, admin the details
    assert "RuntimeError: the disk is full" in job.error_detail
    assert not Contact.objects.exists()
    assert "Nada foi gravado" in admin_client.get(job.get_absolute_url()).content.decode()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("contacts:import_confirm", args=[preview.token]))
    assert Contact.objects.count() == 2


def test_a_job_whose_worker_died_shows_as_stopped():
    from datetime import timedelta

    from django.utils import timezone

    job = Job(status=Job.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert job.is_stalled and job.is_finished


@override_settings(IMPORT_MAX_UNPACKED_BYTES=20 * 1024 * 1024)
@pytest.mark.parametrize("name, content", hostile_files().items(), ids=list(hostile_files()))
def test_hostile_or_broken_files_get_a_message_and_write_nothing(admin_client, django_capture_on_commit_callbacks, name, content):
    response = admin_client.post(reverse("contacts:import"), {"file": upload(content, "arquivo.xlsx")})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        html = response.content.decode()
        assert 'class="invalid-feedback' in html  # the reason, in the form
    else:
        job = Job.objects.get()
        form = admin_client.get(job.get_absolute_url()).context["form"]
        data = {f"column_{i}": form[f"column_{i}"].initial for i in range(len(form.headers))}
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(job.get_absolute_url(), data)
        assert response.status_code in (200, 302)
        job.refresh_from_db()
        if job.status == Job.Status.DONE:
            assert job.result["created"] == job.result["updated"] == 0
            with django_capture_on_commit_callbacks(execute=True):
                admin_client.post(reverse("contacts:import_confirm", args=[job.token]))
    assert not Contact.objects.exists()


@pytest.mark.parametrize("content", lying_dimension_files().values(), ids=list(lying_dimension_files()))
def test_a_sheet_whose_declared_size_lies_is_read_whole(content):
    assert run(content).counts()["created"] == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "salve-o como .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"), "protegida por senha"),
        (b"", "está vazio"),
    ],
)
def test_old_excel_files_password_protected_and_empty_files_say_what_to_do(admin_client, content, message):
    response = admin_client.post(reverse("contacts:import"), {"file": upload(content, "planilha.xlsx")})
    assert message in response.content.decode()


def test_csv_in_windows_1252_with_commas_and_csv_with_bom_and_semicolons():
    run(csv_bytes([["Nome", "Telefone"], ["João Ação", "11987654321"]], delimiter=",", encoding="cp1252"))
    run(csv_bytes([["Nome", "Telefone"], ["Márcia", "11912345678"]], delimiter=";", encoding="utf-8-sig"))
    assert sorted(Contact.objects.values_list("name", flat=True)) == ["João Ação", "Márcia"]


@override_settings(IMPORT_MAX_ROWS=3)
def test_the_row_limit_is_a_setting_and_a_message():
    with pytest.raises(Exception, match="mais de 3 linhas"):
        run(csv_bytes([["Nome", "Telefone"]] + [["A", f"1198765432{n}"] for n in range(5)]))
    assert not Contact.objects.exists()


def test_the_template_has_the_headers_and_an_example_row(admin_client):
    response = admin_client.get(reverse("contacts:import_template"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content))).get_sheet_by_index(0).to_python()
    assert rows[0][:11] == ["Nome", "Número", "E-mail", "CPF/CNPJ", "Data de Nascimento", "Primeiro Nome", "Sobrenome", "Empresa", "Carteira", "Etiquetas", "Id Telegram"]
    assert run(response_bytes(admin_client.get(reverse("contacts:import_template")))).counts()["created"] == 1


def response_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_command_imports_previews_and_applies_wallet_and_tag(tmp_path, capsys):
    wallet = WalletFactory(name="Comercial")
    path = tmp_path / "lista.csv"
    path.write_bytes(csv_bytes([["Nome", "Telefone"], ["A", "11987654321"], ["B", "123"]]))
    call_command("import_contacts", str(path), "--dry-run")
    assert "Would import 2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected, 0 conflicts left out." in capsys.readouterr().out
    assert not Contact.objects.exists()
    call_command("import_contacts", str(path), "--wallet", "comercial", "--tag", "Lista")
    contact = Contact.objects.get()
    assert contact.wallet == wallet and contact.tags.get().name == "Lista"
    assert contact_timeline(contact.pk)[0].source == "import"
    with pytest.raises(CommandError, match="no wallet"):
        call_command("import_contacts", str(path), "--wallet", "Nenhuma")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_contacts", str(tmp_path / "nada.xlsx"))
    bad = tmp_path / "velho.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(CommandError, match="xlsx"):
        call_command("import_contacts", str(bad))


def test_agents_cannot_import(agent_client):
    response = agent_client.post(reverse("contacts:import"), {"file": upload(csv_bytes([["Nome", "Telefone"], ["A", "11987654321"]]), "x.csv")})
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_another_users_job_and_files_are_a_404(admin_client, django_user_model):
    other = django_user_model.objects.create_user("outro")
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=other, status=Job.Status.DONE)
    assert admin_client.get(job.get_absolute_url()).status_code == 404
    assert admin_client.get(reverse("jobs:file", args=[job.token, "result"])).status_code == 404


def test_custom_fields_of_an_existing_contact_are_updated_not_duplicated():
    contact = ContactFactory(number="5511987654321")
    CustomField.objects.create(contact=contact, name="Cargo", value="Analista")
    run(csv_bytes([["Telefone", "cargo"], ["11987654321", "Gerente"]]))
    assert list(contact.custom_fields.values_list("name", "value")) == [("Cargo", "Gerente")]


def test_the_import_a_preview_confirms_knows_how_many_rows_it_has_before_it_starts(admin_client, django_capture_on_commit_callbacks):
    content = csv_bytes([["Nome", "Telefone"], ["A", "11987654321"], ["B", "11912345678"], ["C", "11955554444"]])
    admin_client.post(reverse("contacts:import"), {"file": upload(content, "x.csv")})
    preview = Job.objects.get()
    form = admin_client.get(preview.get_absolute_url()).context["form"]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(preview.get_absolute_url(), {f"column_{i}": form[f"column_{i}"].initial for i in range(len(form.headers))})
    with django_capture_on_commit_callbacks(execute=False):  # queued: no worker has taken it yet
        response = admin_client.post(reverse("contacts:import_confirm", args=[preview.token]), follow=True)
    job = Job.objects.get(kind=Job.Kind.IMPORT)
    assert job.status == Job.Status.QUEUED and job.total == 3
    html = response.content.decode()
    assert 'value="0" max="3"' in html and "0 de 3 linhas" in html


def test_a_job_that_does_not_know_its_total_yet_shows_a_bar_that_does_not_claim_to_be_full(admin_client, admin_user):
    job = Job.objects.create(kind=Job.Kind.IMPORT_PREVIEW, user=admin_user, status=Job.Status.RUNNING, done=5000)
    html = admin_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert '<progress class="app-progress" aria-label=' in html  # no value: the browser shows it as under way
    assert "5.000 linhas" in html


def test_a_running_job_page_shows_its_progress_and_keeps_asking(admin_client, admin_user):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    job = Job.objects.create(
        kind=Job.Kind.IMPORT, user=admin_user, status=Job.Status.RUNNING, total=1000, done=250,
        started_at=now - timedelta(seconds=5), heartbeat_at=now,
    )
    html = admin_client.get(job.get_absolute_url()).content.decode()
    assert 'value="250" max="1000"' in html
    assert "250 de 1.000 linhas" in html and "linhas/s" in html and "faltam cerca de" in html
    assert 'hx-trigger="every 1s"' in html and 'http-equiv="refresh"' in html  # live, with or without JavaScript
    fragment = admin_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'id="job-status"' in fragment
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE, result={"created": 1000, "updated": 0, "unchanged": 0, "rejected": 0})
    done = admin_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done  # finished: no more polling


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_jobs_go_through_the_real_queue_and_a_worker_runs_them(admin_client, django_capture_on_commit_callbacks):
    """The request only enqueues; `manage.py db_worker` (here in batch mode)
    picks the job up from the database queue and runs it."""
    admin_client.post(reverse("contacts:import"), {"file": upload(csv_bytes([["Nome", "Telefone"], ["A", "11987654321"]]), "x.csv")})
    job = Job.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job.get_absolute_url(), {"column_0": "name", "column_1": "number"})
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED  # nothing ran in the request
    call_command("db_worker", batch=True, interval=0, no_startup_delay=True, verbosity=0)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.result["created"] == 1


def far_cell_sheet(*cells: tuple[str, str]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for reference, value in cells:
        sheet[reference] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_tiny_sheet_with_a_cell_at_the_far_corner_is_refused_before_it_is_read(admin_client):
    # Two cells, 1.8 KB: read as a grid, 17 billion cells (the reader aborted the process).
    content = far_cell_sheet(("A1", "Nome"), ("XFD1048576", "x"))
    assert len(content) < 10_000
    response = admin_client.post(reverse("contacts:import"), {"file": upload(content, "planilha.xlsx")})
    html = response.content.decode()
    assert response.status_code == 200
    assert "1.048.576 linhas e 16.384 colunas" in html and "Ctrl+End" in html
    assert not Job.objects.exists()


@override_settings(IMPORT_MAX_CELLS=1_000)
def test_a_sheet_within_the_cell_budget_is_read_whatever_attribute_order_its_cells_use():
    content = far_cell_sheet(("A1", "Nome"), ("B1", "Telefone"), ("A2", "Maria"), ("B2", "11987654321"), ("J100", "x"))
    table = read_table(io.BytesIO(content))
    assert table.headers[:2] == ["Nome", "Telefone"]
    with pytest.raises(Exception, match="linhas e"):
        read_table(io.BytesIO(far_cell_sheet(("A1", "Nome"), ("B1", "x"), ("K100", "y"))))


def test_a_cell_listing_thousands_of_tags_rejects_its_row_and_creates_no_tag():
    flood = ", ".join(f"tag{n}" for n in range(5000))
    content = csv_bytes([["Nome", "Número", "Etiquetas"], ["Maria", "11987654321", flood], ["João", "21912340000", "VIP, vip, Novo"]])
    result = run(content)
    assert result.counts()["rejected"] == 1 and result.counts()["created"] == 1
    assert "5000 etiquetas (“tag0, tag1, tag2…”)" in result.errors[0][2] and "no máximo 20" in result.errors[0][2]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Novo", "VIP"]


def test_one_new_tag_written_in_two_cases_in_a_cell_is_one_tag_not_a_failed_import():
    result = run(csv_bytes([["Nome", "Número", "Etiquetas"], ["Maria", "11987654321", "Atacado, ATACADO"]]))
    assert result.counts()["created"] == 1
    assert list(Tag.objects.values_list("name", flat=True)) == ["Atacado"]
    assert list(Contact.objects.get().tags.values_list("name", flat=True)) == ["Atacado"]
