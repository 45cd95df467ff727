"""The LGPD report and erasure in a real browser: the "LGPD" tab in the
contact's popup, the JSON download, the readable page on a laptop and a
phone, and "Apagar dados pessoais" with its typed confirmation."""

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact, CustomField
from contacts.tests.browser.test_panel import data, log_in  # noqa: F401 (fixture)
from tickets.models import Channel, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_report_and_the_erasure_of_a_contact(page, data, screenshot, csp_violations):  # noqa: F811
    joao = Contact.objects.get(name="João da Silva")
    CustomField.objects.create(contact=joao, name="Cidade", value="Campinas")
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", webhook_secret="s")
    ticket = Ticket.objects.create(contact=joao, channel=channel)
    Message.objects.create(
        channel=channel, external_id="m1", chat_id="5511987654321@s.whatsapp.net", chat_identity="5511987654321",
        sender_name="João", contact=joao, ticket=ticket, body="Meu pedido 4471 não chegou", sent_at=timezone.now(),
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page)

    # The popup's "LGPD" tab.
    modal = page.locator("#modal")
    page.click(f"#contact-{joao.pk} a[title='Editar']")
    modal.locator(".app-tabs a:has-text('LGPD')").click()
    panel = modal.locator("#contact-tab-lgpd")
    expect(panel.locator("a:has-text('Relatório LGPD (JSON)')")).to_be_visible()
    screenshot("lgpd-tab-1366")
    with page.expect_download() as download:
        panel.locator("a:has-text('Relatório LGPD (JSON)')").click()
    report = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert download.value.suggested_filename == f"relatorio-lgpd-contato-{joao.pk}.json"
    assert report["contact"]["name"] == "João da Silva"
    assert report["tickets"][0]["messages"][0]["text"] == "Meu pedido 4471 não chegou"

    # The readable page, to print.
    page.goto(f"/lgpd/contact/{joao.pk}/report/")
    expect(page.locator("h1")).to_have_text("Relatório LGPD: João da Silva")
    expect(page.locator(".app-report")).to_contain_text("Meu pedido 4471 não chegou")
    expect(page.locator(".app-report")).to_contain_text("Campinas")
    expect(page.locator("button:has-text('Imprimir ou salvar em PDF')")).to_be_visible()
    fits(page, 1366)
    screenshot("lgpd-report-1366")
    page.emulate_media(media="print")
    expect(page.locator(".app-sidebar")).to_be_hidden()
    expect(page.locator("button:has-text('Imprimir ou salvar em PDF')")).to_be_hidden()
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    fits(page, 390)
    screenshot("lgpd-report-390")

    # The erasure, on a phone: a wrong name is refused, the right one erases.
    page.goto(f"/lgpd/contact/{joao.pk}/")
    page.click("a:has-text('Apagar dados pessoais')")
    expect(page.locator("h1")).to_have_text("Apagar dados pessoais")
    fits(page, 390)
    screenshot("lgpd-erase-390")
    page.fill("#id_confirmation", "Maria Souza")
    page.click("button:has-text('Apagar dados pessoais')")
    expect(page.locator(".invalid-feedback")).to_contain_text("Digite o nome do contato como aparece, “João da Silva”")
    assert Contact.objects.get(pk=joao.pk).name == "João da Silva"
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot("lgpd-erase-refused-1366")
    page.fill("#id_confirmation", "joao da silva")
    page.click("button:has-text('Apagar dados pessoais')")
    expect(page.locator(".alert-success")).to_contain_text(f"Os dados pessoais do contato #{joao.pk} foram apagados.")
    expect(page.locator("h1")).to_have_text(f"Contato apagado #{joao.pk}")
    screenshot("lgpd-erased-1366")
    assert Message.objects.get().body == "" and Ticket.objects.get().contact_id == joao.pk
    assert not csp_violations
