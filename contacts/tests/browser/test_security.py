"""Log-in and headers in a real browser: the lock-out message, and the panel
(live search, the popup) and Django admin working under the
Content-Security-Policy without a single refusal."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from contacts.models import Contact, Wallet
from contacts.tests.factories import ContactFactory, TagFactory, UserFactory, WalletFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "s3cret-pass"
LOCKED_OUT = "Muitas tentativas de login malsucedidas. Tente novamente em 15 minutos."


@pytest.fixture
def data():
    admin = UserFactory(username="admin", first_name="Alice", is_staff=True)
    admin.groups.add(Group.objects.get(name="Administrators"))
    wallet = WalletFactory(name="Carteira Ana", user=admin)
    vip = TagFactory(name="VIP", color="#d63384")
    TagFactory(name="Inadimplente", color="#198754")
    ContactFactory(name="João da Silva", number="5511987654321", wallet=wallet, tags=[vip])
    ContactFactory(name="Maria Souza", number="5521912340000", wallet=None)
    return {"admin": admin, "wallet": wallet, "vip": vip}


def log_in(page, username="admin", password=PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def rows(page):
    return page.locator("#contact-results tbody tr")


def test_repeated_wrong_passwords_end_in_a_lock_out_with_a_message(page, data, csp_violations, screenshot):
    for _ in range(4):
        log_in(page, password="wrong-password")
        expect(page.locator(".alert-danger")).to_contain_text("senha corretos")
    log_in(page, password="wrong-password")
    expect(page.locator(".alert-danger")).to_contain_text(LOCKED_OUT)
    expect(page.locator("#id_username")).to_have_value("admin")
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot("security-01-locked-out")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("security-02-locked-out-phone")

    # The right password changes nothing until the cool-off is over.
    log_in(page)
    expect(page.locator(".alert-danger")).to_contain_text(LOCKED_OUT)
    assert "/login/" in page.url
    assert not csp_violations, "\n".join(csp_violations)


def test_live_search_and_the_popup_work_under_the_content_security_policy(page, data, csp_violations, screenshot):
    log_in(page)
    expect(page.locator("h1")).to_have_text("Contatos")
    expect(rows(page)).to_have_count(2)

    # Colours come from classes: the tag's from the page's nonce'd <style>,
    # the avatar's from the palette in app.css.
    chip = page.locator(".app-chip", has_text="VIP")
    assert chip.evaluate("el => getComputedStyle(el).getPropertyValue('--chip').trim()") == "#d63384"
    avatar = page.locator(".app-avatar-initials").first
    assert avatar.evaluate("el => getComputedStyle(el).getPropertyValue('--hue').trim()") != ""

    page.fill("#filter-q", "maria")
    expect(rows(page)).to_have_count(1)
    page.fill("#filter-q", "")
    expect(rows(page)).to_have_count(2)
    page.click("summary:has-text('Etiquetas')")
    page.check("input[name=tag][value='%d']" % data["vip"].pk)
    expect(rows(page)).to_have_count(1)
    # A row swapped in by htmx keeps its tag colour.
    assert chip.evaluate("el => getComputedStyle(el).getPropertyValue('--chip').trim()") == "#d63384"
    page.uncheck("input[name=tag][value='%d']" % data["vip"].pk)
    expect(rows(page)).to_have_count(2)

    page.click("a:has-text('Adicionar')")
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    modal.locator("#id_name").fill("Carla Dias")
    modal.locator("#id_number").fill("12345")
    modal.locator("button:has-text('Salvar')").click()
    expect(modal).to_contain_text("Informe um telefone válido")
    modal.locator("#id_number").fill("(11) 3456-7890")
    modal.locator("button:has-text('Adicionar Informação')").click()
    modal.locator("#id_custom_fields-0-name").fill("Plano")
    modal.locator("#id_custom_fields-0-value").fill("Pro")
    modal.locator("label.app-tag-choice", has_text="VIP").click()
    modal.locator("button:has-text('Salvar')").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Carla Dias")
    expect(rows(page)).to_have_count(3)
    carla = Contact.objects.get(name="Carla Dias")

    page.click(f"#contact-{carla.pk} a[title='Editar']")
    expect(modal.locator("#id_custom_fields-0-value")).to_have_value("Pro")
    modal.locator("#id_company").fill("Padaria Pão Quente")
    modal.locator("button:has-text('Salvar')").click()
    expect(page.locator(f"#contact-{carla.pk}")).to_contain_text("Padaria Pão Quente")
    expect(page.locator(f"#contact-{carla.pk} .app-chip")).to_have_text("VIP")
    screenshot("security-03-panel")

    page.click(f"#contact-{carla.pk} a[title='Excluir']")
    modal.locator("button:has-text('Excluir')").click()
    expect(page.locator(f"#contact-{carla.pk}")).to_have_count(0)

    # Back and forward through htmx's history restore the list too.
    page.go_back()
    page.go_forward()
    expect(rows(page)).to_have_count(2)
    assert not csp_violations, "\n".join(csp_violations)


def test_django_admin_works_under_the_content_security_policy(page, data, csp_violations, screenshot):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    agent = UserFactory(username="bruno", first_name="Bruno")
    contact = Contact.objects.get(name="João da Silva")
    contact.custom_fields.create(name="Plano", value="Pro")
    log_in(page, "root")
    expect(page.locator("h1")).to_have_text("Contatos")

    # Changelist: search, filters, select-all and the actions bar.
    page.goto("/admin/contacts/contact/")
    page.fill("#searchbar", "joao")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto("/admin/contacts/contact/")
    page.check("#action-toggle")
    expect(page.locator(".action-counter")).to_contain_text("2 de 2")
    screenshot("security-04-admin-changelist")

    # Change form: inlines (add another row), filter_horizontal (tags).
    page.goto(f"/admin/contacts/contact/{contact.pk}/change/")
    page.click(".add-row a")
    page.fill("#id_custom_fields-1-name", "Cidade")
    page.fill("#id_custom_fields-1-value", "Recife")
    page.select_option("#id_tags_from", label="Inadimplente")
    page.click("#id_tags_add")
    expect(page.locator("#id_tags_to option")).to_have_count(2)
    screenshot("security-05-admin-change-form")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("foi alterado com sucesso")
    assert set(contact.tags.values_list("name", flat=True)) == {"VIP", "Inadimplente"}
    assert dict(contact.custom_fields.values_list("name", "value")) == {"Plano": "Pro", "Cidade": "Recife"}

    # Autocomplete (the wallet's user).
    page.goto("/admin/contacts/wallet/add/")
    page.fill("#id_name", "Carteira Bruno")
    page.click(".select2-selection")
    page.fill(".select2-search__field", "bru")
    page.click(".select2-results__option:has-text('bruno')")
    screenshot("security-06-admin-autocomplete")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("foi adicionado com sucesso")
    assert Wallet.objects.get(name="Carteira Bruno").user == agent

    # The related-object popup: add a user from the wallet form; the popup's
    # answer (an inline script with the nonce) fills the field and closes it.
    page.goto("/admin/contacts/wallet/add/")
    with page.expect_popup() as popup_info:
        page.click("#add_id_user")
    popup = popup_info.value
    popup.fill("#id_username", "carla")
    popup.fill("#id_password1", "Outra-senha-forte-9")
    popup.fill("#id_password2", "Outra-senha-forte-9")
    popup.click("input[name=_save]")
    popup.wait_for_event("close")
    expect(page.locator("#select2-id_user-container")).to_have_text("carla")

    # Lock-outs, where administrators unlock.
    page.goto("/admin/axes/accessattempt/")
    expect(page.locator("h1")).to_contain_text("tentativa de acesso")
    assert not csp_violations, "\n".join(csp_violations)


def test_a_photo_over_the_upload_cap_is_refused_in_the_popup_with_a_message(page, data, csp_violations, settings):
    settings.MAX_UPLOAD_SIZE = 64 * 1024
    log_in(page)
    page.click("a:has-text('Adicionar')")
    modal = page.locator("#modal")
    modal.locator("#id_name").fill("Carla Dias")
    modal.locator("#id_number").fill("(11) 3456-7890")
    modal.locator("#id_photo").set_input_files(
        {"name": "grande.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (128 * 1024)}
    )
    modal.locator("button:has-text('Salvar')").click()

    toast = page.locator("#toasts .app-toast")
    expect(toast).to_have_text("O envio é grande demais (o limite é de 64 KB) e nada foi salvo. Envie um arquivo menor.")
    expect(toast).to_have_count(1)  # not followed by the generic error
    expect(modal).to_be_visible()
    assert not Contact.objects.filter(name="Carla Dias").exists()
    assert not csp_violations, "\n".join(csp_violations)


def test_without_javascript_a_photo_over_the_cap_gets_a_page_with_the_message(browser, live_server, data, settings):
    settings.MAX_UPLOAD_SIZE = 64 * 1024
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    log_in(page)
    page.click("a:has-text('Adicionar')")
    page.fill("#id_name", "Carla Dias")
    page.fill("#id_number", "(11) 3456-7890")
    page.set_input_files("#id_photo", {"name": "grande.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (128 * 1024)})
    page.click("button:has-text('Salvar')")

    expect(page.locator("h1")).to_have_text("Envio grande demais")
    expect(page.locator(".alert-danger")).to_contain_text("o limite é de 64 KB")
    page.click("a:has-text('Voltar')")
    expect(page.locator("h1")).to_have_text("Adicionar contato")
    assert not Contact.objects.filter(name="Carla Dias").exists()
    context.close()
