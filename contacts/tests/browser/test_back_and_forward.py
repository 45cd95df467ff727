"""Back and Forward through the list's searches, in a real browser: one
history entry per settled search and none for opening a control; every step
brings the list back with its copy buttons, and no step logs a JavaScript
error."""

import contextlib

import pytest
from playwright.sync_api import Error, expect

from contacts.tests.browser.test_panel import data, log_in, rows  # noqa: F401 (fixture)
from contacts.tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def console_errors(page):
    """Uncaught exceptions and console errors (a failed resource load, the
    favicon's 404 included), as text; a test asserts the list is empty."""
    errors = []
    page.on("pageerror", lambda error: errors.append(f"{error}: {error.stack}"))
    page.on("console", lambda message: errors.append(f"{message.text} at {message.location}") if message.type == "error" else None)
    return errors


def entries(page):
    return page.evaluate("history.length")


def settle(page):
    # Longer than the search's 300 ms pause and the "settled" 1.5 s.
    page.wait_for_timeout(1700)


def test_back_and_forward_walk_three_searches_without_a_javascript_error(page, data, console_errors, screenshot):  # noqa: F811
    ContactFactory(name="Mário Silva", number="5531988887777")
    log_in(page)
    start = entries(page)
    copy_buttons = page.locator("#contact-results .app-copy")

    for search in ("maria", "joao", "silva"):
        page.fill("#filter-q", search)
        expect(page).to_have_url(f"/contacts/?q={search}")
        settle(page)
    assert entries(page) == start + 3
    expect(rows(page)).to_have_count(2)

    page.go_back()
    expect(page).to_have_url("/contacts/?q=joao")
    expect(page.locator("#filter-q")).to_have_value("joao")
    expect(rows(page)).to_have_count(1)
    expect(copy_buttons.first).to_be_visible()
    page.go_back()
    expect(page).to_have_url("/contacts/?q=maria")
    expect(page.locator("#filter-q")).to_have_value("maria")
    expect(rows(page).first).to_contain_text("Maria Souza")
    expect(copy_buttons.first).to_be_visible()
    page.go_back()
    expect(page).to_have_url("/contacts/")
    expect(rows(page)).to_have_count(4)
    expect(copy_buttons.first).to_be_visible()
    page.go_forward()
    page.go_forward()
    expect(page).to_have_url("/contacts/?q=joao")
    expect(copy_buttons.first).to_be_visible()
    page.go_forward()
    expect(page).to_have_url("/contacts/?q=silva")
    expect(rows(page)).to_have_count(2)
    expect(copy_buttons.first).to_be_visible()
    screenshot("30-after-back-and-forward")

    # The page still works after the restores: the popup opens and closes.
    page.click("a:has-text('Adicionar')")
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    assert console_errors == []


def test_a_late_answer_for_a_page_left_behind_does_not_replace_the_page_shown(page, data, console_errors):  # noqa: F811
    log_in(page)
    for search in ("maria", "joao", "silva"):
        page.fill("#filter-q", search)
        expect(page).to_have_url(f"/contacts/?q={search}")
        settle(page)
    # The server's answer for "joao" is held until the user has gone on to "maria".
    held = []

    def hold_joao(route):
        if route.request.headers.get("hx-history-restore-request") and "q=joao" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    page.route(lambda url: "/contacts/" in url, hold_joao)
    page.go_back()
    expect(page).to_have_url("/contacts/?q=joao")
    page.go_back()
    expect(page).to_have_url("/contacts/?q=maria")
    expect(rows(page).first).to_contain_text("Maria Souza")
    assert len(held) == 1
    with contextlib.suppress(Error):  # the browser may have dropped the request already
        held[0].continue_()
    page.wait_for_timeout(1000)
    expect(page).to_have_url("/contacts/?q=maria")
    expect(page.locator("#filter-q")).to_have_value("maria")
    expect(rows(page).first).to_contain_text("Maria Souza")
    assert console_errors == []


def test_slow_typing_is_one_entry_and_opening_a_control_adds_none(page, data, console_errors):  # noqa: F811
    log_in(page)
    start = entries(page)
    # A pause after each letter, longer than the search's 300 ms wait.
    page.locator("#filter-q").press_sequentially(" silva", delay=450)
    expect(page).to_have_url("/contacts/?q=%20silva")
    expect(rows(page)).to_have_count(1)
    page.wait_for_timeout(500)
    assert entries(page) == start + 1

    # Leaving the search box for the tags' menu: no entry, the same list.
    page.click("#tag-filter-summary")
    expect(page.locator(".app-dropdown-menu")).to_be_visible()
    page.wait_for_timeout(700)
    page.click("h1")
    page.wait_for_timeout(700)
    assert entries(page) == start + 1

    page.go_back()
    expect(page).to_have_url("/contacts/")
    expect(rows(page)).to_have_count(3)
    assert console_errors == []
