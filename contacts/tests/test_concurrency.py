"""Two writers at once must never create a duplicate nor fail with a 500.

Both requests pass validation before either saves (a barrier holds them),
so the database constraint is what decides; on PostgreSQL the second insert
waits on the first one's row lock, exactly as in production.
"""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from contacts.forms import ContactForm
from contacts.models import Contact
from contacts.tests.test_contact_form import form_data

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_agents_adding_the_same_number_at_once_create_one_contact(admin_user, monkeypatch):
    barrier = threading.Barrier(2, timeout=10)
    original_save = ContactForm.save

    def save_after_both_validated(self, *args, **kwargs):
        barrier.wait()
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(ContactForm, "save", save_after_both_validated)
    responses = []

    def post(number, cpf):
        client = Client()
        client.force_login(admin_user)
        try:
            responses.append(client.post(reverse("contacts:create"), form_data(number=number, cpf_cnpj=cpf)))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, args=("(11) 98765-4321", "")),
        threading.Thread(target=post, args=("+55 11 8765-4321", "")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert "Já existe um contato com este número" in refused.content.decode()
    assert Contact.objects.filter(number="5511987654321").count() == 1


def test_an_edit_racing_a_delete_never_brings_the_contact_back(admin_user, monkeypatch):
    from contacts.services import contacts_delete
    from contacts.tests.factories import ContactFactory
    from contacts.tests.test_history import edit_data

    contact = ContactFactory(name="Maria")
    data = edit_data(contact, company="Nova")
    barrier = threading.Barrier(2, timeout=10)
    original_save = ContactForm.save

    def save_after_both_are_ready(self, *args, **kwargs):
        barrier.wait()
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(ContactForm, "save", save_after_both_are_ready)
    responses, errors = [], []

    def edit():
        client = Client()
        client.force_login(admin_user)
        try:
            responses.append(client.post(reverse("contacts:update", args=[contact.pk]), data))
        finally:
            connection.close()

    def delete():
        try:
            barrier.wait()
            contacts_delete(contacts=[contact])
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    # Whichever went first, the contact ends deleted, and the editor got a
    # page (the saved redirect, or the form saying it was deleted), not a 500.
    assert responses[0].status_code in (200, 302)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Contact.history.model.objects.filter(id=contact.pk).latest("history_date").history_type == "-"
