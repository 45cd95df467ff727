"""Remover duplicados in a real browser: search, preview, confirm, and the
survivor with the merged contact's ticket and messages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact
from contacts.tests.browser.test_panel import data, log_in  # noqa: F401 (fixture)
from contacts.tests.factories import ContactFactory
from tickets.models import Channel, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def duplicates(data):  # noqa: F811
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas")
    older = ContactFactory(name="Carla Mendes", number="5531988887777", email="carla@exemplo.com.br")
    newer = ContactFactory(name="Carla M.", number="", email="CARLA@exemplo.com.br", company="Padaria Sol")
    Contact.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=30))
    ticket = Ticket.objects.create(contact=newer, channel=channel, status="open")
    for n, text in enumerate(["Oi, aqui é a Carla", "Meu pedido atrasou"]):
        Message.objects.create(channel=channel, external_id=f"m{n}", chat_id="x", body=text, sent_at=timezone.now(), ticket=ticket, contact=newer)
    return {"older": older, "newer": newer, "ticket": ticket}


def test_remove_duplicates_from_preview_to_the_survivor_with_the_moved_ticket(page, duplicates, screenshot, csp_violations):
    log_in(page)
    page.click("a:has-text('Remover duplicados')")
    expect(page.locator("h1")).to_have_text("Remover duplicados")
    page.click("button:has-text('Procurar duplicados')")

    groups = page.locator(".app-dup-groups")
    expect(groups).to_contain_text("Carla Mendes")
    expect(groups).to_contain_text("Carla M.")
    expect(groups).to_contain_text("mesmo e-mail")
    expect(page.locator(".app-counts")).to_contain_text("Mensagens a mover")
    assert Contact.objects.filter(pk=duplicates["newer"].pk).exists()  # nothing merged before confirming
    screenshot("40-duplicates-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("41-duplicates-preview-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 860})

    page.click("button[name=all]")
    expect(page.locator(".alert-success")).to_contain_text("1 grupo mesclado")
    expect(page.locator(".app-counts")).to_contain_text("Atendimentos movidos")
    screenshot("42-duplicates-done")

    page.click(".app-merge-survivors a:has-text('Carla Mendes')")
    expect(page.locator(".app-timeline")).to_contain_text("mesclou “Carla M.”")
    page.click("summary:has-text('O que foi mesclado')")
    expect(page.locator(".app-snapshot")).to_contain_text("Padaria Sol")
    screenshot("43-duplicates-survivor-history")

    page.goto(f"/tickets/{duplicates['ticket'].pk}/")
    expect(page.locator("main")).to_contain_text("Carla Mendes")
    expect(page.locator("main")).to_contain_text("Meu pedido atrasou")
    screenshot("44-duplicates-moved-ticket")
    assert not Contact.objects.filter(pk=duplicates["newer"].pk).exists()
    assert Ticket.objects.get().contact_id == duplicates["older"].pk
    assert csp_violations == []


def test_merge_with_from_a_contacts_page(page, duplicates, screenshot):
    newer = ContactFactory(name="Roberto Celular 2", number="5521999998888")
    log_in(page)
    page.goto(f"/contacts/{newer.pk}/merge/")
    page.fill("#merge-q", "Carla Mendes")
    page.click(".app-merge-search button")
    page.click(".app-merge-candidates a:has-text('Carla Mendes')")
    expect(page.locator("main")).to_contain_text("o contato mais antigo, é mantido")
    screenshot("45-merge-with-preview")
    page.click("button:has-text('Mesclar')")
    expect(page.locator("h1")).to_have_text("Editar contato")
    expect(page.locator("#id_name")).to_have_value("Carla Mendes")
    expect(page.locator("main")).to_contain_text("Os contatos foram mesclados em “Carla Mendes”")
    assert not Contact.objects.filter(pk=newer.pk).exists()
