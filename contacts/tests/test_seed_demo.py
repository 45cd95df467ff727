import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from validate_docbr import CNPJ, CPF

from contacts.models import Contact
from contacts.normalizers import normalize_phone

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_valid_brazilian_contacts_and_logins(capsys):
    call_command("seed_demo", "--contacts", "300", "--with-users", "--seed", "7")
    out = capsys.readouterr().out
    assert "Created 300 demo contacts." in out
    assert "login: admin" in out and "login: ana" in out
    assert Contact.objects.count() == 300
    for contact in Contact.objects.all():
        assert normalize_phone(contact.number) == contact.number
        if contact.cpf_cnpj:
            assert CPF().validate(contact.cpf_cnpj) or CNPJ().validate(contact.cpf_cnpj)
        assert contact.name_key
    assert Contact.objects.filter(wallet__isnull=False).exists()
    assert Contact.objects.filter(tags__isnull=False).exists()
    assert Contact.objects.filter(custom_fields__isnull=False).exists()
    assert User.objects.get(username="ana").groups.filter(name="Agents").exists()


def test_running_seed_demo_twice_adds_without_duplicates():
    call_command("seed_demo", "--contacts", "200", "--seed", "1")
    call_command("seed_demo", "--contacts", "200", "--seed", "1")
    assert Contact.objects.count() == 400
    assert Contact.objects.values("number").distinct().count() == 400


def test_seed_demo_refuses_a_negative_count():
    with pytest.raises(CommandError):
        call_command("seed_demo", "--contacts", "-1")
