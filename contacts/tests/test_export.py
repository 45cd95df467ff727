"""Exportar: what the panel shows, as .xlsx (flat memory) or .csv, with the
contract's header row; never a formula; and export -> import changes
nothing."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.models import Contact, CustomField
from jobs.models import Job
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory
from contacts.transfer.columns import HEADERS
from contacts.transfer.exporting import write_csv, write_xlsx
from contacts.transfer.importing import import_contacts
from contacts.transfer.reading import read_table

pytestmark = pytest.mark.django_db

CONTRACT = ["Nome", "Número", "E-mail", "CPF/CNPJ", "Data de Nascimento", "Primeiro Nome", "Sobrenome", "Empresa", "Carteira", "Etiquetas", "Id Telegram"]


def sheet(output) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(output.read())).get_sheet_by_index(0).to_python()


def test_the_header_row_is_the_contract_then_one_column_per_extra_field():
    assert HEADERS == CONTRACT
    contact = ContactFactory(name="Maria")
    CustomField.objects.create(contact=contact, name="Cargo", value="Gerente")
    CustomField.objects.create(contact=ContactFactory(), name="cargo", value="Analista")  # the same column
    CustomField.objects.create(contact=contact, name="Cidade", value="Recife")
    output, count = write_xlsx(Contact.objects.all())
    assert count == 2
    assert sheet(output)[0] == [*CONTRACT, "Cargo", "Cidade"]


def test_cells_are_written_as_the_contract_says():
    wallet = WalletFactory(name="Comercial")
    vip, lead = TagFactory(name="VIP"), TagFactory(name="Lead")
    ContactFactory(
        name="Maria da Silva", number="5511987654321", email="maria@x.com", cpf_cnpj="012.345.678-90",
        birth_date=date(1990, 1, 31), first_name="Maria", last_name="da Silva", company="Padaria", wallet=wallet,
        telegram_id="123", tags=[vip, lead],
    )
    output, _count = write_xlsx(Contact.objects.all())
    row = sheet(output)[1]
    assert row == ["Maria da Silva", "+5511987654321", "maria@x.com", "012.345.678-90", date(1990, 1, 31), "Maria", "da Silva", "Padaria", "Comercial", "Lead, VIP", "123"]


def test_no_cell_is_ever_a_formula_and_phone_numbers_stay_intact():
    ContactFactory(name="=HYPERLINK(\"http://x\")", company="+1+1", first_name="-2", last_name="@SUM(A1)", email="")
    ContactFactory(name="\tTab", company="\rCR", number="5521987654321")
    output, _ = write_xlsx(Contact.objects.order_by("pk"))
    content = output.read()
    import zipfile

    sheet_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert rows[1][0] == '=HYPERLINK("http://x")'
    csv_output, _ = write_csv(Contact.objects.order_by("pk"))
    lines = csv_output.read().decode("utf-8-sig").split("\r\n")
    # Each formula-like cell is one quoted text constant: shown as it is, it
    # computes nothing; a phone is text too, with no apostrophe to see.
    assert lines[1].startswith('"=""=HYPERLINK(""""http://x"""")""";')
    assert ';"=""-2""";"=""@SUM(A1)""";"=""+1+1""";' in lines[1]
    assert lines[2].split(";")[:2] == ['"=""\tTab"""', '"=""+5521987654321"""']
    assert "'\rCR" in lines[2]  # a line break cannot live in a constant: OWASP's apostrophe


def test_characters_excel_refuses_are_removed():
    ContactFactory(name="Maria\x01\x02 Silva\x0b", company="A\ufffeB")
    output, _ = write_xlsx(Contact.objects.all())
    assert sheet(output)[1][0] == "Maria Silva"


def test_csv_is_utf8_with_bom_and_semicolons():
    ContactFactory(name="João Ação", number="5511987654321")
    output, _ = write_csv(Contact.objects.all())
    content = output.read()
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8-sig").splitlines()[0] == ";".join(CONTRACT)


def test_an_export_imported_again_creates_nothing_and_changes_nothing():
    wallet = WalletFactory(name="Comercial")
    vip = TagFactory(name="VIP")
    for n in range(5):
        contact = ContactFactory(
            name=f"Pessoa {n}", number=f"551198765432{n}", email=f"p{n}@x.com", cpf_cnpj="529.982.247-25" if n == 0 else "",
            birth_date=date(1990, 1, n + 1), wallet=wallet if n % 2 else None, tags=[vip] if n % 2 else [], telegram_id=str(100 + n),
        )
        CustomField.objects.create(contact=contact, name="Cargo", value=f"=cargo {n}")
    ContactFactory(name="Grupo", number="120363025246125888", is_group=True)
    for writer in (write_xlsx, write_csv):
        output, _ = writer(Contact.objects.all())
        with recording(source=Source.IMPORT):
            result = import_contacts(table=read_table(output))
        assert result.counts() == {"rows": 6, "created": 0, "updated": 0, "unchanged": 6, "rejected": 0, "conflicts": 0}, (writer, result.errors)


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40
).filter(lambda s: " ".join(s.split()) and not s.strip().startswith("'"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    name=st.one_of(names, st.sampled_from(["=1+1", "+55 11", "-x", "@here", "😀 Maria", "Ana\tMaria", "D'Ávila"])),
    area=st.sampled_from(["11", "21", "31", "61", "85"]),
    old_format=st.booleans(),
    cpf=st.sampled_from(["", "012.345.678-90", "529.982.247-25"]),
    csv_format=st.booleans(),
)
def test_export_then_import_round_trips_any_name_and_number(name, area, old_format, cpf, csv_format):
    Contact.objects.all().delete()
    contact = Contact(name=name, number=f"55{area}987654321", cpf_cnpj=cpf)
    contact.full_clean(exclude=["photo"])
    assume(contact.name)
    contact.save()
    output, _ = (write_csv if csv_format else write_xlsx)(Contact.objects.all())
    with recording(source=Source.IMPORT):
        result = import_contacts(table=read_table(output))
    assert result.counts()["created"] == 0 and result.counts()["rejected"] == 0, result.errors
    stored = Contact.objects.get()
    assert (stored.name, stored.number, stored.cpf_cnpj) == (contact.name, contact.number, contact.cpf_cnpj)


def test_the_export_button_exports_what_the_list_shows_and_only_what_the_user_may_see(admin_client, admin_user, django_capture_on_commit_callbacks):
    vip = TagFactory(name="VIP")
    ContactFactory(name="Maria VIP", tags=[vip])
    ContactFactory(name="Maria Outra")
    ContactFactory(name="João VIP", tags=[vip])
    page = admin_client.get(reverse("contacts:export"), {"q": "maria", "tag": vip.pk}).content.decode()
    assert "maria" in page and "VIP" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("contacts:export") + f"?q=maria&tag={vip.pk}", {"format": "xlsx"})
    job = Job.objects.get()
    assert response.url == job.get_absolute_url()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    download = admin_client.get(reverse("jobs:file", args=[job.token, "result"]))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(download.streaming_content))).get_sheet_by_index(0).to_python()
    assert [row[0] for row in rows[1:]] == ["Maria VIP"]
    event = AuditEvent.objects.get(action="export")
    assert (event.user, event.source, event.counts) == (admin_user, "panel", {"rows": 1})
    assert event.parameters["q"] == "maria" and event.parameters["tag"] == [vip.pk]


def test_an_agents_export_has_only_their_wallets_contacts(client, agent, agent_wallet, other_wallet, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    agent.user_permissions.add(Permission.objects.get(codename="export_contacts"))
    client.force_login(agent)
    ContactFactory(name="Minha", wallet=agent_wallet)
    ContactFactory(name="Do Bruno", wallet=other_wallet)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:export"), {"format": "csv"})
    job = Job.objects.get()
    content = b"".join(client.get(reverse("jobs:file", args=[job.token, "result"])).streaming_content).decode("utf-8-sig")
    assert "Minha" in content and "Do Bruno" not in content


def test_the_export_command_writes_a_file_with_the_filters(tmp_path, capsys):
    wallet = WalletFactory(name="Comercial")
    ContactFactory(name="Na Carteira", wallet=wallet)
    ContactFactory(name="Fora")
    path = tmp_path / "contatos.xlsx"
    call_command("export_contacts", str(path), "--wallet", "comercial")
    assert "Exported 1 contacts" in capsys.readouterr().out
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [row[0] for row in rows[1:]] == ["Na Carteira"]
    call_command("export_contacts", str(tmp_path / "todos.csv"))
    assert (tmp_path / "todos.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert AuditEvent.objects.filter(action="export", source="command").count() == 2


def exported_names(path) -> list[str]:
    return [row[0] for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";")][1:]


def test_the_export_command_takes_the_lists_type_opt_out_and_order_filters(tmp_path):
    from django.core.management.base import CommandError
    from django.utils import timezone

    from contacts.models import OptOut

    now = timezone.now()
    ana = ContactFactory(name="Ana Saiu")
    ContactFactory(name="Bruno Fica")
    ContactFactory(name="Grupo Vendas", number="120363025246125888", is_group=True)
    for days, name in enumerate(["Grupo Vendas", "Bruno Fica", "Ana Saiu"], start=1):
        Contact.objects.filter(name=name).update(created_at=now - timedelta(days=days))
    OptOut.objects.create(contact=ana, channel_id=1, channel_name="WhatsApp Vendas", evidence="SAIR", asked_at=now)
    path = tmp_path / "contatos.csv"

    call_command("export_contacts", str(path), "--type", "people")
    assert exported_names(path) == ["Ana Saiu", "Bruno Fica"]
    call_command("export_contacts", str(path), "--type", "groups")
    assert exported_names(path) == ["Grupo Vendas"]
    call_command("export_contacts", str(path), "--optout", "yes")
    assert exported_names(path) == ["Ana Saiu"]
    call_command("export_contacts", str(path), "--optout", "no", "--type", "people")
    assert exported_names(path) == ["Bruno Fica"]
    call_command("export_contacts", str(path), "--sort", "newest")
    assert exported_names(path) == ["Grupo Vendas", "Bruno Fica", "Ana Saiu"]
    event = AuditEvent.objects.filter(action="export").latest("pk")
    assert (event.parameters["sort"], event.parameters["optout"], event.parameters["type"]) == ("newest", "", "")
    with pytest.raises(CommandError):
        call_command("export_contacts", str(path), "--optout", "talvez")


def test_the_export_command_takes_an_imports_contacts_like_see_the_contacts_after_it(tmp_path, admin_client, django_capture_on_commit_callbacks):
    from django.core.management.base import CommandError

    from contacts.tests.test_import_preview import confirm, preview_through_the_panel

    ContactFactory(name="Antiga Intocada", number="5511900000001")
    ContactFactory(name="Antiga Atualizada", number="5511900000002", company="")
    preview = preview_through_the_panel(
        admin_client, [["Nome", "Telefone", "Empresa"], ["Nova Pessoa", "11987654321", ""], ["Antiga Atualizada", "11900000002", "Nova"]], django_capture_on_commit_callbacks
    )
    job = confirm(admin_client, preview, django_capture_on_commit_callbacks)
    path = tmp_path / "importados.csv"
    call_command("export_contacts", str(path), "--imported", str(job.token))
    assert exported_names(path) == ["Antiga Atualizada", "Nova Pessoa"]
    with pytest.raises(CommandError, match="no finished import"):
        call_command("export_contacts", str(path), "--imported", str(preview.token))
    with pytest.raises(CommandError, match="not an import's token"):
        call_command("export_contacts", str(path), "--imported", "lista.csv")
    assert exported_names(path) == ["Antiga Atualizada", "Nova Pessoa"]  # a refused export writes nothing


def test_old_job_files_are_removed_after_the_retention_period(settings):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from jobs.files import purge_expired_job_files
    from contacts.tests.factories import UserFactory

    settings.JOB_FILE_RETENTION_DAYS = 7
    user = UserFactory()
    old = Job.objects.create(kind=Job.Kind.EXPORT, user=user)
    old.result_file.save("a.csv", ContentFile(b"x"))
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    recent = Job.objects.create(kind=Job.Kind.EXPORT, user=user)
    recent.result_file.save("b.csv", ContentFile(b"x"))
    storage, name = old.result_file.storage, old.result_file.name
    assert purge_expired_job_files() == 1
    assert not storage.exists(name)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.result_file and recent.result_file


def test_the_purge_command_says_what_it_removed(capsys):
    call_command("purge_job_files")
    assert "Removed the files of 0 jobs older than" in capsys.readouterr().out


def run_export_through_the_panel(client, query: str, fmt: str, capture) -> bytes:
    """Exportar as a user does it: the form with the list's filters, the
    job a worker runs, the download on the job's page."""
    with capture(execute=True):
        response = client.post(reverse("contacts:export") + f"?{query}", {"format": fmt})
    job = Job.objects.get(pk=Job.objects.latest("pk").pk)
    assert response.url == job.get_absolute_url() and job.status == Job.Status.DONE, job.error
    return b"".join(client.get(reverse("jobs:file", args=[job.token, "result"])).streaming_content)


def listed_names(client, query: str) -> list[str]:
    page = client.get(reverse("contacts:list") + f"?{query}&per_page=100").content.decode()
    return re.findall(r'<div class="app-name" title="([^"]*)"', page)


@pytest.mark.parametrize("query", ["sort=name", "sort=newest", "q=maria&sort=name", "q=maria&sort=newest"])
def test_the_export_lists_contacts_in_the_order_the_list_shows_for_the_same_search_and_sort(
    admin_client, query, monkeypatch, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    # Pages of two rows: the order must hold across pages, ties included.
    monkeypatch.setattr("contacts.transfer.exporting.CHUNK", 2)
    names = ["Ana Maria Souza", "Maria Clara", "Bruno Maria", "Maria Clara", "Zélia", "maria Abreu", "Carlos", "Maria Clara"]
    now = timezone.now()
    for age, name in enumerate(names):
        contact = ContactFactory(name=name)
        Contact.objects.filter(pk=contact.pk).update(created_at=now - timedelta(minutes=[3, 7, 1, 5, 2, 8, 4, 6][age]))
    listed = listed_names(admin_client, query)
    assert len(listed) == (6 if "q=" in query else 8)
    content = run_export_through_the_panel(admin_client, query, "csv", django_capture_on_commit_callbacks)
    exported = [line.split(";")[0] for line in content.decode("utf-8-sig").split("\r\n")[1:] if line]
    assert exported == listed
    if query == "q=maria&sort=name":  # the names that start with the word first, then the others
        assert exported == ["maria Abreu", "Maria Clara", "Maria Clara", "Maria Clara", "Ana Maria Souza", "Bruno Maria"]


def test_a_csv_export_opens_with_numbers_as_text_and_no_cell_that_can_run(admin_client, django_capture_on_commit_callbacks):
    ContactFactory(
        name="'Joana D'Arc", number="5511987654321", cpf_cnpj="012.345.678-90", telegram_id="123456789012",
        company='=HYPERLINK("http://x","clique")', first_name="@SUM(A1)", last_name="-1+2", email="",
    )
    content = run_export_through_the_panel(admin_client, "", "csv", django_capture_on_commit_callbacks).decode("utf-8-sig")
    row = content.split("\r\n")[1]
    assert row == (
        '"=""\'Joana D\'Arc""";"=""+5511987654321""";;"=""012.345.678-90""";;'
        '"=""@SUM(A1)""";"=""-1+2""";"=""=HYPERLINK(""""http://x"""",""""clique"""")""";;;"=""123456789012"""'
    )
    # Every cell that starts with "=" is one text constant: ="…" with its
    # quotes doubled and nothing after the closing quote.
    for cell in next(csv.reader([row], delimiter=";")):
        if cell.startswith("="):
            assert re.fullmatch(r'="(?:[^"]|"")*"', cell), cell


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_names_with_an_apostrophe_and_formula_like_cells_come_back_unchanged_through_export_then_import(
    admin_client, fmt, django_capture_on_commit_callbacks
):
    tricky = ["'Joana", "'=1+1", "''Duas", "=1+1", "+55 loja", "-", "@empresa", '="12"', "'" + "=" * 199]
    for n, name in enumerate(tricky):
        contact = ContactFactory(name=name, company=name, number=f"55119876543{n:02d}", telegram_id=str(10**11 + n))
        CustomField.objects.create(contact=contact, name="Código", value=f"00{n}")
    # Longer than a formula's text may be: OWASP's apostrophe, removed on import.
    CustomField.objects.create(contact=contact, name="Nota", value="'" + "=" * 300)
    before = list(Contact.objects.order_by("pk").values_list("name", "company", "number", "telegram_id"))
    content = run_export_through_the_panel(admin_client, "", fmt, django_capture_on_commit_callbacks)
    with recording(source=Source.IMPORT):
        result = import_contacts(table=read_table(io.BytesIO(content)))
    assert result.counts() == {"rows": len(tricky), "created": 0, "updated": 0, "unchanged": len(tricky), "rejected": 0, "conflicts": 0}, result.errors
    assert list(Contact.objects.order_by("pk").values_list("name", "company", "number", "telegram_id")) == before
    assert sorted(CustomField.objects.values_list("value", flat=True)) == ["'" + "=" * 300] + [f"00{n}" for n in range(len(tricky))]
