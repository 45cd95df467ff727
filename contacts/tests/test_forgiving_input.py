"""What people paste from WhatsApp, browsers and phones is accepted and
cleaned, in the form and in the search."""

import pytest
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from contacts.tests.test_contact_form import form_data

pytestmark = pytest.mark.django_db

CREATE = reverse("contacts:create")
LIST = reverse("contacts:list")


def test_the_form_cleans_invisible_marks_no_break_spaces_and_typographic_dashes(admin_client):
    response = admin_client.post(
        CREATE,
        form_data(
            name="\u200eJoão\u00a0da Silva\u200f",
            number="\u202a+55 (11) 98765–4321\u202c",
            email="\u200bJoao@Exemplo.com.br\u00a0",
            cpf_cnpj="529.982.247‐25",
            telegram_id="\u2068123456789\u2069",
            company="Padaria\u200b Pão Quente",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    contact = Contact.objects.get()
    assert (contact.name, contact.number, contact.email, contact.cpf_cnpj, contact.telegram_id, contact.company) == (
        "João da Silva", "5511987654321", "joao@exemplo.com.br", "529.982.247-25", "123456789", "Padaria Pão Quente",
    )


@pytest.mark.parametrize(
    "stored, typed",
    [("D'Ávila", "d’avila"), ("D’Ávila", "D'Ávila"), ("D´Ávila", "d'ávila"), ("Sant`Anna", "sant'anna")],
)
def test_typographic_apostrophes_search_the_same_as_plain_ones(admin_client, stored, typed):
    ContactFactory(name=f"Maria {stored}")
    ContactFactory(name="Maria Davila")
    response = admin_client.get(LIST, {"q": typed})
    assert [c.name for c in response.context["object_list"]] == [f"Maria {stored}"]


@pytest.mark.parametrize("pasted", ["\u202a+55 11 98765–4321\u202c", "98765\u20114321", "\u200e(11) 98765—4321"])
def test_a_pasted_number_is_found(admin_client, pasted):
    ContactFactory(name="Maria", number="5511987654321")
    ContactFactory(name="Outra", number="5511912345678")
    response = admin_client.get(LIST, {"q": pasted})
    assert [c.name for c in response.context["object_list"]] == ["Maria"]


def test_a_name_over_the_limit_gets_a_message_not_a_silent_cut(admin_client):
    form = admin_client.get(CREATE).content.decode()
    assert 'maxlength="200"' not in form  # a browser would cut a long paste silently
    response = admin_client.post(CREATE, form_data(name="A" * 201))
    assert response.status_code == 200
    assert "no máximo 200 caracteres" in response.content.decode()
    assert not Contact.objects.exists()
