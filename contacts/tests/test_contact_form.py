import io
import re

import pytest
from django.test.utils import override_settings
from django.urls import reverse
from PIL import Image

from contacts.models import Contact, CustomField
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("contacts:create")


def form_data(**overrides):
    data = {
        "name": "João da Silva",
        "number": "(11) 98765-4321",
        "email": "Joao@Exemplo.com.br",
        "cpf_cnpj": "52998224725",
        "birth_date": "01/01/1990",
        "first_name": "João",
        "last_name": "da Silva",
        "company": "Padaria Pão Quente",
        "wallet": "",
        "telegram_id": "123456789",
        "custom_fields-TOTAL_FORMS": "1",
        "custom_fields-INITIAL_FORMS": "0",
        "custom_fields-MIN_NUM_FORMS": "0",
        "custom_fields-MAX_NUM_FORMS": "50",
        "custom_fields-0-name": "Plano",
        "custom_fields-0-value": "Pro",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def png(size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#25d366").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "photo.png"
    return buffer


def test_anonymous_user_cannot_open_the_add_form(client):
    assert client.get(CREATE).status_code == 302
    assert client.post(CREATE, form_data()).status_code == 302
    assert not Contact.objects.exists()


def test_administrator_adds_a_contact_with_every_field_stored_canonical(admin_client, agent_wallet):
    vip = TagFactory(name="VIP")
    response = admin_client.post(CREATE, form_data(wallet=agent_wallet.pk, tags=[vip.pk]))
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.number == "5511987654321"
    assert contact.email == "joao@exemplo.com.br"
    assert contact.cpf_cnpj == "529.982.247-25"
    assert contact.birth_date.isoformat() == "1990-01-01"
    assert contact.wallet == agent_wallet
    assert list(contact.tags.all()) == [vip]
    assert list(contact.custom_fields.values_list("name", "value")) == [("Plano", "Pro")]
    assert contact.name_key == "joao da silva"


def test_the_popup_is_a_fragment_for_htmx_and_a_page_without_javascript(admin_client):
    fragment = admin_client.get(CREATE, headers={"HX-Request": "true"}).content.decode()
    page = admin_client.get(CREATE).content.decode()
    assert 'name="custom_fields-TOTAL_FORMS"' in fragment and "<html" not in fragment
    assert "<html" in page and 'name="cpf_cnpj"' in page


def test_a_saved_popup_tells_htmx_to_close_and_refresh(admin_client):
    response = admin_client.post(CREATE, form_data(), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert "contacts-changed" in response["HX-Trigger"]
    assert "adicionado" in response["HX-Trigger"].encode().decode("unicode_escape")


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("number", "12345", "Informe um telefone válido: DDI + DDD + número, como +55 11 98765-4321."),
        ("cpf_cnpj", "529.982.247-26", "Informe um CPF (como 529.982.247-25) ou CNPJ"),
        ("birth_date", "1990-01-01", "Informe a data no formato dd/mm/aaaa"),
        ("birth_date", "01/01/2999", "A data de nascimento não pode estar no futuro."),
        ("email", "joao@", "Informe um endereço de e-mail válido."),
        ("name", "   ", "Este campo é obrigatório."),
        ("telegram_id", "@joao", "Informe o Id Telegram numérico"),
    ],
)
def test_bad_input_is_explained_in_portuguese_and_nothing_is_saved(admin_client, field, value, message):
    response = admin_client.post(CREATE, form_data(**{field: value}), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Contact.objects.exists()
    assert not CustomField.objects.exists()


def test_a_duplicate_number_in_another_writing_names_and_links_the_existing_contact(admin_client):
    existing = ContactFactory(name="Maria Antiga", number="5511987654321")
    response = admin_client.post(CREATE, form_data(number="+55 11 8765-4321", cpf_cnpj=""))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Já existe um contato com este número" in html
    assert f'<a href="{reverse("contacts:update", args=[existing.pk])}">Maria Antiga</a>' in html
    assert Contact.objects.count() == 1


def test_a_duplicate_in_another_wallet_is_refused_without_revealing_it(agent_client, other_wallet):
    ContactFactory(name="Cliente do Bruno", cpf_cnpj="529.982.247-25", wallet=other_wallet)
    html = agent_client.post(CREATE, form_data()).content.decode()
    assert "Este CPF/CNPJ já pertence a um contato de outra carteira." in html
    assert "Cliente do Bruno" not in html
    assert Contact.objects.count() == 1


def test_custom_field_names_must_be_unique_per_contact(admin_client):
    data = form_data(**{
        "custom_fields-TOTAL_FORMS": "2",
        "custom_fields-1-name": "plano",
        "custom_fields-1-value": "Básico",
    })
    html = admin_client.post(CREATE, data).content.decode()
    assert "Já existe um campo chamado “plano”." in html
    assert not Contact.objects.exists()


def test_a_custom_field_value_without_a_name_is_an_error(admin_client):
    html = admin_client.post(CREATE, form_data(**{"custom_fields-0-name": ""})).content.decode()
    assert "Este campo é obrigatório." in html
    assert not Contact.objects.exists()


def test_a_custom_field_name_without_a_value_is_a_message_and_nothing_is_saved(admin_client):
    response = admin_client.post(CREATE, form_data(**{"custom_fields-0-value": "  "}))

    assert response.status_code == 200
    assert "Preencha o valor de “Plano” ou remova o campo." in response.content.decode()
    assert not Contact.objects.exists()
    assert not CustomField.objects.exists()


def test_clearing_a_saved_custom_fields_value_is_a_message_not_an_empty_row(admin_client):
    admin_client.post(CREATE, form_data())
    contact = Contact.objects.get()
    field = contact.custom_fields.get()
    data = form_data(**{
        "custom_fields-INITIAL_FORMS": "1",
        "custom_fields-0-id": str(field.pk),
        "custom_fields-0-value": "",
    })

    html = admin_client.post(reverse("contacts:update", args=[contact.pk]), data).content.decode()

    assert "Preencha o valor de “Plano” ou remova o campo." in html
    assert contact.custom_fields.get().value == "Pro"


def test_agents_new_contact_goes_to_their_wallet_by_default(agent_client, agent_wallet):
    form = agent_client.get(CREATE).context["form"]
    assert form["wallet"].value() == agent_wallet.pk
    agent_client.post(CREATE, form_data(wallet=agent_wallet.pk))
    assert Contact.objects.get().wallet == agent_wallet


def test_agent_may_choose_no_wallet_unless_strict(agent_client):
    agent_client.post(CREATE, form_data(wallet=""))
    assert Contact.objects.get().wallet is None


@override_settings(CONTACTS_STRICT_WALLETS=True)
def test_in_strict_mode_an_agent_must_pick_a_wallet(agent_client):
    response = agent_client.post(CREATE, form_data(wallet=""))
    assert "Este campo é obrigatório." in response.content.decode()
    assert not Contact.objects.exists()


def test_agent_cannot_put_a_contact_in_another_agents_wallet(agent_client, other_wallet):
    response = agent_client.post(CREATE, form_data(wallet=other_wallet.pk))
    assert response.status_code == 200
    assert "Faça uma escolha válida" in response.content.decode()
    assert not Contact.objects.exists()


def test_agent_edits_a_contact_of_their_wallet(agent_client, agent_wallet):
    contact = ContactFactory(name="Antigo", wallet=agent_wallet)
    response = agent_client.post(
        reverse("contacts:update", args=[contact.pk]),
        form_data(name="Novo Nome", number=contact.number, wallet=agent_wallet.pk),
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Novo Nome"


def test_agent_gets_404_for_another_wallets_contact(agent_client, other_wallet):
    contact = ContactFactory(name="Do Bruno", wallet=other_wallet)
    url = reverse("contacts:update", args=[contact.pk])
    assert agent_client.get(url).status_code == 404
    assert agent_client.post(url, form_data(wallet="")).status_code == 404
    contact.refresh_from_db()
    assert contact.name == "Do Bruno"


def test_editing_keeps_and_removes_custom_fields(admin_client):
    contact = ContactFactory(name="João")
    field = CustomField.objects.create(contact=contact, name="Plano", value="Pro")
    data = form_data(**{
        "number": contact.number,
        "cpf_cnpj": "",
        "custom_fields-TOTAL_FORMS": "2",
        "custom_fields-INITIAL_FORMS": "1",
        "custom_fields-0-id": field.pk,
        "custom_fields-0-name": "Plano",
        "custom_fields-0-value": "Pro",
        "custom_fields-0-DELETE": "on",
        "custom_fields-1-name": "Cidade",
        "custom_fields-1-value": "Recife",
    })
    assert admin_client.post(reverse("contacts:update", args=[contact.pk]), data).status_code == 302
    assert list(contact.custom_fields.values_list("name", "value")) == [("Cidade", "Recife")]


def test_photo_is_uploaded_and_served_only_to_who_may_see_the_contact(admin_client, client, other_agent, agent_wallet):
    admin_client.post(CREATE, {**form_data(wallet=agent_wallet.pk), "photo": png()})
    contact = Contact.objects.get()
    assert contact.photo
    photo_url = reverse("contacts:photo", args=[contact.pk])
    assert admin_client.get(photo_url).status_code == 200
    client.force_login(other_agent)
    assert client.get(photo_url).status_code == 404


def test_a_file_that_is_not_an_image_is_refused(admin_client):
    bogus = io.BytesIO(b"not an image")
    bogus.name = "photo.png"
    response = admin_client.post(CREATE, {**form_data(), "photo": bogus})
    assert "Envie uma imagem válida" in response.content.decode()
    assert not Contact.objects.exists()


def test_delete_asks_for_confirmation_and_says_what_goes_with_the_contact(admin_client):
    contact = ContactFactory(name="João", tags=[TagFactory()])
    CustomField.objects.create(contact=contact, name="Plano", value="Pro")
    html = admin_client.get(reverse("contacts:delete", args=[contact.pk])).content.decode()
    assert "1 campo de informação adicional" in html
    assert "o vínculo com 1 etiqueta" in html
    assert Contact.objects.exists()


def test_administrator_deletes_a_contact_with_its_custom_fields(admin_client):
    contact = ContactFactory(name="João")
    CustomField.objects.create(contact=contact, name="Plano", value="Pro")
    response = admin_client.post(reverse("contacts:delete", args=[contact.pk]))
    assert response.status_code == 302
    assert not Contact.objects.exists()
    assert not CustomField.objects.exists()


def test_agent_may_not_delete_even_own_wallets_contact(agent_client, agent_wallet):
    contact = ContactFactory(wallet=agent_wallet)
    assert agent_client.post(reverse("contacts:delete", args=[contact.pk])).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_agent_does_not_see_the_delete_button(agent_client, agent_wallet):
    contact = ContactFactory(wallet=agent_wallet)
    html = agent_client.get(reverse("contacts:list")).content.decode()
    assert reverse("contacts:update", args=[contact.pk]) in html
    assert reverse("contacts:delete", args=[contact.pk]) not in html


def test_superuser_counts_as_administrator(client, django_user_model, other_wallet):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    contact = ContactFactory(wallet=other_wallet)
    assert client.post(reverse("contacts:delete", args=[contact.pk])).status_code == 302


def test_another_wallet_is_not_offered_to_an_agent(agent_client, other_wallet):
    WalletFactory(name="Carteira Zeca")
    html = agent_client.get(CREATE).content.decode()
    assert "Carteira Ana" in html
    assert "Carteira Bruno" not in html and "Carteira Zeca" not in html


def test_deleting_a_contact_removes_its_photo_file(admin_client, django_capture_on_commit_callbacks):
    admin_client.post(CREATE, {**form_data(), "photo": png()})
    contact = Contact.objects.get()
    storage, name = contact.photo.storage, contact.photo.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("contacts:delete", args=[contact.pk]))
    assert not storage.exists(name)


def test_replacing_a_photo_removes_the_old_file(admin_client, django_capture_on_commit_callbacks):
    admin_client.post(CREATE, {**form_data(), "photo": png()})
    contact = Contact.objects.get()
    old = contact.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("contacts:update", args=[contact.pk]),
            {**form_data(number=contact.number, **{"custom_fields-TOTAL_FORMS": "0"}), "photo": png((16, 16))},
        )
    contact.refresh_from_db()
    assert contact.photo.name != old
    assert not contact.photo.storage.exists(old)
    assert contact.photo.storage.exists(contact.photo.name)


def test_a_post_without_the_extra_fields_management_data_is_refused_not_an_error(admin_client):
    data = {k: v for k, v in form_data().items() if not k.startswith("custom_fields")}
    response = admin_client.post(CREATE, data)
    assert response.status_code == 200
    assert not Contact.objects.exists()


def test_the_edit_form_shows_the_number_formatted(admin_client):
    contact = ContactFactory(number="5511987654321")
    html = admin_client.get(reverse("contacts:update", args=[contact.pk])).content.decode()
    assert 'value="+55 11 98765-4321"' in html


def test_an_uploaded_photo_is_stored_small_and_without_metadata(admin_client):
    big = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    Image.new("RGB", (2000, 1000), "#25d366").save(big, "JPEG", exif=exif)
    big.seek(0)
    big.name = "IMG_0001.jpeg"
    admin_client.post(CREATE, {**form_data(), "photo": big})
    contact = Contact.objects.get()
    with Image.open(contact.photo.open("rb")) as stored:
        assert stored.size == (512, 256)
        assert stored.format == "JPEG"
        assert not stored.getexif()


def test_a_transparent_photo_stays_a_png(admin_client):
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "logo.png"
    admin_client.post(CREATE, {**form_data(), "photo": buffer})
    assert Contact.objects.get().photo.name.endswith(".png")


def test_a_photo_over_5_mb_is_refused(admin_client):
    import os

    noisy = io.BytesIO()
    Image.frombytes("RGB", (1500, 1500), os.urandom(1500 * 1500 * 3)).save(noisy, "PNG")
    noisy.seek(0)
    noisy.name = "huge.png"
    response = admin_client.post(CREATE, {**form_data(), "photo": noisy})
    assert "A foto é grande demais: envie uma imagem de até 5 MB." in response.content.decode()
    assert not Contact.objects.exists()


def test_saving_over_somebody_elses_newer_change_is_refused(admin_client):
    contact = ContactFactory(name="Original", number="5511987654321")
    url = reverse("contacts:update", args=[contact.pk])
    version = admin_client.get(url).context["form"]["version"].value()
    assert version
    # Another agent saves first.
    contact.name = "Changed by Bruno"
    contact.save()
    response = admin_client.post(url, form_data(name="Mine", number=contact.number, cpf_cnpj="", version=version))
    assert response.status_code == 200
    assert "Outra pessoa alterou este contato enquanto você o editava." in response.content.decode()
    contact.refresh_from_db()
    assert contact.name == "Changed by Bruno"


def test_saving_with_the_current_version_works(admin_client):
    contact = ContactFactory(name="Original", number="5511987654321")
    url = reverse("contacts:update", args=[contact.pk])
    version = admin_client.get(url).context["form"]["version"].value()
    response = admin_client.post(url, form_data(name="Mine", number=contact.number, cpf_cnpj="", version=version))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Mine"


def test_the_birth_date_opens_the_numeric_keyboard_and_takes_digits_alone(admin_client):
    page = admin_client.get(CREATE).content.decode()
    birth_date = re.search(r'<input[^>]*name="birth_date"[^>]*>', page).group()
    assert 'inputmode="numeric"' in birth_date

    admin_client.post(CREATE, form_data(birth_date="25121990"))

    assert str(Contact.objects.get().birth_date) == "1990-12-25"


def test_the_phone_hint_keeps_the_example_number_on_one_line(admin_client):
    page = admin_client.get(CREATE).content.decode()
    assert "como +55\u00a011\u00a098765\u20114321." in page


def test_the_form_asks_the_database_once_for_each_identity_it_checks(admin_user, django_assert_num_queries):
    from contacts.forms import ContactForm

    ContactFactory(number="5511912345678")
    data = form_data(**{"custom_fields-TOTAL_FORMS": "0", "custom_fields-0-name": None, "custom_fields-0-value": None})
    form = ContactForm(data=data, user=admin_user)
    # The number, the Telegram id and the CPF/CNPJ: is another contact's?
    with django_assert_num_queries(3):
        assert form.is_valid(), form.errors
    taken = ContactForm(data={**data, "number": "(11) 91234-5678"}, user=admin_user)
    assert not taken.is_valid()
    assert list(taken.errors) == ["number"]
    assert "/contacts/" in taken.errors["number"][0]  # the message that links to the contact, once


def test_the_birth_dates_hint_is_its_format_not_a_date_that_reads_as_filled_in(admin_client):
    page = admin_client.get(reverse("contacts:create")).content.decode()

    assert 'placeholder="dd/mm/aaaa"' in page
    assert 'placeholder="01/01/1990"' not in page
