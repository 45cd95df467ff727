"""The history of a contact, in a real browser: edit it in the popup, then
read the change in its "Histórico" tab; the same without JavaScript."""

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from contacts.tests.browser.test_panel import data, log_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_edit_shows_in_the_history_tab(page, data, screenshot, csp_violations):  # noqa: F811
    joao = Contact.objects.get(name="João da Silva")
    log_in(page)
    modal = page.locator("#modal")
    page.click(f"#contact-{joao.pk} a[title='Editar']")
    modal.locator("#id_company").fill("Mercado Bom Preço")
    modal.locator("button:has-text('Salvar')").click()
    expect(modal).to_be_hidden()

    page.click(f"#contact-{joao.pk} a[title='Editar']")
    expect(modal).to_be_visible()
    modal.locator(".app-tabs a:has-text('Histórico')").click()
    history = modal.locator("#contact-tab-history")
    expect(history).to_be_visible()
    expect(history).to_contain_text("Alice preencheu Empresa com “Mercado Bom Preço”")
    expect(history).to_contain_text("agora")
    expect(modal.locator("#contact-tab-data")).to_be_hidden()
    screenshot("10-history-tab")

    # Back to the form: it is still there, unchanged.
    modal.locator(".app-tabs a:has-text('Dados')").click()
    expect(modal.locator("#id_company")).to_have_value("Mercado Bom Preço")

    page.set_viewport_size({"width": 390, "height": 844})
    modal.locator(".app-tabs a:has-text('Histórico')").click()
    expect(history).to_contain_text("Mercado Bom Preço")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot("11-history-tab-mobile")
    assert csp_violations == []


def test_the_history_works_without_javascript(browser, live_server, data):  # noqa: F811
    joao = Contact.objects.get(name="João da Silva")
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    log_in(page)
    page.goto(f"/contacts/{joao.pk}/edit/")
    page.fill("#id_company", "Loja Nova")
    page.click("button:has-text('Salvar')")
    page.goto(f"/contacts/{joao.pk}/edit/")
    page.click(".app-tabs a:has-text('Histórico')")
    expect(page.locator("#contact-history")).to_contain_text("preencheu Empresa com “Loja Nova”")
    context.close()
