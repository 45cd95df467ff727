"""A person who opted out, on a phone: the contact's page (its tabs fit
the width) with the opt-out and the lift link, the ticket's warning, the
list's badge."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact, OptOut
from contacts.tests.browser.test_panel import data, log_in  # noqa: F401 (fixture)
from tickets.models import Channel, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_opt_out_on_a_phone_screen(page, data, screenshot, csp_violations):  # noqa: F811
    joao = Contact.objects.get(name="João da Silva")
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", webhook_secret="s")
    ticket = Ticket.objects.create(contact=joao, channel=channel)
    message = Message.objects.create(
        channel=channel, external_id="m1", chat_id="5511987654321@s.whatsapp.net", contact=joao, ticket=ticket, body="SAIR", sent_at=timezone.now()
    )
    OptOut.objects.create(contact=joao, channel_id=channel.pk, channel_name=channel.name, evidence="SAIR", message_id=message.pk, asked_at=message.sent_at)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    expect(page.locator(f"#contact-{joao.pk} .app-opt-out-badge")).to_be_visible()

    page.goto(f"/contacts/{joao.pk}/edit/")
    expect(page.locator(".app-opt-outs")).to_contain_text("SAIR")
    expect(page.locator(".app-opt-outs a")).to_have_text("Retirar o descadastro")
    # Nothing scrolls sideways: the tab row wraps or scrolls within itself.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tabs = page.locator(".app-tabs")
    assert tabs.evaluate("el => el.getBoundingClientRect().right") <= 390
    for link in tabs.locator("a").all():
        box = link.bounding_box()
        assert box["x"] >= 0
    screenshot("optout-contact-390")

    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("#ticket-opt-out")).to_contain_text("Não deseja receber mensagens neste canal")
    expect(page.locator("#id_reason")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("optout-ticket-390")
    assert not csp_violations
