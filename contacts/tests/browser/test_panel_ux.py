"""The panel as agents use it all day, in a real browser: Back and Forward
bring the controls back with the list, a double click saves once, unsaved
changes are not thrown away silently, a phone never scrolls sideways, the
language switch keeps the filters, and axe-core finds no serious problem."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from contacts.tests.browser.test_panel import data, log_in, rows  # noqa: F401 (fixture)
from contacts.tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def test_back_and_forward_bring_the_controls_back_with_the_list(page, data):  # noqa: F811
    log_in(page)
    expect(rows(page)).to_have_count(3)
    page.fill("#filter-q", "maria")
    expect(rows(page)).to_have_count(1)
    expect(page).to_have_url("/contacts/?q=maria")  # no empty parameters
    page.select_option("#filter-wallet", label="Sem carteira")
    expect(page).to_have_url("/contacts/?q=maria&wallet=none")
    page.fill("#filter-q", "")
    expect(rows(page)).to_have_count(2)

    page.go_back()
    expect(page).to_have_url("/contacts/?q=maria&wallet=none")
    expect(page.locator("#filter-q")).to_have_value("maria")
    expect(page.locator("#filter-wallet")).to_have_value("none")
    page.go_back()
    expect(page.locator("#filter-wallet")).to_have_value("")
    expect(page.locator("#filter-q")).to_have_value("maria")
    expect(rows(page)).to_have_count(1)
    page.go_forward()
    expect(page.locator("#filter-wallet")).to_have_value("none")
    # The next change starts from the state on screen, not a newer one.
    page.select_option("#filter-type", label="Pessoas")
    expect(page).to_have_url("/contacts/?q=maria&wallet=none&type=people")
    expect(rows(page)).to_have_count(1)


def test_removing_a_chip_changes_the_controls_and_the_list_together(page, data):  # noqa: F811
    log_in(page)
    page.goto(f"/contacts/?q=silva&tag={data['vip'].pk}")
    expect(rows(page)).to_have_count(1)
    page.click(".app-filter-chip:has-text('Busca')")
    expect(page).to_have_url(f"/contacts/?tag={data['vip'].pk}")
    expect(page.locator("#filter-q")).to_have_value("")
    page.click(".app-clear-filters")
    expect(rows(page)).to_have_count(3)
    expect(page.locator(f"input[name=tag][value='{data['vip'].pk}']")).not_to_be_checked()
    expect(page).to_have_url("/contacts/")


def test_the_language_switch_keeps_the_search_and_filters(page, data):  # noqa: F811
    log_in(page)
    page.fill("#filter-q", "maria")
    expect(page).to_have_url("/contacts/?q=maria")
    page.click(".app-lang button:has-text('EN')")
    expect(page.locator("h1")).to_have_text("Contacts")
    expect(page).to_have_url("/contacts/?q=maria")
    expect(rows(page)).to_have_count(1)


def test_a_double_click_on_save_creates_one_contact_and_no_duplicate_error(page, data):  # noqa: F811
    log_in(page)
    page.click("a:has-text('Adicionar')")
    modal = page.locator("#modal")
    modal.locator("#id_name").fill("Dora Duplo")
    modal.locator("#id_number").fill("(31) 99876-1234")
    modal.locator("button:has-text('Salvar')").dblclick()
    expect(modal).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Dora Duplo")
    expect(page.locator("#toasts")).not_to_contain_text("Já existe")
    assert Contact.objects.filter(name="Dora Duplo").count() == 1


def test_closing_the_popup_with_unsaved_changes_asks_first(page, data):  # noqa: F811
    joao = Contact.objects.get(name="João da Silva")
    log_in(page)
    modal = page.locator("#modal")
    page.click(f"#contact-{joao.pk} a[title='Editar']")
    expect(modal).to_be_visible()
    modal.locator("#id_company").fill("Mudou")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    modal.locator("a:has-text('Cancelar')").click()
    expect(modal).to_be_visible()
    expect(modal.locator("#id_company")).to_have_value("Mudou")
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    assert questions == ["Descartar as alterações feitas neste contato?"] * 2
    joao.refresh_from_db()
    assert joao.company == ""
    # Unchanged, it closes without a question, and focus goes back to the row.
    page.click(f"#contact-{joao.pk} a[title='Editar']")
    modal.locator("a:has-text('Cancelar')").click()
    expect(modal).to_be_hidden()
    expect(page.locator(f"#contact-{joao.pk} a[title='Editar']")).to_be_focused()


def test_on_a_phone_nothing_scrolls_sideways(page, data, screenshot):  # noqa: F811
    for n in range(30):
        ContactFactory(name=f"Contato Com Um Nome Bem Comprido Número {n:02d}", email=f"alguem.com.nome.longo{n}@empresa-exemplo.com.br")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    no_sideways = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    expect(rows(page).first).to_be_visible()
    assert page.evaluate(no_sideways)
    # Actions are visible on each card, and the pagination fits.
    expect(rows(page).first.locator("a[title='Editar']")).to_be_visible()
    page.locator(".pagination").scroll_into_view_if_needed()
    assert page.evaluate(no_sideways)
    screenshot("20-phone-list")
    page.locator(".pagination").scroll_into_view_if_needed()
    screenshot("21-phone-pagination")
    page.evaluate("window.scrollTo(0, 0)")
    rows(page).first.locator("a[title='Editar']").click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    box = modal.bounding_box()
    assert (box["width"], box["height"]) == (390, 844)  # the whole screen
    expect(modal.locator("button:has-text('Salvar')")).to_be_in_viewport()
    assert page.evaluate(no_sideways)
    screenshot("22-phone-popup")


def axe_violations(page, serious_only=True):
    """Run axe-core in the page (through the browser's debugging protocol, so
    the Content-Security-Policy does not block it)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if not serious_only or v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_problem_on_the_list_the_popup_with_errors_and_the_login(browser, live_server, page, data):  # noqa: F811
    context = browser.new_context(base_url=live_server.url)
    anonymous = context.new_page()
    anonymous.goto("/login/")
    assert axe_violations(anonymous) == []
    context.close()

    log_in(page)
    page.fill("#filter-q", "silva")
    expect(rows(page)).to_have_count(1)
    assert axe_violations(page) == []

    page.click("a:has-text('Adicionar')")
    modal = page.locator("#modal")
    modal.locator("#id_number").fill("12345")
    modal.locator("#id_email").fill("x@")
    modal.locator("button:has-text('Salvar')").click()
    expect(modal).to_contain_text("Informe um telefone válido")
    assert axe_violations(page) == []
