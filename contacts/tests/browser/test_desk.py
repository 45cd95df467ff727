"""The desk, where agents spend the day: the queue that fills by itself as
messages arrive, the reply box that sends on Enter, the contact beside the
conversation. (Here beside the other browser tests for their session-wide
browser; see test_tickets.py.)"""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from contacts.tests.browser.conftest import deliver, sent, whatsapp_channel
from contacts.tests.browser.test_panel import log_in
from contacts.tests.browser.test_panel_ux import axe_violations
from contacts.tests.factories import ContactFactory, TagFactory, UserFactory, WalletFactory
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def desk(httpserver):
    admin = UserFactory(username="admin", first_name="Alice", is_staff=True)
    admin.groups.add(Group.objects.get(name="Administrators"))
    ana = UserFactory(username="ana", first_name="Ana")
    ana.groups.add(Group.objects.get(name="Agents"))
    wallet = WalletFactory(name="Carteira Ana", user=ana)
    TagFactory(name="VIP")
    maria = ContactFactory(name="Maria Souza", number="5511987654321", wallet=wallet, telegram_id="")
    joao = ContactFactory(name="João da Silva", number="5521912340000", wallet=wallet, telegram_id="")
    return {"admin": admin, "ana": ana, "maria": maria, "joao": joao, "channel": whatsapp_channel(httpserver), "gateway": httpserver}


def test_a_new_ticket_appears_in_the_agents_queue_without_anyone_clicking(page, live_server, desk, screenshot, csp_violations):
    joao, channel = desk["joao"], desk["channel"]
    Ticket.objects.create(contact=desk["maria"], channel=channel, user=desk["ana"])
    page.set_viewport_size(DESKTOP)
    log_in(page, "ana")
    page.click(".app-nav-link:has-text('Atendimentos')")
    rows = page.locator(".app-ticket-table tbody tr")
    expect(rows).to_have_count(1)
    url = page.url

    # João, a contact of Ana's wallet with no open ticket, writes.
    deliver(live_server, channel, remote_jid="5521912340000@s.whatsapp.net", push_name="João", text="Bom dia, meu boleto venceu")
    expect(rows).to_have_count(2, timeout=15_000)
    first = rows.first
    expect(first).to_contain_text("João da Silva")
    expect(first).to_contain_text("Bom dia, meu boleto venceu")
    expect(first.locator(".app-unread")).to_have_text("1 não lidas")
    assert page.url == url  # the refresh keeps the address
    screenshot("desk-01-queue-agent")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("desk-02-queue-agent-phone")

    page.set_viewport_size(DESKTOP)
    first.locator("a.app-name").click()
    expect(page.locator("h1")).to_contain_text("João da Silva")
    page.go_back()
    expect(rows.first.locator(".app-unread")).to_have_count(0)
    assert Ticket.objects.get(contact=joao).user == desk["ana"]
    assert csp_violations == []


def test_a_new_senders_first_message_appears_in_the_queue_without_anyone_clicking(page, live_server, desk, screenshot, csp_violations):
    channel = desk["channel"]
    page.set_viewport_size(DESKTOP)
    log_in(page, "ana")
    page.click(".app-nav-link:has-text('Atendimentos')")
    page.click(".app-view-tabs a:has-text('Abertos')")
    rows = page.locator(".app-ticket-table tbody tr")
    expect(page.locator(".app-ticket-table")).to_have_count(0)  # nothing waiting yet

    # Somebody nobody knows writes for the first time, addressed by LID as
    # most WhatsApp traffic now is; nobody clicks anything.
    deliver(
        live_server,
        channel,
        remote_jid="123456789012345@lid",
        remoteJidAlt="5548999990000@s.whatsapp.net",
        push_name="Rita Nova",
        text="Olá, quero comprar",
    )
    expect(rows).to_have_count(1, timeout=15_000)
    expect(rows.first).to_contain_text("Rita Nova")
    expect(rows.first).to_contain_text("Olá, quero comprar")
    expect(rows.first).to_contain_text("Pendente")
    screenshot("desk-00-new-sender-queue")
    rows.first.locator("a.app-name").click()
    expect(page.locator("h1")).to_contain_text("Rita Nova")
    assert Ticket.objects.get().contact.number == "5548999990000"
    assert csp_violations == []


def test_enter_sends_and_shift_enter_breaks_the_line(page, live_server, desk, screenshot, csp_violations):
    gateway, maria, channel = desk["gateway"], desk["maria"], desk["channel"]
    ticket = Ticket.objects.create(contact=maria, channel=channel, user=desk["ana"])
    deliver(live_server, channel, text="Oi, preciso de ajuda com o pedido 123")
    gateway.expect_oneshot_request(
        "/message/sendText/vendas", json={"number": "5511987654321@s.whatsapp.net", "text": "Claro!\nQual o número do pedido?"}
    ).respond_with_json(sent("3EB0ENTER0001", "Claro!\nQual o número do pedido?"), status=201)

    page.set_viewport_size(DESKTOP)
    log_in(page, "ana")
    page.goto(ticket.get_absolute_url())
    box = page.locator("#id_text")
    box.click()
    box.press_sequentially("Claro!")
    box.press("Shift+Enter")
    box.press_sequentially("Qual o número do pedido?")
    expect(box).to_have_value("Claro!\nQual o número do pedido?")
    assert not Message.objects.filter(from_me=True).exists()

    box.press("Enter")
    expect(page.locator(".app-message-ours")).to_contain_text("Qual o número do pedido?")
    expect(page.locator("#id_text")).to_have_value("")
    expect(page.locator("#id_text")).to_be_focused()
    gateway.check_assertions()
    assert Message.objects.get(from_me=True).body == "Claro!\nQual o número do pedido?"

    # Enter on an empty box sends nothing.
    page.locator("#id_text").press("Enter")
    page.wait_for_timeout(300)
    assert Message.objects.filter(from_me=True).count() == 1
    assert csp_violations == []


def test_the_contact_beside_the_conversation_is_changed_in_place(page, live_server, desk, screenshot, csp_violations):
    maria, channel = desk["maria"], desk["channel"]
    deliver(live_server, channel, text="Bom dia! Mudei de empresa")
    ticket = Ticket.objects.get()
    deliver(live_server, channel, remote_jid="5521912340000@s.whatsapp.net", text="Olá")

    page.set_viewport_size(DESKTOP)
    log_in(page, "admin")
    page.click(".app-nav-link:has-text('Atendimentos')")
    expect(page.locator(".app-view-tabs a.active")).to_have_text("Abertos")
    expect(page.locator(".app-ticket-table tbody tr")).to_have_count(2)
    screenshot("desk-03-queue-admin")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("desk-04-queue-admin-phone")

    page.set_viewport_size(DESKTOP)
    page.goto(ticket.get_absolute_url())
    panel = page.locator("#contact-panel")
    expect(panel).to_be_visible()
    panel.locator("#id_contact-company").fill("Padaria Pão Quente")
    panel.locator("label:has-text('VIP') input").check()
    panel.locator("#id_contact-cpf_cnpj").fill("123")
    panel.locator("button:has-text('Salvar contato')").click()
    expect(panel.locator(".alert-danger").first).to_be_visible()
    maria.refresh_from_db()
    assert maria.company == ""
    panel.locator("#id_contact-cpf_cnpj").fill("529.982.247-25")
    panel.locator("#id_contact-name").fill("Maria Souza Lima")
    panel.locator("button:has-text('Salvar contato')").click()
    expect(panel.locator(".alert-success")).to_contain_text("Contato “Maria Souza Lima” salvo.")
    expect(page.locator("h1")).to_contain_text("Maria Souza Lima")
    maria.refresh_from_db()
    assert (maria.name, maria.company, maria.cpf_cnpj, [t.name for t in maria.tags.all()]) == (
        "Maria Souza Lima", "Padaria Pão Quente", "529.982.247-25", ["VIP"],
    )
    screenshot("desk-05-ticket-admin")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS)
    expect(page.locator("#id_text")).to_be_visible()
    screenshot("desk-06-ticket-admin-phone")
    panel.scroll_into_view_if_needed()
    screenshot("desk-07-ticket-admin-phone-contact")
    assert csp_violations == []


def test_an_agent_sees_the_ticket_page_on_desktop_and_phone(page, live_server, desk, screenshot, csp_violations):
    maria, channel = desk["maria"], desk["channel"]
    deliver(live_server, channel, text="Olá! Quero saber do meu pedido")
    ticket = Ticket.objects.get()
    page.set_viewport_size(DESKTOP)
    log_in(page, "ana")
    page.goto(ticket.get_absolute_url())
    expect(page.locator("#contact-panel")).to_be_visible()
    screenshot("desk-08-ticket-agent")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("desk-09-ticket-agent-phone")

    # The contact's "Conversas" tab, in the popup on the contacts list.
    page.set_viewport_size(DESKTOP)
    page.goto("/contacts/")
    page.click(f"#contact-{maria.pk} a[title='Editar']")
    modal = page.locator("#modal")
    modal.locator(".app-tabs a:has-text('Conversas')").click()
    expect(modal.locator("#contact-tab-tickets")).to_contain_text(f"Atendimento #{ticket.pk}")
    screenshot("desk-10-contact-conversations")
    assert csp_violations == []
