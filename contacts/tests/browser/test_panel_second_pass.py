"""The panel as a new user meets it, at 1366x900 and 390x844, as an
administrator and as an agent: every page visited has no sideways scroll on
a phone, no serious or critical axe-core problem and no JavaScript error;
wallet and tag names fit at 1366 px; the filters' chosen labels and the
tag filter fit on a phone's screen; the cards do not paint grey blocks; error pages and the log-in page
are the product's."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from contacts.tests.browser.conftest import ARTIFACTS
from contacts.tests.browser.test_back_and_forward import console_errors  # noqa: F401 (fixture)
from contacts.tests.browser.test_panel import PASSWORD, data, log_in, rows  # noqa: F401 (fixture)
from contacts.tests.browser.test_panel_ux import axe_violations
from contacts.models import Contact
from contacts.tests.factories import ContactFactory, TagFactory, UserFactory, stored_contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
# The search's hint fits its box, in the placeholder's own font.
HINT_FITS = """el => {
    const c = document.createElement('canvas').getContext('2d'); const s = getComputedStyle(el, '::placeholder');
    c.font = `${s.fontSize} ${s.fontFamily}`; const box = getComputedStyle(el);
    return c.measureText(el.placeholder).width <= el.clientWidth - parseFloat(box.paddingLeft) - parseFloat(box.paddingRight);
}"""
# The chosen labels of the selects wider than the room their box leaves them.
CUT_LABELS = """selects => selects.filter(el => {
    const c = document.createElement('canvas').getContext('2d'); const s = getComputedStyle(el);
    c.font = `${s.fontSize} ${s.fontFamily}`;
    return c.measureText(el.selectedOptions[0].text).width > el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
}).map(el => el.selectedOptions[0].text)"""


@pytest.fixture
def office(data):  # noqa: F811
    """The demo's wallet and tag names, an agent, a contact named by its
    number, an old 8-digit number and two duplicates."""
    data["wallet"].name = "Carteira Bruno"
    data["wallet"].save()
    late = TagFactory(name="Inadimplente", color="#dc3545")
    ContactFactory(
        name="Lara Gomes Souza", number="5511987650011", email="lara@empresa.com.br",
        wallet=data["wallet"], tags=[late, data["vip"]], telegram_id="123456789",
    )
    ContactFactory(name="+55 11 98765-0099", number="5511987650099")
    stored_contact(9, name="Seu Zé", number="551187651234")
    stored_contact(2, name="Seu Zé Novo", number="5511987651234")
    agent = UserFactory(username="ana", first_name="Ana")
    agent.groups.add(Group.objects.get(name="Agents"))
    return data


def screenshots_of(page):
    """Screenshots of a page of another browser context than the `page` fixture's."""
    ARTIFACTS.mkdir(exist_ok=True)
    return lambda name: page.screenshot(path=str(ARTIFACTS / f"{name}.png"), caret="initial")


def check_page(page, screenshot, name, errors):
    """At both sizes: a screenshot, no sideways scroll on the phone, axe."""
    page.set_viewport_size(DESKTOP)
    assert axe_violations(page) == [], name
    screenshot(f"50-{name}-1366")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS), f"{name} scrolls sideways at 390 px"
    assert axe_violations(page) == [], name
    screenshot(f"51-{name}-390")
    page.set_viewport_size(DESKTOP)
    assert errors == [], name


def test_every_page_an_administrator_visits_fits_a_phone_passes_axe_and_logs_no_error(page, office, screenshot, console_errors):  # noqa: F811
    page.set_viewport_size(DESKTOP)
    log_in(page)
    check_page(page, screenshot, "list", console_errors)

    # A name of three words, a number with its copy button, wallet and tag
    # names and the three actions fit at 1366 px; the search's hint is whole.
    lara = rows(page).filter(has_text="Lara Gomes Souza")
    for cell in (
        lara.locator(".app-name"),
        lara.locator(".app-cell-phone"),
        lara.locator(".app-cell-wallet"),
        lara.locator(".app-tags .app-chip").first,
        lara.locator(".app-cell-actions"),
    ):
        assert cell.evaluate("el => el.scrollWidth <= el.clientWidth"), cell.inner_text()
    assert page.locator("#filter-q").evaluate(HINT_FITS)
    # The filters keep to one row, and the menu's icons keep their size
    # beside a label on two lines ("Importações e exportações").
    tops = page.locator("#contact-filters > div:not(.app-search), #contact-filters > details").evaluate_all(
        "filters => filters.map(f => f.getBoundingClientRect().top)"
    )
    assert len(set(tops)) == 1, tops
    icons = page.locator(".app-nav-link svg").evaluate_all("icons => icons.map(i => i.getBoundingClientRect().width)")
    assert set(icons) == {20}, icons
    # Named ones first; the one named by its number last, with a neutral avatar.
    expect(rows(page).last).to_contain_text("+55 11 98765-0099")
    expect(rows(page).last.locator(".app-avatar-neutral")).to_be_visible()
    expect(page.locator("#contact-results")).to_contain_text("+55 11 8765-1234")

    # On a phone the tags' menu stays on the screen, and a card has no grey
    # blocks under the pointer.
    page.set_viewport_size(PHONE)
    # Two filters a row, each showing its whole chosen label, under the
    # search's whole hint.
    cut = page.locator(".app-filters select").evaluate_all(CUT_LABELS)
    assert cut == [], cut
    assert page.locator("#filter-q").evaluate(HINT_FITS)
    page.click("#tag-filter-summary")
    menu = page.locator(".app-dropdown-menu")
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # Its hint inside it, not across its top border.
    assert page.locator(".app-dropdown-hint").bounding_box()["y"] > box["y"]
    assert axe_violations(page) == []
    screenshot("51-tag-menu-390")
    page.click("h1")
    rows(page).first.locator(".app-cell-name").hover()
    shadows = rows(page).first.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c).boxShadow)")
    assert set(shadows) == {"none"}
    page.set_viewport_size(DESKTOP)

    page.goto("/contacts/add/")
    expect(page.locator("#id_birth_date")).to_have_attribute("inputmode", "numeric")
    check_page(page, screenshot, "contact-form", console_errors)

    page.goto("/contacts/duplicates/")
    page.click("button:has-text('Procurar duplicados')")
    expect(page.locator(".app-dup-groups")).to_contain_text("+55 11 8765-1234")
    check_page(page, screenshot, "duplicates-preview", console_errors)
    page.click("button[name=all]")
    expect(page.locator(".alert-success")).to_contain_text("1 grupo mesclado")
    check_page(page, screenshot, "duplicates-merged", console_errors)
    page.goto("/contacts/duplicates/")
    check_page(page, screenshot, "duplicates-start", console_errors)

    response = page.goto("/contacts/999999/edit/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Página não encontrada")
    # The browser reports the page's own status as an error: that one is expected.
    console_errors[:] = [error for error in console_errors if "/contacts/999999/edit/" not in error]
    check_page(page, screenshot, "404", console_errors)
    page.click("a:has-text('Voltar')")
    expect(page).to_have_url("/contacts/duplicates/")

    # The tickets' filters too ("Qualquer situação").
    page.set_viewport_size(PHONE)
    page.goto("/tickets/")
    cut = page.locator(".app-filters select").evaluate_all(CUT_LABELS)
    assert cut == [], cut
    # A contact's tabs all show on a phone, the last one ("Mesclar com…") too.
    lara = Contact.objects.get(name="Lara Gomes Souza")
    page.goto(f"/contacts/{lara.pk}/merge/")
    assert page.locator(".app-tabs").evaluate("el => el.scrollWidth <= el.clientWidth")
    page.set_viewport_size(DESKTOP)


def test_an_agent_meets_the_403_page_and_the_list_on_a_phone(browser, live_server, office):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    screenshot = screenshots_of(page)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" and "403" not in message.text else None)
    log_in(page, "ana")
    check_page(page, screenshot, "agent-list", errors)
    response = page.goto("/contacts/duplicates/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Acesso negado")
    expect(page.locator("nav.app-sidebar")).to_contain_text("Contatos")
    check_page(page, screenshot, "403", errors)
    context.close()


def test_the_log_in_page_names_the_product_on_a_phone_and_counts_the_attempts_left(browser, live_server, office):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()
    screenshot = screenshots_of(page)
    page.goto("/login/")
    expect(page.locator(".app-login .app-brand-name")).to_be_visible()
    page.fill("#id_username", "ana")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".alert-danger")).to_contain_text("Restam 4 tentativas antes do bloqueio.")
    assert page.evaluate(NO_SIDEWAYS)
    assert axe_violations(page) == []
    screenshot("51-login-390")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Contatos")
    context.close()
