"""An agent's day in the panel, in a real browser: log in, search, filter,
add a contact with an extra field through the popup, edit it, delete it."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from contacts.models import Contact
from contacts.tests.factories import (
    ContactFactory,
    TagFactory,
    UserFactory,
    WalletFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "s3cret-pass"


@pytest.fixture
def data():
    admin = UserFactory(username="admin", first_name="Alice", is_staff=True)
    admin.groups.add(Group.objects.get(name="Administrators"))
    wallet = WalletFactory(name="Carteira Ana", user=admin)
    vip = TagFactory(name="VIP", color="#d63384")
    ContactFactory(name="João da Silva", number="5511987654321", email="joao@exemplo.com.br", wallet=wallet, tags=[vip])
    ContactFactory(name="Maria Souza", number="5521912340000", wallet=None)
    ContactFactory(name="Grupo Vendas", number="120363025246125888", is_group=True)
    return {"wallet": wallet, "vip": vip}


def log_in(page, username="admin"):
    page.goto("/contacts/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Contatos")


def rows(page):
    return page.locator("#contact-results tbody tr")


def test_search_and_filter_live(page, data, screenshot):
    log_in(page)
    expect(rows(page)).to_have_count(3)
    screenshot("01-list")

    page.fill("#filter-q", "joao")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("João da Silva")
    assert "q=joao" in page.url  # the URL is shareable

    page.fill("#filter-q", "(21) 91234")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Maria Souza")
    page.fill("#filter-q", "")

    page.select_option("#filter-wallet", label="Sem carteira")
    expect(rows(page)).to_have_count(2)
    page.select_option("#filter-wallet", label="Todas as carteiras")
    expect(rows(page)).to_have_count(3)

    page.click("summary:has-text('Etiquetas')")
    page.check("input[name=tag][value='%d']" % data["vip"].pk)
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#tag-filter-summary")).to_have_text("Etiquetas (1)")
    screenshot("02-filtered-by-tag")

    page.fill("#filter-q", "zzzz")
    expect(page.locator(".app-empty")).to_contain_text("Nenhum contato corresponde à busca")
    screenshot("03-no-match")


def test_add_edit_and_delete_a_contact_through_the_popup(page, data, screenshot):
    log_in(page)
    page.click("a:has-text('Adicionar')")
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    modal.locator("#id_name").fill("Carla Dias")
    modal.locator("#id_number").fill("12345")
    modal.locator("button:has-text('Salvar')").click()
    expect(modal).to_contain_text("Informe um telefone válido")
    screenshot("04-popup-error")
    assert not Contact.objects.filter(name="Carla Dias").exists()

    modal.locator("#id_number").fill("(11) 3456-7890")
    modal.locator("#id_cpf_cnpj").fill("52998224725")
    modal.locator("#id_birth_date").fill("15/03/1985")
    modal.locator("#id_custom_fields-0-name").fill("Plano")
    modal.locator("#id_custom_fields-0-value").fill("Pro")
    modal.locator("button:has-text('Adicionar Informação')").click()
    modal.locator("#id_custom_fields-1-name").fill("Cidade")
    modal.locator("#id_custom_fields-1-value").fill("Recife")
    screenshot("05-popup-filled")
    modal.locator("button:has-text('Salvar')").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Carla Dias")
    expect(rows(page)).to_have_count(4)
    screenshot("06-added")

    carla = Contact.objects.get(name="Carla Dias")
    assert carla.number == "551134567890"
    assert carla.cpf_cnpj == "529.982.247-25"
    assert dict(carla.custom_fields.values_list("name", "value")) == {"Plano": "Pro", "Cidade": "Recife"}

    page.click(f"#contact-{carla.pk} a[title='Editar']")
    expect(modal).to_be_visible()
    expect(modal.locator("#id_custom_fields-0-value")).to_have_value("Pro")
    modal.locator("#id_company").fill("Padaria Pão Quente")
    modal.locator("button:has-text('Salvar')").click()
    expect(modal).to_be_hidden()
    expect(page.locator(f"#contact-{carla.pk}")).to_contain_text("Padaria Pão Quente")

    page.click(f"#contact-{carla.pk} a[title='Excluir']")
    expect(modal).to_contain_text("2 campos de informação adicional")
    screenshot("07-delete-confirm")
    modal.locator("button:has-text('Excluir')").click()
    expect(page.locator(f"#contact-{carla.pk}")).to_have_count(0)
    assert not Contact.objects.filter(pk=carla.pk).exists()


def test_the_panel_works_without_javascript(browser, live_server, data):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    log_in(page)
    page.fill("#filter-q", "maria")
    page.click("button:has-text('Buscar')")
    expect(rows(page)).to_have_count(1)
    page.click("a:has-text('Adicionar')")
    expect(page.locator("h1")).to_have_text("Adicionar contato")
    page.fill("#id_name", "Sem Script")
    page.fill("#id_number", "+55 31 99876-5432")
    page.click("button:has-text('Salvar')")
    expect(page.locator(".alert-success")).to_contain_text("Sem Script")
    assert Contact.objects.filter(name="Sem Script", number="5531998765432").exists()
    context.close()
