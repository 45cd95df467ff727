"""Every change to a contact, its tags and its extra fields is kept, with
who, when and through what, and read back as a timeline."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from audit.recording import Source, recording
from contacts.history import contact_timeline, history_bulk_record
from contacts.models import Contact, CustomField
from contacts.services import contacts_delete
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory
from contacts.tests.test_contact_form import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def portuguese():
    # The timeline is also read outside requests here; say it in pt-BR.
    with translation.override("pt-br"):
        yield


def edit_data(contact, **overrides):
    """The edit form as the browser posts it, for `contact` as it is now."""
    contact.refresh_from_db()
    data = form_data(
        name=contact.name,
        number=contact.number,
        email=contact.email,
        cpf_cnpj=contact.cpf_cnpj,
        birth_date=contact.birth_date.strftime("%d/%m/%Y") if contact.birth_date else "",
        first_name=contact.first_name,
        last_name=contact.last_name,
        company=contact.company,
        wallet=contact.wallet_id or "",
        telegram_id=contact.telegram_id,
        version=contact.updated_at.isoformat(),
        tags=[tag.pk for tag in contact.tags.all()],
    )
    fields = list(contact.custom_fields.all())
    data["custom_fields-TOTAL_FORMS"] = str(len(fields) + 1)
    data["custom_fields-INITIAL_FORMS"] = str(len(fields))
    data.pop("custom_fields-0-name")
    data.pop("custom_fields-0-value")
    for index, field in enumerate(fields):
        data[f"custom_fields-{index}-id"] = str(field.pk)
        data[f"custom_fields-{index}-name"] = field.name
        data[f"custom_fields-{index}-value"] = field.value
    data.update(overrides)
    return data


def test_an_edit_in_the_panel_is_recorded_with_who_and_through_what(admin_client, admin_user):
    admin_user.first_name = "Alice"
    admin_user.save()
    admin_client.post(reverse("contacts:create"), form_data(company="Padaria X"))
    contact = Contact.objects.get()
    response = admin_client.post(reverse("contacts:update", args=[contact.pk]), edit_data(contact, company="Mercado Y"))
    assert response.status_code == 302

    entries = contact_timeline(contact.pk)
    assert [entry.verb for entry in entries] == ["changed", "created"]
    change = entries[0]
    assert change.user == admin_user and change.source == Source.PANEL
    assert change.sentence == "Alice alterou Empresa de “Padaria X” para “Mercado Y”"


def test_one_save_of_fields_tags_and_extra_fields_is_one_entry(admin_client):
    vip = TagFactory(name="VIP")
    contact = ContactFactory(company="A")
    CustomField.objects.create(contact=contact, name="Plano", value="Pro")
    data = edit_data(contact, company="B", tags=[vip.pk])
    data["custom_fields-0-value"] = "Premium"
    admin_client.post(reverse("contacts:update", args=[contact.pk]), data)

    entry = contact_timeline(contact.pk)[0]
    assert entry.verb == "changed"
    assert entry.details == [
        "Alterou Empresa de “A” para “B”",
        "Adicionou a etiqueta “VIP”",
        "Alterou Plano de “Pro” para “Premium”",
    ]


def test_removing_a_tag_and_an_extra_field_is_recorded(admin_client):
    vip = TagFactory(name="VIP")
    contact = ContactFactory(tags=[vip])
    field = CustomField.objects.create(contact=contact, name="Plano", value="Pro")
    data = edit_data(contact, tags=[])
    data["custom_fields-0-DELETE"] = "on"
    admin_client.post(reverse("contacts:update", args=[contact.pk]), data)

    assert not CustomField.objects.filter(pk=field.pk).exists()
    assert contact_timeline(contact.pk)[0].details == [
        "Removeu a etiqueta “VIP”",
        "Removeu Plano “Pro”",
    ]


def test_a_save_that_changes_nothing_adds_no_entry(admin_client):
    contact = ContactFactory(company="A")
    before = len(contact_timeline(contact.pk))
    admin_client.post(reverse("contacts:update", args=[contact.pk]), edit_data(contact))
    assert len(contact_timeline(contact.pk)) == before


def test_changes_in_admin_are_recorded_as_admin(admin_client):
    contact = ContactFactory(company="A")
    with recording(source=Source.ADMIN):
        contact.company = "B"
        contact.save()
    assert contact_timeline(contact.pk)[0].source == Source.ADMIN


def test_a_command_or_job_says_through_what_it_changed(admin_user):
    contact = ContactFactory(company="A")
    with recording(source=Source.IMPORT, user=admin_user):
        contact.company = "B"
        contact.save()
    entry = contact_timeline(contact.pk)[0]
    assert (entry.user, entry.source, entry.through) == (admin_user, Source.IMPORT, "importação")


def test_a_change_without_a_user_is_told_by_its_source():
    contact = ContactFactory(company="A")
    with recording(source=Source.SYNC):
        contact.company = "B"
        contact.save()
    assert contact_timeline(contact.pk)[0].sentence == "Sincronização alterou Empresa de “A” para “B”"


def test_bulk_records_keep_the_tags_so_the_timeline_does_not_see_them_removed(admin_user):
    vip = TagFactory(name="VIP")
    contact = ContactFactory(tags=[vip], company="A")
    Contact.objects.filter(pk=contact.pk).update(company="B")
    contact.refresh_from_db()
    with recording(source=Source.IMPORT, user=admin_user):
        history_bulk_record(contacts=[contact])
    entry = contact_timeline(contact.pk)[0]
    assert entry.details == [] and entry.sentence.endswith("alterou Empresa de “A” para “B”")


def test_a_deleted_contact_keeps_its_history_with_who_deleted_it(admin_client, admin_user):
    contact = ContactFactory(name="Maria Apagada", company="A")
    admin_client.post(reverse("contacts:delete", args=[contact.pk]))
    assert not Contact.objects.filter(pk=contact.pk).exists()
    last = Contact.history.model.objects.filter(id=contact.pk).latest("history_date")
    assert (last.history_type, last.history_user, last.name, last.company) == ("-", admin_user, "Maria Apagada", "A")
    assert contact_timeline(contact.pk)[0].verb == "deleted"


def test_the_history_tab_shows_the_timeline_newest_first(admin_client):
    wallet = WalletFactory(name="Carteira Azul")
    contact = ContactFactory(company="A")
    admin_client.post(reverse("contacts:update", args=[contact.pk]), edit_data(contact, company="B"))
    admin_client.post(reverse("contacts:update", args=[contact.pk]), edit_data(contact, wallet=wallet.pk))
    response = admin_client.get(reverse("contacts:history", args=[contact.pk]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.index("Carteira Azul") < html.index("Empresa de “A” para “B”")
    assert "agora" in html or "minuto" in html


def test_the_history_page_works_without_javascript_and_pages(admin_client):
    contact = ContactFactory(company="0")
    start = timezone.now()
    for number in range(1, 26):
        with recording(source=Source.COMMAND):
            contact.company = str(number)
            # A minute apart: records within a moment of each other are one entry.
            contact._history_date = start + timedelta(minutes=number)
            contact.save()
    url = reverse("contacts:history", args=[contact.pk])
    first = admin_client.get(url)
    assert "<html" in first.content.decode()
    assert [entry.details or entry.sentence for entry in first.context["entries"]][0].endswith("de “24” para “25”")
    assert len(first.context["entries"]) == 20
    second = admin_client.get(url, {"page": 2})
    assert len(second.context["entries"]) == 6  # 5 changes and the creation
    assert second.context["entries"][-1].verb == "created"


def test_the_edit_popup_has_a_history_tab(admin_client):
    contact = ContactFactory()
    html = admin_client.get(reverse("contacts:update", args=[contact.pk]), headers={"HX-Request": "true"}).content.decode()
    assert reverse("contacts:history", args=[contact.pk]) in html
    assert "Histórico" in html


def test_an_agent_sees_the_history_of_their_contacts_only(agent_client, agent_wallet, other_wallet):
    own = ContactFactory(wallet=agent_wallet)
    other = ContactFactory(wallet=other_wallet)
    assert agent_client.get(reverse("contacts:history", args=[own.pk])).status_code == 200
    assert agent_client.get(reverse("contacts:history", args=[other.pk])).status_code == 404


def test_deleting_through_the_service_keeps_the_last_values_of_every_contact(admin_user):
    contacts = [ContactFactory(company=f"C{n}") for n in range(3)]
    with recording(source=Source.COMMAND, user=admin_user):
        contacts_delete(contacts=contacts)
    deleted = Contact.history.model.objects.filter(history_type="-")
    assert sorted(deleted.values_list("company", flat=True)) == ["C0", "C1", "C2"]
    assert set(deleted.values_list("history_source", flat=True)) == {Source.COMMAND}


def test_the_first_change_of_a_contact_without_history_says_the_earlier_values_are_unknown(admin_client):
    contact = ContactFactory(company="A")
    Contact.history.model.objects.filter(id=contact.pk).delete()  # as for contacts loaded in bulk
    admin_client.post(reverse("contacts:update", args=[contact.pk]), edit_data(contact, company="B"))
    admin_client.post(reverse("contacts:update", args=[contact.pk]), edit_data(contact, company="C"))
    entries = contact_timeline(contact.pk)
    assert [entry.verb for entry in entries] == ["changed", "recorded"]
    assert entries[0].sentence.endswith("alterou Empresa de “B” para “C”")
    assert "valores anteriores não foram registrados" in entries[1].sentence
