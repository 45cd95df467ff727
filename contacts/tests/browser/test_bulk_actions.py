"""Bulk actions in a real browser: tick rows while a search refreshes the
list, select every result and tag them, at 1366 px and on a phone."""

import pytest
from playwright.sync_api import expect

from contacts.models import Contact, Tag
from contacts.tests.browser.test_panel import data, log_in, rows  # noqa: F401 (fixture)
from contacts.tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_box_ticked_right_after_typing_a_search_stays_ticked(page, data):  # noqa: F811
    ContactFactory(name="Ana Silva")
    log_in(page)
    page.fill("#filter-q", "silva")
    # Ticked before the search's refresh (300 ms later) swaps the rows.
    page.locator("input[data-bulk-row]").first.check()
    expect(rows(page)).to_have_count(2)
    page.wait_for_timeout(600)
    ticked = page.locator("input[data-bulk-row]:checked")
    expect(ticked).to_have_count(1)
    expect(page.locator("#bulk-form [data-bulk-count]")).to_have_text("1 contato selecionado")


def test_selecting_every_result_and_tagging_them(page, data, screenshot, csp_violations):  # noqa: F811
    for n in range(30):
        ContactFactory(name=f"Cliente {n:02d} Silva")
    log_in(page)
    expect(page.locator("#bulk-form")).to_be_hidden()
    page.fill("#filter-q", "silva")
    expect(page.locator(".app-select-all")).to_contain_text("Selecionar todos os 31 resultados")
    page.locator("input[data-bulk-all]").check()
    bar = page.locator("#bulk-form")
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_contain_text("31")
    screenshot("bulk-01-every-result")
    bar.locator("button:has-text('Adicionar etiqueta')").click()

    expect(page.locator("h1")).to_have_text("Ação em massa")
    page.select_option("#id_tag", label="VIP")
    page.click("button:has-text('Contar os contatos')")
    expect(page.locator("#bulk-count")).to_have_text("30 contatos ganharão a etiqueta VIP; 1 já a tem.")
    screenshot("bulk-02-count")
    page.click("button:has-text('Confirmar')")
    expect(page.locator("#job-status")).to_contain_text("Pronto: 30 de 31 contatos alterados")
    screenshot("bulk-03-done")
    vip = Tag.objects.get(name="VIP")
    assert vip.contacts.filter(name__contains="Silva").count() == 31
    assert vip.contacts.count() == 31  # Maria Souza was not in the search

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/contacts/?q=silva")
    page.locator("input[data-bulk-row]").first.check()
    expect(page.locator("#bulk-form")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot("bulk-04-phone")
    assert csp_violations == []
    assert Contact.objects.count() == 33
