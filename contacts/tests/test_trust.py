"""The audit trail of bulk and destructive work, Django admin kept to
administrators, wallets that never let their contacts go silently, a
deleted contact that stays deleted, and canonical Telegram ids."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from contacts.forms import ContactForm
from contacts.models import Contact
from contacts.normalizers import normalize_telegram_id
from contacts.forms import ContactGoneError
from contacts.services import contacts_delete
from contacts.tests.factories import ContactFactory, UserFactory, WalletFactory
from contacts.tests.test_history import edit_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin_client(client):
    user = UserFactory(username="staff-admin", is_staff=True, first_name="Alice")
    user.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(user)
    client.user = user
    return client


# Audit trail


def test_deleting_in_the_panel_is_recorded_in_the_audit_trail(admin_client, admin_user):
    contact = ContactFactory(name="Maria")
    admin_client.post(reverse("contacts:delete", args=[contact.pk]))
    event = AuditEvent.objects.get()
    assert (event.action, event.user, event.username, event.source) == ("delete", admin_user, admin_user.username, "panel")
    assert event.parameters == {"contacts": [{"id": contact.pk, "name": "Maria"}]}
    assert event.counts == {"contacts": 1}


def test_bulk_delete_in_admin_is_one_audit_event_with_its_count(staff_admin_client):
    contacts = [ContactFactory() for _ in range(3)]
    response = staff_admin_client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "delete_selected", "_selected_action": [c.pk for c in contacts], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Contact.objects.exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.source, event.counts) == ("delete", "admin", {"contacts": 3})
    assert event.user == staff_admin_client.user


def test_a_delete_that_fails_records_nothing(admin_user, monkeypatch):
    contact = ContactFactory()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(AuditEvent.objects, "create", fail)
    with pytest.raises(RuntimeError):
        contacts_delete(contacts=[contact])
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_administrators_find_a_deleted_contact_with_who_deleted_it_in_admin(staff_admin_client):
    contact = ContactFactory(name="Maria Apagada")
    staff_admin_client.post(reverse("admin:contacts_contact_delete", args=[contact.pk]), {"post": "yes"})
    response = staff_admin_client.get(reverse("admin:contacts_historicalcontact_changelist"), {"history_type__exact": "-"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Maria Apagada" in html and "staff-admin" in html


# Django admin is for administrators


def test_an_agent_marked_staff_is_kept_out_of_admin(client, agent, agent_wallet):
    agent.is_staff = True
    agent.save()
    client.force_login(agent)
    ContactFactory(wallet=WalletFactory(name="Outra"))
    for url in [reverse("admin:index"), reverse("admin:contacts_contact_changelist"), reverse("admin:contacts_customfield_changelist")]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    html = client.get(reverse("contacts:list")).content.decode()
    assert reverse("admin:index") not in html


def test_the_responsible_user_autocomplete_works_for_administrators(staff_admin_client):
    UserFactory(username="carla")
    response = staff_admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "car", "app_label": "contacts", "model_name": "wallet", "field_name": "user"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["carla"]


# Wallets protect their contacts


def test_a_wallet_with_contacts_cannot_be_deleted_and_admin_offers_to_move_them(staff_admin_client):
    wallet = WalletFactory(name="Carteira Velha")
    contact = ContactFactory(wallet=wallet)
    url = reverse("admin:contacts_wallet_delete", args=[wallet.pk])
    html = staff_admin_client.get(url).content.decode()
    assert reverse("admin:contacts_wallet_move", args=[wallet.pk]) in html
    staff_admin_client.post(url, {"post": "yes"})
    contact.refresh_from_db()
    assert contact.wallet == wallet


def test_moving_a_wallets_contacts_keeps_history_and_audit_then_the_wallet_can_go(staff_admin_client):
    old, new = WalletFactory(name="Carteira Velha"), WalletFactory(name="Carteira Nova")
    contacts = [ContactFactory(wallet=old) for _ in range(3)]
    response = staff_admin_client.post(reverse("admin:contacts_wallet_move", args=[old.pk]), {"target": new.pk})
    assert response.status_code == 302
    assert set(Contact.objects.values_list("wallet", flat=True)) == {new.pk}
    event = AuditEvent.objects.get()
    assert (event.action, event.counts) == ("wallet_reassign", {"contacts": 3})
    record = Contact.history.model.objects.filter(id=contacts[0].pk).latest("history_date")
    assert (record.wallet_id, record.history_source, record.history_user) == (new.pk, "admin", staff_admin_client.user)
    staff_admin_client.post(reverse("admin:contacts_wallet_delete", args=[old.pk]), {"post": "yes"})
    assert not type(old).objects.filter(pk=old.pk).exists()


def test_no_code_path_can_delete_a_wallet_that_has_contacts():
    from django.db.models import ProtectedError

    wallet = WalletFactory()
    ContactFactory(wallet=wallet)
    with pytest.raises(ProtectedError):
        wallet.delete()


# A deleted contact stays deleted


def test_saving_the_form_of_a_contact_deleted_meanwhile_says_so_and_does_not_bring_it_back(admin_client):
    contact = ContactFactory(name="Maria")
    data = edit_data(contact, company="Nova")
    Contact.objects.filter(pk=contact.pk).delete()
    response = admin_client.post(reverse("contacts:update", args=[contact.pk]), data)
    assert response.status_code == 404  # it is gone before the form opens
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_a_save_racing_a_delete_never_resurrects_the_contact(admin_user):
    contact = ContactFactory(name="Maria")
    form = ContactForm(data=edit_data(contact, company="Nova"), instance=contact, user=admin_user)
    assert form.is_valid()
    Contact.objects.filter(pk=contact.pk).delete()  # between validation and save
    with pytest.raises(ContactGoneError):
        form.save()
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_a_plain_save_of_a_deleted_contact_fails_instead_of_inserting_it():
    contact = ContactFactory(name="Maria")
    Contact.objects.filter(pk=contact.pk).delete()
    contact.company = "Nova"
    with pytest.raises(Contact.NotUpdated), transaction.atomic():
        contact.save()
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_admin_save_of_a_contact_deleted_meanwhile_is_a_message(staff_admin_client, monkeypatch):
    from contacts.admin import ContactAdmin

    contact = ContactFactory(name="Maria", number="5511987654321")
    original = ContactAdmin.save_model

    def delete_first(self, request, obj, form, change):
        # Another connection's delete, as far as this save can tell (the
        # request's transaction rolls it back with the failed save here).
        Contact.objects.filter(pk=obj.pk).delete()
        return original(self, request, obj, form, change)

    monkeypatch.setattr(ContactAdmin, "save_model", delete_first)
    from contacts.tests.test_admin import admin_form

    response = staff_admin_client.post(
        reverse("admin:contacts_contact_change", args=[contact.pk]), admin_form(number="5511987654321"), follow=True
    )
    assert response.status_code == 200
    assert "Outra pessoa excluiu este contato" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).company == ""  # the edit was not saved


# Telegram ids


@pytest.mark.parametrize("raw", ["123", "0123", "000123", "１２３", "٠١٢٣", " 123 "])
def test_every_writing_of_a_telegram_id_is_stored_the_same(raw):
    assert normalize_telegram_id(raw) == "123"


@pytest.mark.parametrize("raw", ["-0", "0", "-000"])
def test_zero_has_one_writing(raw):
    assert normalize_telegram_id(raw) == "0"


@pytest.mark.parametrize("raw", [str(2**63), "-" + str(2**63), "1" * 30, "12a", "+123", "1 2"])
def test_telegram_ids_beyond_64_bits_or_not_numbers_are_refused(raw):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        normalize_telegram_id(raw)


def test_the_same_telegram_id_in_another_writing_is_a_duplicate(admin_client):
    from contacts.tests.test_contact_form import form_data

    ContactFactory(name="Maria", telegram_id="123")
    response = admin_client.post(reverse("contacts:create"), form_data(telegram_id="00１２３"))
    assert "Já existe um contato com este Id Telegram" in response.content.decode()
    assert Contact.objects.filter(telegram_id="123").count() == 1
    assert Contact.objects.count() == 1


def test_deleting_tags_in_admin_is_recorded_with_the_contacts_that_lose_them(staff_admin_client):
    from contacts.tests.factories import TagFactory

    vip, old = TagFactory(name="VIP"), TagFactory(name="Antiga")
    ContactFactory(tags=[vip, old])
    ContactFactory(tags=[vip])
    response = staff_admin_client.post(
        reverse("admin:contacts_tag_changelist"),
        {"action": "delete_selected", "_selected_action": [vip.pk, old.pk], "post": "yes"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert event.counts == {"tags": 2, "contact_links": 3}
    assert {t["name"]: t["contacts"] for t in event.parameters["tags"]} == {"VIP": 2, "Antiga": 1}
