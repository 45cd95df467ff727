"""Importar and Exportar in a real browser: upload, mapping, preview,
confirm, progress page, error report download, export download, and the
files opened."""

import io
import re

import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook

from contacts.models import Contact
from contacts.tests.browser.test_panel import data, log_in, rows  # noqa: F401 (fixture)
from contacts.tests.browser.test_panel_ux import axe_violations
from contacts.tests.spreadsheet_files import xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def opened(download) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(open(download.path(), "rb").read())).get_sheet_by_index(0).to_python()


def test_import_then_export_through_the_panel(page, data, screenshot, tmp_path, csp_violations):  # noqa: F811
    sheet = tmp_path / "clientes.xlsx"
    sheet.write_bytes(
        xlsx(
            [
                ["Nome", "Celular", "E-mail", "Cidade"],
                ["Carla Importada", 5.511912345678e12, "carla@x.com", "Recife"],
                ["João da Silva", "(11) 98765-4321", "joao.novo@x.com", "Natal"],
                ["Sem Número", "123", "", ""],
            ]
        )
    )
    log_in(page)
    page.click("a:has-text('Importar')")
    expect(page.locator("h1")).to_have_text("Importar contatos")
    screenshot("30-import-upload")
    page.set_input_files("input[type=file]", str(sheet))
    page.click("button:has-text('Continuar')")

    expect(page.locator(".app-mapping")).to_be_visible()
    expect(page.locator(".app-mapping")).to_contain_text("Carla Importada")
    assert page.locator("select[name=column_1]").input_value() == "number"
    assert page.locator("select[name=column_3]").input_value() == "extra:Cidade"
    screenshot("31-import-mapping")
    # On a phone every column's "Vai para" choice is on the screen, and
    # nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    for choice in page.locator(".app-mapping select").all():
        box = choice.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, choice.get_attribute("name")
    assert axe_violations(page) == []
    screenshot("31-import-mapping-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click("button:has-text('Ver a prévia')")

    expect(page.locator(".app-counts")).to_be_visible()
    expect(page.locator(".app-counts")).to_contain_text("A criar")
    expect(page.locator(".app-preview-rows")).to_contain_text("telefone válido")
    expect(page.locator(".app-preview-rows")).to_contain_text("joao.novo@x.com")
    assert not Contact.objects.filter(name="Carla Importada").exists()  # nothing written before confirming
    screenshot("32-import-preview")
    page.click("button:has-text('Importar')")

    expect(page.locator(".app-counts")).to_contain_text("Criados")
    screenshot("33-import-done")
    with page.expect_download() as report:
        page.click("a:has-text('Baixar o relatório de erros')")
    report_rows = opened(report.value)
    assert report_rows[0][-1] == "Erro" and report_rows[1][0] == "Sem Número"
    assert Contact.objects.get(name="Carla Importada").custom_fields.get().value == "Recife"
    assert Contact.objects.get(name="João da Silva").email == "joao.novo@x.com"

    page.click("a:has-text('Ver os contatos')")
    expect(rows(page)).to_have_count(2)  # the import's two contacts, not the whole list
    page.fill("#filter-q", "importada")
    expect(rows(page)).to_have_count(1)
    page.click("a:has-text('Exportar')")
    expect(page.locator(".app-filter-chip").first).to_contain_text("importada")
    expect(page.locator(".app-filter-chip").last).to_contain_text("Importação: clientes.xlsx")
    screenshot("34-export")
    page.click("button:has-text('Exportar')")
    with page.expect_download() as export:
        page.click("a:has-text('Baixar o arquivo')")
    exported = opened(export.value)
    assert exported[0][:2] == ["Nome", "Número"]
    assert [row[0] for row in exported[1:]] == ["Carla Importada"]
    assert exported[1][1] == "+5511912345678"

    page.set_viewport_size({"width": 390, "height": 844})
    page.go_back()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot("35-export-done-phone")
    assert csp_violations == []


def test_the_preview_shows_conflicts_apart_each_change_and_reads_on_a_phone(page, data, screenshot, tmp_path, csp_violations):  # noqa: F811
    sheet = tmp_path / "clientes.csv"
    lines = [
        "Nome;Celular;E-mail;Empresa;Cidade",
        "João da Silva;(21) 99999-0000;joao@exemplo.com.br;;",  # found by e-mail, another number: a conflict
        "Maria Souza;(21) 91234-0000;;Padaria Pão Quente;Recife",  # updated
        "Carla Nova;(11) 91111-2222;carla@x.com;;Natal",
        "Carla N.;11911112222;;ACME;",  # the same number again
        "Sem Número;123;;;",
    ]
    sheet.write_text("\r\n".join(lines), encoding="utf-8")
    log_in(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/contacts/import/")
    page.set_input_files("input[type=file]", str(sheet))
    page.click("button:has-text('Continuar')")
    page.click("button:has-text('Ver a prévia')")

    expect(page.locator(".app-preview-tabs .active")).to_contain_text("Conflitos")
    expect(page.locator(".app-preview-rows")).to_contain_text("+55 21 99999-0000")
    expect(page.locator(".app-preview-rows .app-preview-row")).to_have_count(1)
    screenshot("35-import-preview-conflicts")
    page.click(".app-preview-tabs a:has-text('Todas')")
    expect(page.locator(".app-preview-rows .app-preview-row")).to_have_count(5)
    expect(page.locator(".app-preview-rows")).to_contain_text("Padaria Pão Quente")
    expect(page.locator(".app-preview-rows")).to_contain_text("também está na linha 4")
    screenshot("36-import-preview-rows")
    page.screenshot(path=str(tmp_path.parent / "preview-desktop.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot("37-import-preview-phone")
    page.screenshot(path=str(tmp_path.parent / "preview-phone.png"), full_page=True)

    page.check("input[name=conflicts][value=overwrite]")
    page.click("button:has-text('Importar')")
    expect(page.locator(".app-counts")).to_contain_text("Conflitos sobrescritos")
    assert Contact.objects.get(email="joao@exemplo.com.br").number == "5521999990000"
    page.click("a:has-text('Ver os contatos')")
    expect(rows(page)).to_have_count(3)  # João, Maria and Carla: not the list's other contacts
    assert not csp_violations


def test_the_previews_pages_are_plain_links_that_keep_the_chosen_list(page, data, tmp_path):  # noqa: F811
    sheet = tmp_path / "muitos.csv"
    sheet.write_text("\r\n".join(["Nome;Celular", *(f"Pessoa {n:03d};1191{n:07d}" for n in range(120))]), encoding="utf-8")
    log_in(page)
    page.goto("/contacts/import/")
    page.set_input_files("input[type=file]", str(sheet))
    page.click("button:has-text('Continuar')")
    page.click("button:has-text('Ver a prévia')")
    expect(page.locator(".app-preview-row")).to_have_count(50)
    page.click(".app-preview-tabs a:has-text('A criar')")
    page.click(".pagination a:has-text('3')")
    expect(page).to_have_url(re.compile(r"\?show=created&page=3$"))
    expect(page.locator(".app-preview-row")).to_have_count(20)
    expect(page.locator(".app-preview-rows")).to_contain_text("Pessoa 119")
    expect(page.locator("h1")).to_have_count(1)  # a page of its own, not one pasted into a link


def test_the_mapping_step_says_how_many_columns_of_additional_information_the_rows_may_have(page, data, screenshot, tmp_path, settings):  # noqa: F811
    settings.IMPORT_MAX_EXTRA_VALUES = 3
    sheet = tmp_path / "clientes.csv"
    lines = ["Nome;Celular;Cidade;Cargo", "Ana;11987654321;Recife;Gerente", "Bia;11912345678;Natal;Analista"]
    sheet.write_text("\r\n".join(lines), encoding="utf-8")
    log_in(page)
    page.goto("/contacts/import/")
    page.set_input_files("input[type=file]", str(sheet))
    page.click("button:has-text('Continuar')")
    page.select_option("select[name=column_3]", "extra:Cargo")
    page.click("button:has-text('Ver a prévia')")
    message = page.locator(".app-mapping, form").get_by_text("As colunas escolhidas como informação adicional têm 4 valores; uma importação aceita no máximo 3.")
    expect(message.first).to_be_visible()
    screenshot("32-import-mapping-too-many-extra-columns")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    expect(message.first).to_be_visible()
    screenshot("32-import-mapping-too-many-extra-columns-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.select_option("select[name=column_3]", "")
    page.click("button:has-text('Ver a prévia')")
    expect(page.locator(".app-counts")).to_be_visible()
    assert not Contact.objects.filter(name="Ana").exists()  # a preview writes nothing
