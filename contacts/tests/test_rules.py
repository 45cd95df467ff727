"""The rules of a contact's fields (contacts/rules.py): every writer stores
a value the same way, because every writer asks the same rule."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from contacts import rules
from dedup.duplicates import canonical_document, canonical_email, canonical_number, canonical_telegram_id
from contacts.forms import ContactForm
from contacts.models import Contact
from contacts.transfer.columns import COLUMN_BY_FIELD, HEADERS, Context


def test_the_email_limit_is_the_models():
    assert rules.EMAIL_MAX_LENGTH == Contact._meta.get_field("email").max_length


def test_the_form_edits_the_contact_fields_in_their_order_and_the_columns_follow_it():
    assert list(ContactForm.base_fields)[: len(rules.CONTACT_FIELDS)] == rules.CONTACT_FIELDS
    assert [column.field for column in COLUMN_BY_FIELD.values()] == [name for name in rules.CONTACT_FIELDS if name != "photo"]
    assert len(HEADERS) == len(COLUMN_BY_FIELD)


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("number", "(11) 8765-4321", "5511987654321"),
        ("cpf_cnpj", "52998224725", "529.982.247-25"),
        ("telegram_id", "０１２３", "123"),
        ("email", " Ana@Exemplo.COM ", "ana@exemplo.com"),
        ("first_name", "  Maria\u00a0 da\u200b  Silva ", "Maria da Silva"),
    ],
)
def test_the_model_the_import_and_the_duplicate_search_store_a_value_alike(field, typed, stored):
    contact = Contact(name="X", **{field: typed})
    contact.clean()
    assert getattr(contact, field) == stored
    context = Context(today=date.today(), wallets={}, group_numbers=set())
    assert COLUMN_BY_FIELD[field].clean(typed.strip(), typed, context) == stored
    canonical = {"number": canonical_number, "cpf_cnpj": canonical_document, "telegram_id": canonical_telegram_id, "email": canonical_email}
    if field in canonical:
        assert canonical[field](typed) == stored


@override("en")
def test_a_rule_says_what_is_wrong_with_the_message_and_code_of_the_forms():
    with pytest.raises(ValidationError) as error:
        rules.birth_date(date.today() + timedelta(days=1))
    assert (error.value.code, error.value.messages) == ("future_birth_date", ["The birth date cannot be in the future."])
    with pytest.raises(ValidationError) as error:
        rules.name(" \u200b ")
    assert error.value.code == "required"
    with pytest.raises(ValidationError) as error:
        rules.email("ana@", validate=True)
    assert error.value.messages == ["Enter a valid e-mail address."]
    assert rules.email("ana@") == "ana@"  # forms check the address in their EmailField
