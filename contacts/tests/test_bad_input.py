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


@pytest.mark.parametrize(
    "query",
    ["a\ud7ff", "\ud7ff", "\uffff", "\ue000", " ".join(["palavra"] * 1000), "a" * 50_000, "1" * 50_000, "a@" * 20_000, "%_" * 30_000],
    ids=["after-d7ff", "d7ff", "ffff", "e000", "1000-words", "50k-letters", "50k-digits", "at-signs", "like-wildcards"],
)
def test_searches_at_the_edges_of_unicode_and_of_size_give_a_page(admin_client, contact_factory, query):
    contact_factory(name="Maria")
    assert admin_client.get(LIST, {"q": query}).status_code == 200


def test_a_search_past_its_bounds_still_finds_by_its_first_words(admin_client, contact_factory):
    contact_factory(name="Maria Lima")
    response = admin_client.get(LIST, {"q": "maria lima " * 5_000})
    # The words beyond the bounds are left out, not refused.
    assert response.status_code == 200
    assert [c.name for c in response.context["object_list"]] == ["Maria Lima"]


@pytest.mark.parametrize("value", [str(2**63), str(2**64), str(-(2**63) - 1), "9" * 40])
@pytest.mark.parametrize("name", ["tag", "wallet"])
def test_ids_beyond_any_column_are_ignored_not_an_error(admin_client, contact_factory, name, value):
    contact_factory(name="Maria")
    assert admin_client.get(LIST, {name: value}).status_code == 200


@pytest.mark.parametrize("value", [str(2**63), str(2**64), "9" * 40])
def test_a_form_with_huge_tag_or_wallet_ids_gets_a_message(admin_client, value):
    response = admin_client.post(reverse("contacts:create"), form_data(tags=[value], wallet=value))
    assert response.status_code == 200
    assert not Contact.objects.exists()


@pytest.mark.parametrize("pk", [2**63 - 1, 2**63, 2**64])
@pytest.mark.parametrize("name", ["contacts:update", "contacts:delete", "contacts:photo", "contacts:history"])
def test_contact_urls_with_huge_ids_are_404(admin_client, name, pk):
    assert admin_client.get(reverse(name, args=[pk])).status_code == 404
