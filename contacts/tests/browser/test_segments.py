"""Saved segments in a real browser: filter the list, save the search in the
popup, find its chip above the list, come back to it from another search
with one click; on a phone the chips wrap and nothing scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

from contacts.models import Segment
from contacts.tests.browser.test_panel import data, log_in, rows  # noqa: F401 (fixture)
from contacts.tests.browser.test_panel_ux import axe_violations
from contacts.tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_search_saved_as_a_segment_comes_back_with_one_click_on_its_chip(page, data, screenshot, csp_violations):  # noqa: F811
    ContactFactory(name="Joana Prado", number="5511955554444", tags=[data["vip"]])
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page)
    expect(rows(page)).to_have_count(4)
    expect(page.locator("#segment-chips")).to_be_hidden()  # nothing saved, nothing to save

    page.locator("summary", has_text="Etiquetas").click()
    page.get_by_role("checkbox", name="VIP", exact=True).check()
    expect(rows(page)).to_have_count(2)
    page.get_by_role("link", name="Salvar como segmento").click()
    dialog = page.locator("#modal")
    expect(dialog).to_contain_text("Etiqueta: VIP")
    dialog.get_by_label("Nome do segmento").fill("Clientes VIP")
    screenshot("segments-01-save-popup")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Salvar").click()

    expect(page).to_have_url(re.compile(r"/contacts/\?segment=\d+$"))
    segment = Segment.objects.get()
    expect(page).to_have_url(f"/contacts/?segment={segment.pk}")
    chip = page.locator("#segment-chips a", has_text="Clientes VIP")
    expect(chip).to_have_attribute("aria-current", "true")
    expect(rows(page)).to_have_count(2)
    expect(page.locator(".app-chips")).to_contain_text("Segmento: Clientes VIP")
    screenshot("segments-02-open")

    # Another search; then the chip brings the segment back, controls cleared.
    page.get_by_role("link", name="Limpar filtros").first.click()
    expect(rows(page)).to_have_count(4)
    page.fill("#filter-q", "maria")
    expect(rows(page)).to_have_count(1)
    expect(chip).not_to_have_attribute("aria-current", "true")
    chip.click()
    expect(page).to_have_url(f"/contacts/?segment={segment.pk}")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#filter-q")).to_have_value("")
    expect(chip).to_have_attribute("aria-current", "true")
    # The controls narrow it further, the segment stays.
    page.fill("#filter-q", "joana")
    expect(rows(page)).to_have_count(1)
    expect(page).to_have_url(f"/contacts/?segment={segment.pk}&q=joana")
    assert axe_violations(page) == []

    page.set_viewport_size({"width": 390, "height": 844})
    chip.click()
    expect(rows(page)).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot("segments-03-phone")
    assert csp_violations == []


def test_a_segment_is_renamed_and_deleted_from_its_page(page, data, screenshot):  # noqa: F811
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    Segment.objects.create(name="Sem carteira", owner=admin, filters={"wallet": "none"})
    Segment.objects.create(name="Antigos", owner=admin, shared=True, filters={"tag": ["999"]}, labels={"tag": {"999": "Antigo"}})
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.locator("#segment-chips a", has_text="Antigos").click()
    expect(page.locator("#contact-results .alert")).to_contain_text("A etiqueta “Antigo” do segmento “Antigos” foi excluída")
    expect(rows(page)).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot("segments-05-problem-phone")
    page.get_by_role("link", name="Gerenciar segmentos").first.click()
    expect(page.locator(".app-segment-list")).to_contain_text("foi excluída")
    screenshot("segments-06-manage-phone")
    page.locator("li", has_text="Antigos").get_by_role("link", name="Excluir").click()
    page.locator("#modal").get_by_role("button", name="Excluir").click()
    expect(page.locator(".app-segment-list")).not_to_contain_text("Antigos")
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(page.locator("h1")).to_have_text("Segmentos")
    expect(page.locator(".app-segment-list")).to_contain_text("Carteira: Sem carteira")
    page.get_by_role("link", name="Renomear").click()
    page.locator("#modal").get_by_label("Nome do segmento").fill("Avulsos")
    page.locator("#modal").get_by_role("button", name="Salvar").click()
    expect(page.locator(".app-segment-list")).to_contain_text("Avulsos")
    screenshot("segments-04-manage")
    page.get_by_role("link", name="Excluir").click()
    page.locator("#modal").get_by_role("button", name="Excluir").click()
    expect(page.locator(".app-empty")).to_contain_text("Nenhum segmento ainda")
    assert not Segment.objects.exists()
