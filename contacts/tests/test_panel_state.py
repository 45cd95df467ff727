"""The list's state lives in its address, and the address is always
honoured: a stale or forbidden value is dropped with a note and the rest
still applies; empty values never reach the address; active filters show as
removable chips. And the popup's rules: double submits, the photo, the
delete confirmation, several extra-field rows without JavaScript."""

import json
import re

import pytest
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory
from contacts.tests.test_contact_form import form_data, png

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")
CREATE = reverse("contacts:create")
HTMX = {"HX-Request": "true"}


def names(response):
    return [contact.name for contact in response.context["page_obj"].object_list]


@pytest.mark.parametrize(
    "stale, note",
    [
        ({"tag": "999999"}, "Uma etiqueta do filtro não existe mais"),
        ({"tag": str(2**70)}, "Uma etiqueta do filtro não existe mais"),
        ({"wallet": "999999"}, "A carteira do filtro não está disponível"),
        ({"per_page": "7"}, "não foi entendido e foi retirado"),
        ({"sort": "price"}, "não foi entendido e foi retirado"),
        ({"type": "robots"}, "não foi entendido e foi retirado"),
    ],
)
def test_a_stale_value_is_dropped_with_a_note_and_the_other_filters_still_apply(admin_client, stale, note):
    vip = TagFactory(name="VIP")
    ContactFactory(name="Maria VIP", tags=[vip])
    ContactFactory(name="Maria Outra")
    ContactFactory(name="João VIP", tags=[vip])
    response = admin_client.get(LIST, {"q": "maria", **stale, "tag": [vip.pk, *([stale["tag"]] if "tag" in stale else [])]})
    assert response.status_code == 200
    assert names(response) == ["Maria VIP"]
    html = response.content.decode()
    assert note in html
    assert "Nenhum contato ainda" not in html


def test_one_deleted_tag_among_several_keeps_the_others(admin_client):
    vip, lead = TagFactory(name="VIP"), TagFactory(name="Lead")
    ContactFactory(name="A", tags=[vip])
    ContactFactory(name="B", tags=[lead])
    ContactFactory(name="C")
    gone = TagFactory(name="Antiga")
    gone_pk = gone.pk
    gone.delete()
    assert names(admin_client.get(LIST, {"tag": [vip.pk, gone_pk, lead.pk]})) == ["A", "B"]


def test_empty_values_never_reach_the_address(admin_client):
    response = admin_client.get(LIST + "?q=maria&wallet=&tag=&type=&sort=name")
    assert response.status_code == 302
    assert response.url == LIST + "?q=maria&sort=name"
    assert admin_client.get(LIST + "?q=&wallet=").url == LIST


def test_htmx_is_told_the_address_without_what_was_dropped(admin_client):
    response = admin_client.get(LIST + "?q=maria&tag=999999", headers=HTMX)
    assert response["HX-Push-Url"] == LIST + "?q=maria"
    clean = admin_client.get(LIST + "?q=maria", headers=HTMX)
    assert "HX-Push-Url" not in clean  # already what the address bar says


def test_active_filters_show_as_removable_chips(admin_client):
    wallet = WalletFactory(name="Carteira Azul")
    vip = TagFactory(name="VIP")
    ContactFactory(name="Maria", wallet=wallet, tags=[vip])
    response = admin_client.get(LIST, {"q": "maria", "wallet": wallet.pk, "tag": vip.pk})
    chips = {(chip.label, chip.value): chip.remove_url for chip in response.context["filter"].chips}
    assert chips == {
        ("Busca", "maria"): f"?wallet={wallet.pk}&tag={vip.pk}",
        ("Carteira", "Carteira Azul"): f"?q=maria&tag={vip.pk}",
        ("Etiqueta", "VIP"): f"?q=maria&wallet={wallet.pk}",
    }
    html = response.content.decode()
    assert "Limpar filtros" in html
    assert "Contatos com qualquer uma das etiquetas marcadas" in html


def test_the_no_wallet_filter_is_a_chip_too(admin_client):
    ContactFactory(name="Sem", wallet=None)
    chips = admin_client.get(LIST, {"wallet": "none"}).context["filter"].chips
    assert [(chip.label, chip.value) for chip in chips] == [("Carteira", "Sem carteira")]


def test_no_element_id_is_used_twice_on_the_page_with_the_popup_open(admin_client):
    contact = ContactFactory()
    page = admin_client.get(LIST).content.decode()
    popup = admin_client.get(reverse("contacts:update", args=[contact.pk]), headers=HTMX).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page) + re.findall(r'\sid="([^"]+)"', popup)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_disabled_coming_soon_buttons_are_not_tab_stops(admin_client):
    ContactFactory()
    html = admin_client.get(LIST).content.decode()
    assert 'tabindex="0"' not in html
    for button in re.findall(r"<button[^>]*disabled[^>]*>", html):
        assert 'tabindex="-1"' in button


def test_the_number_opens_the_whatsapp_chat_and_can_be_copied(admin_client):
    ContactFactory(name="Maria", number="5511987654321")
    html = admin_client.get(LIST).content.decode()
    assert 'href="https://wa.me/5511987654321"' in html
    assert 'data-copy="+5511987654321"' in html


def test_a_second_submit_of_the_same_add_form_finds_the_contact_it_created(admin_client):
    token = admin_client.get(CREATE).context["form"]["form_token"].value()
    data = form_data(form_token=token)
    first = admin_client.post(CREATE, data, headers=HTMX)
    second = admin_client.post(CREATE, data, headers=HTMX)
    assert first.status_code == second.status_code == 204
    assert "João da Silva" in json.loads(second["HX-Trigger"])["contacts-changed"]["message"]
    assert "já existe" not in second.content.decode().lower()
    assert Contact.objects.count() == 1


def test_another_add_form_with_the_same_number_is_still_a_duplicate(admin_client):
    admin_client.post(CREATE, form_data(form_token="a" * 32))
    response = admin_client.post(CREATE, form_data(form_token="b" * 32))
    assert "Já existe um contato com este número" in response.content.decode()
    assert Contact.objects.count() == 1


def test_the_photo_shows_as_a_thumbnail_through_the_photo_view_never_a_storage_path(admin_client):
    admin_client.post(CREATE, {**form_data(), "photo": png()})
    contact = Contact.objects.get()
    html = admin_client.get(reverse("contacts:update", args=[contact.pk])).content.decode()
    assert reverse("contacts:photo", args=[contact.pk]) in html
    assert contact.photo.name not in html
    assert "Remover foto" in html


def test_removing_the_photo_clears_it(admin_client, django_capture_on_commit_callbacks):
    from contacts.tests.test_history import edit_data

    admin_client.post(CREATE, {**form_data(), "photo": png()})
    contact = Contact.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("contacts:update", args=[contact.pk]), {**edit_data(contact), "photo-clear": "on"})
    contact.refresh_from_db()
    assert not contact.photo


def test_the_delete_confirmation_tells_namesakes_apart(admin_client):
    wallet = WalletFactory(name="Carteira Azul")
    contact = ContactFactory(name="Maria Silva", number="5511987654321", email="maria@exemplo.com", wallet=wallet)
    ContactFactory(name="Maria Silva", number="5521987654321")
    html = admin_client.get(reverse("contacts:delete", args=[contact.pk])).content.decode()
    assert "+55 11 98765-4321" in html and "maria@exemplo.com" in html and "Carteira Azul" in html


def test_several_extra_fields_can_be_added_at_once_without_javascript(admin_client):
    form = admin_client.get(CREATE).content.decode()
    assert 'name="custom_fields-2-name"' in form
    data = form_data(**{"custom_fields-TOTAL_FORMS": "3"})
    data.update({"custom_fields-1-name": "Cidade", "custom_fields-1-value": "Recife", "custom_fields-2-name": "", "custom_fields-2-value": ""})
    admin_client.post(CREATE, data)
    assert dict(Contact.objects.get().custom_fields.values_list("name", "value")) == {"Plano": "Pro", "Cidade": "Recife"}


def test_an_error_does_not_repeat_the_help_text(admin_client):
    html = admin_client.post(CREATE, form_data(number="12345")).content.decode()
    assert re.search(r'id="id_number_helptext" hidden', html)
