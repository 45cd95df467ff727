"""Importar's preview tells the truth about each row: every row, a page at
a time, with what it does (each changed field old → new, a rejected row's
cell quoted); a row that would turn a contact into someone else is a
conflict, left out unless the user chooses to overwrite; a number repeated
in the file is flagged; "Ver os contatos" lists the import's contacts."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import user_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from contacts.tests.spreadsheet_files import csv_bytes, upload
from jobs.models import Job

pytestmark = pytest.mark.django_db


def preview_through_the_panel(client, rows, execute, *, name="lista.csv") -> Job:
    """Upload, keep the guessed columns, preview. Returns the preview job."""
    response = client.post(reverse("contacts:import"), {"file": upload(csv_bytes(rows), name)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.latest("pk")
    form = client.get(job.get_absolute_url()).context["form"]
    with execute(execute=True):
        client.post(job.get_absolute_url(), {f"column_{i}": form[f"column_{i}"].initial for i in range(len(form.headers))})
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    return job


def confirm(client, preview, execute, **data) -> Job:
    with execute(execute=True):
        response = client.post(reverse("contacts:import_confirm", args=[preview.token]), data)
    assert response.status_code == 302
    job = Job.objects.latest("pk")
    assert job.kind == Job.Kind.IMPORT and job.status == Job.Status.DONE, job.error
    return job


def page_of(client, job, **query) -> str:
    response = client.get(job.get_absolute_url(), query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_preview_lists_every_row_a_page_at_a_time_and_by_what_it_does(admin_client, django_capture_on_commit_callbacks):
    ContactFactory(name="Já Existe", number="5511900000001", company="Igual")
    rows = [["Nome", "Telefone", "Empresa"], ["Já Existe", "11900000001", "Igual"], ["Sem Número", "", "Nada"]]
    rows += [[f"Pessoa {n:03d}", f"1191{n:07d}", ""] for n in range(120)]
    preview = preview_through_the_panel(admin_client, rows, django_capture_on_commit_callbacks)

    first = page_of(admin_client, preview)
    assert "Linha 2" in first and "Linha 51" in first and "Linha 52" not in first  # 50 rows a page, in file order
    assert "Pessoa 047" in first and "Pessoa 048" not in first
    last = page_of(admin_client, preview, page=3)
    assert "Linha 102" in last and "Linha 123" in last and "Linha 101" not in last
    assert "Pessoa 120" not in last and "Pessoa 119" in last

    unchanged = page_of(admin_client, preview, show="unchanged")
    assert "Já Existe" in unchanged and "Pessoa 000" not in unchanged
    rejected = page_of(admin_client, preview, show="rejected")
    assert "Linha 3" in rejected and "não tem número" in rejected and "Já Existe" not in rejected
    created = page_of(admin_client, preview, show="created", page=3)
    assert "Pessoa 100" in created and "Pessoa 119" in created and "Pessoa 099" not in created
    # A garbled page or list shows the nearest page of every row, never an error.
    assert "Linha 2" in page_of(admin_client, preview, show="nonsense", page="x")
    assert not Contact.objects.filter(name__startswith="Pessoa").exists()


def test_an_updated_row_shows_each_field_it_changes_old_and_new(admin_client, django_capture_on_commit_callbacks):
    from datetime import date

    from contacts.tests.factories import WalletFactory

    WalletFactory(name="Carteira Sul")
    ContactFactory(name="Maria", number="5511987654321", company="Padaria Antiga", email="", birth_date=date(1980, 5, 4))
    preview = preview_through_the_panel(
        admin_client,
        [
            ["Nome", "Telefone", "Empresa", "E-mail", "Cidade", "Nascimento", "Carteira", "Etiquetas"],
            ["Maria", "11987654321", "Padaria Nova", "maria@x.com", "Natal", "09/03/1990", "carteira sul", "VIP, Atacado"],
        ],
        django_capture_on_commit_callbacks,
    )
    html = page_of(admin_client, preview, show="updated")
    assert "<del>04/05/1980</del> → <ins>09/03/1990</ins>" in html
    assert "Carteira:</span> <ins>Carteira Sul</ins>" in html
    assert "Etiquetas:</span> <ins>VIP, Atacado</ins>" in html
    assert "<del>Padaria Antiga</del> → <ins>Padaria Nova</ins>" in html
    assert "E-mail:</span> <ins>maria@x.com</ins>" in html  # was empty: only the new value
    assert "Cidade:</span> <ins>Natal</ins>" in html  # an extra field
    assert "Nome:" not in html  # the same name is no change


def test_a_rejected_row_says_why_quoting_the_cell(admin_client, django_capture_on_commit_callbacks):
    preview = preview_through_the_panel(
        admin_client, [["Nome", "Telefone"], ["Ana", "11987654321"], ["Bia", "12-3"]], django_capture_on_commit_callbacks
    )
    html = page_of(admin_client, preview, show="rejected")
    assert "Telefone “12-3”: Informe um telefone válido" in html
    assert preview.result["errors"] == [[3, "Telefone “12-3”: Informe um telefone válido: DDI + DDD + número, como +55 11 98765-4321."]]


def test_a_row_found_by_email_that_would_change_the_contacts_number_is_a_conflict_left_out_by_default(
    admin_client, django_capture_on_commit_callbacks
):
    carla = ContactFactory(name="Carla", number="5511987654321", email="carla@x.com")
    preview = preview_through_the_panel(
        admin_client,
        [["Nome", "Telefone", "E-mail", "Empresa"], ["Carla", "21912345678", "carla@x.com", "Nova"], ["Davi", "31912345678", "", ""]],
        django_capture_on_commit_callbacks,
    )
    assert {key: preview.result[key] for key in ("created", "updated", "conflicts", "conflicts_found")} == {
        "created": 1, "updated": 0, "conflicts": 1, "conflicts_found": 1,
    }
    html = page_of(admin_client, preview)
    # Shown apart: the conflicts are the list the preview opens on, with the choice to overwrite.
    assert 'aria-current="page" href="?show=conflict"' in html
    assert "Linha 2" in html and "Linha 3" not in html
    assert "<del>+55 11 98765-4321</del> → <ins>+55 21 91234-5678</ins>" in html
    assert "pelo campo E-mail (carla@x.com)" in html
    assert 'name="conflicts" value="overwrite"' in html and 'value="skip" class="form-check-input" id="id_conflicts_0" checked' in html

    job = confirm(admin_client, preview, django_capture_on_commit_callbacks)
    carla.refresh_from_db()
    assert (carla.number, carla.company) == ("5511987654321", "")  # the whole row left out
    assert Contact.objects.filter(name="Davi").exists()
    assert job.result["conflicts"] == 1 and job.result["conflict_rows"][0][0] == 2
    done = page_of(admin_client, job)
    assert "Conflitos deixados de fora" in done and "+55 21 91234-5678" in done


def test_conflicting_rows_are_applied_when_the_user_chooses_to_overwrite(admin_client, django_capture_on_commit_callbacks):
    carla = ContactFactory(name="Carla", number="5511987654321", cpf_cnpj="529.982.247-25")
    preview = preview_through_the_panel(
        admin_client, [["Nome", "CPF", "Telefone"], ["Carla", "52998224725", "21912345678"]], django_capture_on_commit_callbacks
    )
    assert preview.result["conflicts"] == 1
    job = confirm(admin_client, preview, django_capture_on_commit_callbacks, conflicts="overwrite")
    carla.refresh_from_db()
    assert carla.number == "5521912345678"
    assert (job.result["updated"], job.result["conflicts"], job.result["conflicts_found"]) == (1, 0, 1)
    assert "Conflitos sobrescritos" in page_of(admin_client, job)


def test_a_conflict_choice_that_is_not_one_of_the_two_imports_nothing_and_says_so(admin_client, django_capture_on_commit_callbacks):
    ContactFactory(name="Carla", number="5511987654321", email="carla@x.com")
    preview = preview_through_the_panel(admin_client, [["Telefone", "E-mail"], ["21912345678", "carla@x.com"]], django_capture_on_commit_callbacks)
    response = admin_client.post(reverse("contacts:import_confirm", args=[preview.token]), {"conflicts": "both"}, follow=True)
    assert "Escolha o que fazer com as linhas em conflito." in response.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.IMPORT).exists()


def test_a_row_found_by_its_number_keeps_a_filled_cpf_unless_overwritten(tmp_path, capsys):
    bia = ContactFactory(name="Bia", number="5511987654321", cpf_cnpj="529.982.247-25")
    path = tmp_path / "lista.csv"
    path.write_bytes(csv_bytes([["Telefone", "CPF"], ["11987654321", "11144477735"]]))
    call_command("import_contacts", str(path))
    bia.refresh_from_db()
    assert bia.cpf_cnpj == "529.982.247-25"
    assert (
        "row 2: conflict, left out: Encontrado como Bia pelo campo Número (+55 11 98765-4321); "
        "a planilha substituiria CPF/CNPJ 529.982.247-25 por 111.444.777-35."
    ) in capsys.readouterr().out


def test_the_command_leaves_conflicts_out_by_default_and_overwrites_them_when_asked_printing_each(tmp_path, capsys):
    carla = ContactFactory(name="Carla", number="5511987654321", email="carla@x.com")
    telegram = ContactFactory(name="Teo", number="5511900000009", telegram_id="777")
    path = tmp_path / "lista.csv"
    path.write_bytes(
        csv_bytes([["Telefone", "E-mail", "Id Telegram"], ["21912345678", "carla@x.com", ""], ["21900000009", "", "777"], ["31912345678", "", ""]])
    )
    call_command("import_contacts", str(path))
    out = capsys.readouterr().out
    assert "row 2: conflict, left out: Encontrado como Carla pelo campo E-mail (carla@x.com)" in out
    assert "Número +55 11 98765-4321 por +55 21 91234-5678" in out
    assert "row 3: conflict, left out: Encontrado como Teo pelo campo Id Telegram (777)" in out
    assert "Imported 3 rows: 1 created, 0 updated, 0 unchanged, 0 rejected, 2 conflicts left out." in out
    carla.refresh_from_db()
    telegram.refresh_from_db()
    assert (carla.number, telegram.number) == ("5511987654321", "5511900000009")

    call_command("import_contacts", str(path), "--conflicts", "overwrite")
    out = capsys.readouterr().out
    assert "row 2: conflict, overwritten:" in out and "row 3: conflict, overwritten:" in out
    assert "Imported 3 rows: 0 created, 2 updated, 1 unchanged, 0 rejected, 2 conflicts overwritten." in out
    carla.refresh_from_db()
    telegram.refresh_from_db()
    assert (carla.number, telegram.number) == ("5521912345678", "5521900000009")


def test_the_command_refuses_a_conflict_choice_it_does_not_know(tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "lista.csv"
    path.write_bytes(csv_bytes([["Telefone"], ["11987654321"]]))
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_contacts", str(path), "--conflicts", "both")
    assert not Contact.objects.exists()


def test_a_number_in_several_rows_of_one_file_is_flagged_in_the_preview(admin_client, django_capture_on_commit_callbacks):
    preview = preview_through_the_panel(
        admin_client,
        [["Nome", "Telefone", "Empresa"], ["Ana", "11987654321", "A"], ["Bia", "21912345678", ""], ["Ana Souza", "(11) 98765-4321", "B"]],
        django_capture_on_commit_callbacks,
    )
    assert preview.result["repeated_numbers"] == 1
    html = page_of(admin_client, preview)
    assert "1 linha tem um número que uma linha anterior do arquivo também tem" in html
    flagged = page_of(admin_client, preview, show="flagged")
    assert "O número +55 11 98765-4321 também está na linha 2." in flagged
    assert "Linha 4" in flagged and "Bia" not in flagged


def test_see_the_contacts_after_an_import_lists_only_the_contacts_it_created_and_updated(admin_client, django_capture_on_commit_callbacks):
    ContactFactory(name="Antiga Intocada", number="5511900000001")
    updated = ContactFactory(name="Antiga Atualizada", number="5511900000002", company="")
    ContactFactory(name="Antiga Igual", number="5511900000003", company="Igual")
    preview = preview_through_the_panel(
        admin_client,
        [["Nome", "Telefone", "Empresa"], ["Nova Pessoa", "11987654321", ""], ["Antiga Atualizada", "11900000002", "Nova"], ["Antiga Igual", "11900000003", "Igual"]],
        django_capture_on_commit_callbacks,
    )
    job = confirm(admin_client, preview, django_capture_on_commit_callbacks)
    link = f"{reverse('contacts:list')}?imported={job.token}"
    assert f'href="{link}"' in page_of(admin_client, job)

    response = admin_client.get(link)
    assert sorted(contact.name for contact in response.context["object_list"]) == ["Antiga Atualizada", "Nova Pessoa"]
    html = response.content.decode()
    assert "lista.csv" in html  # the filter's chip names the file
    # Searching keeps to the import's contacts.
    assert [c.pk for c in admin_client.get(link + "&q=antiga").context["object_list"]] == [updated.pk]
    # The export of that list holds the same contacts.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("contacts:export") + f"?imported={job.token}", {"format": "csv"})
    export = Job.objects.latest("pk")
    assert export.kind == Job.Kind.EXPORT and export.result["rows"] == 2


def test_another_users_import_in_the_list_filter_shows_no_contact(admin_client, django_capture_on_commit_callbacks):
    preview = preview_through_the_panel(admin_client, [["Nome", "Telefone"], ["Nova", "11987654321"]], django_capture_on_commit_callbacks)
    job = confirm(admin_client, preview, django_capture_on_commit_callbacks)
    admin_client.force_login(user_in("Administrators", "bruno-admin"))
    response = admin_client.get(reverse("contacts:list"), {"imported": str(job.token)})
    assert response.status_code == 200 and list(response.context["object_list"]) == []


def test_later_rows_about_a_contact_the_file_creates_update_it_and_the_preview_shows_the_number_change(
    admin_client, django_capture_on_commit_callbacks
):
    preview = preview_through_the_panel(
        admin_client,
        [["Nome", "Telefone", "E-mail"], ["Ana", "11987654321", "ana@x.com"], ["Ana Souza", "21987654321", "ana@x.com"]],
        django_capture_on_commit_callbacks,
    )
    assert (preview.result["created"], preview.result["updated"], preview.result["conflicts"]) == (1, 1, 0)
    html = page_of(admin_client, preview, show="updated")
    assert "<del>+55 11 98765-4321</del> → <ins>+55 21 98765-4321</ins>" in html


def test_a_rows_warnings_are_shown_with_it_in_the_preview(admin_client, django_capture_on_commit_callbacks, monkeypatch):
    from contacts.transfer.planning import RowCleaner

    clean = RowCleaner.clean

    def clean_with_a_warning(self, number, cells):
        row = clean(self, number, cells)
        if number == 3:
            row.warnings.append("Nascimento “31/02/1991” não é uma data: a linha entra sem ela.")
        return row

    monkeypatch.setattr(RowCleaner, "clean", clean_with_a_warning)
    preview = preview_through_the_panel(
        admin_client, [["Nome", "Telefone"], ["Ana", "11987654321"], ["Bia", "21987654321"]], django_capture_on_commit_callbacks
    )
    flagged = page_of(admin_client, preview, show="flagged")
    assert "Linha 3" in flagged and "Nascimento “31/02/1991” não é uma data" in flagged and "Linha 2" not in flagged


def test_a_preview_whose_rows_file_is_gone_still_shows_its_counts(admin_client, django_capture_on_commit_callbacks):
    preview = preview_through_the_panel(admin_client, [["Nome", "Telefone"], ["Ana", "11987654321"], ["Bia", "1"]], django_capture_on_commit_callbacks)
    preview.result_file.storage.delete(preview.result_file.name)
    html = page_of(admin_client, preview)
    assert "A criar" in html and "Telefone “1”" in html  # the first rejected rows kept in the job
