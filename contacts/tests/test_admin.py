import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:contacts_contact_add")


@pytest.fixture
def staff_client(client):
    user = UserFactory(username="staff-admin", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(user)
    return client


def admin_form(**overrides):
    data = {
        "name": "João",
        "number": "+55 11 8765-4321",
        "email": "JOAO@EXEMPLO.COM",
        "cpf_cnpj": "11222333000181",
        "birth_date": "",
        "first_name": "",
        "last_name": "",
        "company": "",
        "wallet": "",
        "telegram_id": "",
        "custom_fields-TOTAL_FORMS": "0",
        "custom_fields-INITIAL_FORMS": "0",
        "custom_fields-MIN_NUM_FORMS": "0",
        "custom_fields-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_admin_saves_go_through_the_same_normalisation(staff_client):
    response = staff_client.post(ADD, admin_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    contact = Contact.objects.get()
    assert contact.number == "5511987654321"
    assert contact.cpf_cnpj == "11.222.333/0001-81"
    assert contact.email == "joao@exemplo.com"
    assert contact.search_text.startswith("joao")


def test_admin_rejects_a_duplicate_number_like_the_panel(staff_client):
    ContactFactory(name="Maria", number="5511987654321")
    response = staff_client.post(ADD, admin_form())
    assert response.status_code == 200
    assert "Já existe um contato com este número" in response.content.decode()
    assert Contact.objects.count() == 1


def test_admin_rejects_an_invalid_phone(staff_client):
    response = staff_client.post(ADD, admin_form(number="123"))
    assert "Informe um telefone válido" in response.content.decode()
    assert not Contact.objects.exists()


def test_admin_search_uses_the_panel_search(staff_client):
    ContactFactory(name="João", number="5511987654321")
    ContactFactory(name="Maria", number="5521912340000")
    response = staff_client.get(reverse("admin:contacts_contact_changelist"), {"q": "+55 11 8765-4321"})
    assert list(response.context["cl"].result_list.values_list("name", flat=True)) == ["João"]


def test_agents_cannot_use_the_admin(client, agent):
    client.force_login(agent)
    assert client.get(ADD).status_code == 302


def test_tag_names_are_unique_whatever_their_case(staff_client):
    from contacts.models import Tag

    Tag.objects.create(name="VIP")
    response = staff_client.post(reverse("admin:contacts_tag_add"), {"name": "vip", "color": "#ff0000"})
    assert response.status_code == 200
    assert "Já existe uma etiqueta com este nome." in response.content.decode()
    assert Tag.objects.count() == 1


def test_admin_keeps_a_group_id_as_given(staff_client):
    response = staff_client.post(ADD, admin_form(name="Grupo Vendas", is_group="on", number="120363025246125888", cpf_cnpj=""))
    assert response.status_code == 302
    assert Contact.objects.get().number == "120363025246125888"


@pytest.mark.parametrize("model", ["contact", "wallet", "tag", "customfield"])
def test_every_model_has_a_searchable_admin_list(staff_client, model):
    ContactFactory(name="João")
    url = reverse(f"admin:contacts_{model}_changelist")
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "jo"}).status_code == 200


def test_admin_bulk_delete_removes_contacts_and_their_photo_files(staff_client, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    first, second = ContactFactory(name="A"), ContactFactory(name="B")
    first.photo.save("a.png", ContentFile(b"x"))
    name = first.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:contacts_contact_changelist"),
            {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not Contact.objects.exists()
    assert not first.photo.storage.exists(name)
