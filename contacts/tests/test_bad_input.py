"""Garbage in the query string or the form never reaches the database as an
error page."""

import pytest
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.test_contact_form import form_data

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


@pytest.mark.parametrize(
    "query",
    ["\x00", "joao\x00", "%", "_", "\\", "'; drop table x; --", "ç" * 3000, "+", "()", "@", "💬 maria", "1" * 40, "a\U0010ffff"],
)
def test_any_search_text_gives_a_page(admin_client, contact_factory, query):
    contact_factory(name="Maria")
    assert admin_client.get(LIST, {"q": query}).status_code == 200
    assert admin_client.get(LIST, {"q": query}, headers={"HX-Request": "true"}).status_code == 200


@pytest.mark.parametrize("field", ["name", "number", "email", "cpf_cnpj", "company", "telegram_id", "custom_fields-0-value"])
def test_a_nul_character_in_any_field_is_refused_with_a_message(admin_client, field):
    response = admin_client.post(reverse("contacts:create"), form_data(**{field: "ab\x00c"}))
    assert response.status_code == 200
    assert "Caracteres nulos não são permitidos." in response.content.decode()
    assert not Contact.objects.exists()
