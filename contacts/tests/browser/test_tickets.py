"""Tickets in a real browser: start one from the contacts list, reply, see
the contact's answer arrive, close it; press "Sincronizar" and watch the new
contacts appear. The gateway is a local HTTP server speaking Evolution
API.

It lives here, beside the contacts panel's browser tests, for their
session-wide browser: Playwright runs one per process, and a second
definition of the fixture elsewhere would try to start another."""

import json

import httpx
import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from contacts.tests.browser.conftest import SECRET, deliver, sent
from contacts.tests.browser.test_panel import PASSWORD, log_in, rows
from contacts.tests.browser.test_panel_ux import axe_violations
from tickets.models import Message, Ticket
from tickets.tests import payloads
from tickets.tests.stored import stored_before

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_start_a_ticket_reply_see_the_answer_and_close_it(page, live_server, desk, screenshot, csp_violations):
    gateway, maria, channel = desk["gateway"], desk["maria"], desk["channel"]
    gateway.expect_oneshot_request(
        "/message/sendText/vendas", json={"number": "5511987654321", "text": "Olá, Maria! Em que posso ajudar?"}
    ).respond_with_json(sent("3EB0BROWSER0001", "Olá, Maria! Em que posso ajudar?"), status=201)

    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page)
    page.click(f"#contact-{maria.pk} button[title='Iniciar atendimento']")
    expect(page.locator("h1")).to_contain_text("Maria Souza")
    ticket = Ticket.objects.get()
    assert (ticket.user, ticket.status) == (desk["admin"], "open")
    expect(page.locator(".app-conversation")).to_contain_text("Nenhuma mensagem ainda.")

    page.fill("#id_text", "Olá, Maria! Em que posso ajudar?")
    page.click("button:has-text('Enviar')")
    ours = page.locator(".app-message-ours")
    expect(ours).to_contain_text("Olá, Maria! Em que posso ajudar?")
    expect(page.locator("#id_text")).to_have_value("")
    gateway.check_assertions()
    assert Message.objects.get().external_id == "3EB0BROWSER0001"

    # The gateway's echo of our reply, then Maria's answer: the page shows
    # the answer by itself, once.
    deliver(live_server, channel, from_me=True, message_id="3EB0BROWSER0001", text="Olá, Maria! Em que posso ajudar?")
    deliver(live_server, channel, text="Meu pedido 123 não chegou 😟", push_name="Maria Souza")
    theirs = page.locator(".app-message:not(.app-message-ours)")
    expect(theirs).to_contain_text("Meu pedido 123 não chegou 😟")
    expect(ours).to_have_count(1)
    expect(page.locator(".app-message").last).to_contain_text("Meu pedido 123")  # the answer after the reply
    # Newest at the bottom, and in view.
    assert page.evaluate("(() => { const c = document.querySelector('.app-conversation'); return Math.abs(c.scrollTop) < 2; })()")
    screenshot("tickets-01-ticket")
    assert axe_violations(page) == []

    page.set_viewport_size({"width": 390, "height": 844})
    expect(theirs).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("tickets-02-ticket-phone")
    page.set_viewport_size({"width": 1366, "height": 900})

    page.click("button:has-text('Fechar atendimento')")
    expect(page.locator(".alert")).to_contain_text(f"Atendimento #{ticket.pk} fechado.")
    expect(page.locator(".app-ticket-facts .app-status")).to_have_text("Fechado")
    expect(page.locator("#id_text")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.status == "closed"

    page.click(".app-nav-link:has-text('Atendimentos')")
    page.click(".app-view-tabs a:has-text('Todos')")
    expect(page.locator(".app-ticket-table tbody tr")).to_have_count(1)
    screenshot("tickets-03-list")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("tickets-04-list-phone")
    assert csp_violations == []


def test_an_edit_arrives_by_itself_and_the_earlier_text_opens_on_demand(page, live_server, desk, screenshot, csp_violations):
    channel = desk["channel"]
    deliver(live_server, channel, message_id="3EB0BROWSEREDIT", text="Quero 2 caixas de papel A4", push_name="Maria Souza")
    ticket = Ticket.objects.get()
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page)
    page.goto(ticket.get_absolute_url())
    expect(page.locator(".app-message")).to_contain_text("Quero 2 caixas")

    edit = payloads.edited(SECRET, "3EB0BROWSEREDIT", "Quero 3 caixas de papel A4, entrega na filial")
    url = f"{live_server.url}/tickets/webhook/{channel.pk}/"
    assert httpx.post(url, content=json.dumps(edit), headers={"Content-Type": "application/json"}).status_code == 200
    message = page.locator(".app-message")
    expect(message).to_contain_text("Quero 3 caixas de papel A4, entrega na filial")
    expect(message.locator(".app-message-meta")).to_contain_text("editada")
    earlier = message.locator(".app-message-edits")
    expect(earlier.locator("ol")).not_to_be_visible()
    earlier.locator("summary").click()
    expect(earlier.locator("ol")).to_be_visible()
    expect(earlier).to_contain_text("Quero 2 caixas de papel A4")
    expect(earlier).to_contain_text("substituído em")
    screenshot("tickets-07-edited")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("tickets-08-edited-phone")
    assert csp_violations == []


def test_press_sync_and_watch_the_new_contacts_appear(page, live_server, desk, screenshot, csp_violations):
    gateway, channel = desk["gateway"], desk["channel"]
    # Pedro and Carla wrote before new senders became contacts at once.
    for jid, name, text in [("5511955554444", "Pedro D'Ávila 🚚", "Oi"), ("5531988887777", "Carla", "Bom dia")]:
        stored_before(channel, payloads.upsert("", remote_jid=f"{jid}@s.whatsapp.net", push_name=name, text=text))
    # Evolution API remembers a chat from before the webhook existed.
    rita = "5548999990000@s.whatsapp.net"
    gateway.expect_request("/chat/findContacts/vendas").respond_with_json([payloads.gateway_contact(rita, "Rita")])
    gateway.expect_request("/chat/findChats/vendas").respond_with_json([payloads.gateway_chat(rita, "Rita")])

    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page)
    expect(rows(page)).to_have_count(2)
    page.click("button:has-text('Sincronizar'):not(:has-text('grupos'))")
    modal = page.locator("#modal")
    expect(modal).to_contain_text("Concluída.")
    expect(modal).to_contain_text("Contatos criados")
    expect(rows(page)).to_have_count(5)
    expect(page.locator("#contact-results")).to_contain_text("Pedro D'Ávila 🚚")
    expect(page.locator("#contact-results")).to_contain_text("Rita")
    screenshot("tickets-05-sync")
    assert axe_violations(page) == []
    modal.locator("button:has-text('Fechar')").last.click()
    expect(modal).to_be_hidden()
    assert Contact.objects.get(number="5511955554444").history.get().history_source == "sync"
    assert Ticket.objects.count() == 2  # Pedro's and Carla's messages wait in tickets
    assert csp_violations == []


def test_start_and_reply_without_javascript(browser, live_server, desk):
    gateway, maria = desk["gateway"], desk["maria"]
    gateway.expect_request("/message/sendText/vendas").respond_with_json(sent("3EB0NOJS", "Sem script"), status=201)
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/contacts/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click(f"#contact-{maria.pk} button[title='Iniciar atendimento']")
    expect(page.locator("h1")).to_contain_text("Maria Souza")
    page.fill("#id_text", "Sem script")
    page.click("button:has-text('Enviar')")
    expect(page.locator(".app-message-ours")).to_contain_text("Sem script")
    context.close()


def test_a_sync_that_breaks_says_so_in_its_popup_on_a_phone(page, live_server, desk, screenshot, csp_violations, monkeypatch):
    from tickets import sync

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync, "sync_contacts", broken)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.locator("form:has(input[name=kind][value=contacts]) button").click()
    modal = page.locator("#modal")
    expect(modal).to_contain_text("A sincronização parou por um erro inesperado.")
    expect(modal.locator("button:has-text('Fechar')").last).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("tickets-06-sync-failed-phone")
    modal.locator("button:has-text('Fechar')").last.click()
    expect(modal).to_be_hidden()
    assert csp_violations == []
