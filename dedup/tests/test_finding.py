"""Remover duplicados, the search: which contacts are one."""

import pytest

from contacts.models import Contact
from contacts.tests.factories import stored_contact
from dedup.finding import find_duplicates

pytestmark = pytest.mark.django_db


def groups() -> list[list[int]]:
    return [group.contact_ids for group in find_duplicates()]


def test_an_old_eight_digit_mobile_is_the_same_number_as_its_nine_digit_writing():
    old = stored_contact(5, number="551187654321")
    new = stored_contact(1, number="5511987654321")
    assert groups() == [[old.pk, new.pk]]


def test_numbers_written_before_normalising_are_recomputed():
    a = stored_contact(3, number="5511987654321")
    b = stored_contact(2, number="+55 (11) 98765-4321")
    c = stored_contact(1, number="11987654321")
    other = stored_contact(1, number="5511912345678")
    [group] = find_duplicates()
    assert group.contact_ids == [a.pk, b.pk, c.pk]
    assert group.rules == ["number"]
    assert other.pk not in group.contact_ids


def test_the_same_telegram_id_in_two_writings_is_one_contact():
    a = stored_contact(2, telegram_id="123456")
    b = stored_contact(1, telegram_id="0123456")
    assert groups() == [[a.pk, b.pk]]


def test_a_cpf_with_and_without_punctuation_is_one_contact():
    a = stored_contact(2, cpf_cnpj="529.982.247-25")
    b = stored_contact(1, cpf_cnpj="52998224725")
    assert groups() == [[a.pk, b.pk]]


def test_e_mails_match_whatever_their_case():
    a = stored_contact(2, email="maria@example.com")
    b = stored_contact(1, email="Maria@Example.COM ")
    c = stored_contact(1, email="maria@example.org")
    assert groups() == [[a.pk, b.pk]]
    assert c.pk not in groups()[0]


def test_a_whatsapp_lid_is_not_a_phone_number_without_conversations_linking_it():
    stored_contact(2, number="5511987654321")
    stored_contact(1, number="123456789012345")
    assert groups() == []


def test_groups_are_transitive():
    a = stored_contact(3, number="5511987654321")
    b = stored_contact(2, number="551187654321", email="joao@example.com")
    c = stored_contact(1, email="JOAO@example.com", cpf_cnpj="529.982.247-25")
    d = stored_contact(0, cpf_cnpj="52998224725")
    [group] = find_duplicates()
    assert group.contact_ids == [a.pk, b.pk, c.pk, d.pk]
    assert group.rules == ["number", "cpf_cnpj", "email"]


def test_people_never_merge_with_groups():
    stored_contact(2, email="equipe@example.com")
    stored_contact(1, email="equipe@example.com", is_group=True, number="120363025246125888")
    assert groups() == []


def test_the_oldest_contact_survives_and_ties_go_to_the_lower_id():
    newer = stored_contact(1, email="a@example.com")
    older = stored_contact(9, email="a@example.com")
    assert groups() == [[older.pk, newer.pk]]
    same_time = stored_contact(0, email="b@example.com")
    twin = stored_contact(0, email="b@example.com")
    Contact.objects.filter(pk=twin.pk).update(created_at=Contact.objects.get(pk=same_time.pk).created_at)
    assert [same_time.pk, twin.pk] in groups()
