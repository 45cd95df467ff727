"""Everything the list shows is searchable: Telegram ids, and the values of
the extra fields ("Adicionar Informação") like names."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact, CustomField
from contacts.services import contacts_refresh_search
from contacts.tests.factories import ContactFactory, UserFactory
from contacts.tests.test_contact_form import form_data

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")
CREATE = reverse("contacts:create")


def names(response):
    return [contact.name for contact in response.context["page_obj"].object_list]


def search(client, query, **params):
    return names(client.get(LIST, {"q": query, **params}))


def add_through_panel(client, name, number, fields):
    """Create a contact through the panel's popup with these extra fields."""
    data = form_data(
        name=name, number=number, email="", cpf_cnpj="", first_name="", last_name="", company="", telegram_id=""
    )
    data["custom_fields-TOTAL_FORMS"] = str(len(fields))
    for n, (field_name, value) in enumerate(fields):
        data[f"custom_fields-{n}-name"] = field_name
        data[f"custom_fields-{n}-value"] = value
    response = client.post(CREATE, data, headers={"HX-Request": "true"})
    assert response.status_code == 204, response.content.decode()[:2000]
    return Contact.objects.get(name=name)


def edit_fields_through_panel(client, contact, rows):
    """Post the edit popup with the contact as it is and these extra-field
    rows: (id or None, name, value, delete)."""
    data = form_data(
        name=contact.name, number=contact.number, email="", cpf_cnpj="", first_name="", last_name="",
        company="", telegram_id=contact.telegram_id, version=contact.updated_at.isoformat(),
    )
    data["custom_fields-TOTAL_FORMS"] = str(len(rows))
    data["custom_fields-INITIAL_FORMS"] = str(sum(1 for pk, *_ in rows if pk))
    for n, (pk, field_name, value, delete) in enumerate(rows):
        data.update({f"custom_fields-{n}-name": field_name, f"custom_fields-{n}-value": value})
        if pk:
            data[f"custom_fields-{n}-id"] = pk
        if delete:
            data[f"custom_fields-{n}-DELETE"] = "on"
    response = client.post(reverse("contacts:update", args=[contact.pk]), data, headers={"HX-Request": "true"})
    assert response.status_code == 204, response.content.decode()[:2000]


# Telegram ids


@pytest.mark.parametrize(
    "query",
    ["123456789", "0123456789", "00123456789", "１２３４５６７８９", " 123456789 ", "\u200e123456789\u200f"],
)
def test_finds_a_contact_by_telegram_id_in_any_writing(admin_client, query):
    ContactFactory(name="Tânia", telegram_id="123456789")
    ContactFactory(name="Other", telegram_id="1234567890")
    assert search(admin_client, query) == ["Tânia"]


@pytest.mark.parametrize("query", ["-1001234567890", "−1001234567890", "–1001234567890", "-01001234567890"])
def test_finds_a_telegram_group_by_its_negative_id_typed_with_any_dash(admin_client, query):
    ContactFactory(name="Avisos da Loja", number="", is_group=True, telegram_id="-1001234567890")
    ContactFactory(name="Someone", number="5511912345678", telegram_id="1001234567890")
    assert search(admin_client, query) == ["Avisos da Loja"]


def test_a_telegram_id_and_a_phone_that_read_alike_are_both_found(admin_client):
    # Ten digits are also a Brazilian landline: 55 12 3456-7890.
    ContactFactory(name="By phone", number="551234567890")
    ContactFactory(name="By Telegram", telegram_id="1234567890")
    assert sorted(search(admin_client, "1234567890")) == ["By Telegram", "By phone"]


def test_agent_cannot_find_another_wallets_contact_by_telegram_id(agent_client, other_wallet):
    ContactFactory(name="Secret", telegram_id="123456789", wallet=other_wallet)
    assert search(agent_client, "123456789") == []


def test_a_telegram_id_search_reads_the_unique_index(db):
    ContactFactory(name="Tânia", telegram_id="1234567890")
    queryset = Contact.objects.search("1234567890").order_by().values("pk")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tiny table is read whole unless that is made expensive.
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "contact_telegram_id_unique" in plan
    assert "contact_number_unique" in plan


def test_a_search_by_the_start_of_a_cpf_reads_the_unique_index(db):
    ContactFactory(name="Tânia", cpf_cnpj="529.982.247-25")
    queryset = Contact.objects.search("529.982").order_by().values("pk")
    assert [row["pk"] for row in queryset] == list(Contact.objects.values_list("pk", flat=True))
    if connection.vendor != "postgresql":
        pytest.skip("SQLite reads a LIKE … ESCAPE whole; the phone fragment beside it does too")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "contact_cpf_cnpj_unique" in plan


def test_an_e_mail_search_reads_the_search_texts_trigram_index(db):
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    ContactFactory(name="Tânia", email="tania@exemplo.com")
    queryset = Contact.objects.search("tania@exem").order_by().values("pk")
    assert queryset.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "contact_search_text_trgm" in plan


# Extra fields


@pytest.mark.parametrize("query", ["sao paulo", "SÃO PAULO", "paulo", "São", "são paulo zona sul"])
def test_finds_a_contact_by_an_extra_fields_value_with_accents_and_case_aside(admin_client, query):
    add_through_panel(admin_client, "Tânia", "+55 11 91234-0001", [("Cidade", "São Paulo – Zona Sul")])
    add_through_panel(admin_client, "Rui", "+55 11 91234-0002", [("Cidade", "Recife")])
    assert search(admin_client, query) == ["Tânia"]


def test_the_field_name_alone_does_not_find_the_contact(admin_client):
    add_through_panel(admin_client, "Tânia", "+55 11 91234-0001", [("Cidade", "Recife")])
    assert search(admin_client, "cidade") == []


def test_editing_an_extra_field_in_the_panel_changes_what_the_search_finds(admin_client):
    contact = add_through_panel(admin_client, "Tânia", "+55 11 91234-0001", [("Cidade", "Recife")])
    field = contact.custom_fields.get()
    edit_fields_through_panel(admin_client, contact, [(field.pk, "Cidade", "Salvador", False)])
    assert search(admin_client, "salvador") == ["Tânia"]
    assert search(admin_client, "recife") == []


def test_deleting_an_extra_field_in_the_panel_changes_what_the_search_finds(admin_client):
    contact = add_through_panel(admin_client, "Tânia", "+55 11 91234-0001", [("Cidade", "Recife"), ("Plano", "Básico")])
    city, plan = contact.custom_fields.order_by("pk")
    edit_fields_through_panel(
        admin_client, contact, [(city.pk, "Cidade", "Recife", True), (plan.pk, "Plano", "Básico", False)]
    )
    assert search(admin_client, "recife") == []
    assert search(admin_client, "basico") == ["Tânia"]


def test_a_search_combines_name_and_extra_field_words(admin_client):
    add_through_panel(admin_client, "Maria Lima", "+55 11 91234-0001", [("Cidade", "Recife")])
    add_through_panel(admin_client, "Maria Souza", "+55 11 91234-0002", [("Cidade", "Salvador")])
    add_through_panel(admin_client, "João Recife", "+55 11 91234-0003", [("Cidade", "Curitiba")])
    add_through_panel(admin_client, "Ana Maria", "+55 11 91234-0004", [("Observação", "Mora em Recife")])
    assert search(admin_client, "maria recife") == ["Maria Lima", "Ana Maria"]
    assert search(admin_client, "recife maria") == ["Ana Maria", "Maria Lima"]
    assert search(admin_client, "maria recife", sort="newest") == ["Ana Maria", "Maria Lima"]
    assert search(admin_client, "recife") == ["Ana Maria", "João Recife", "Maria Lima"]


def test_every_word_of_a_long_search_must_appear_also_those_beyond_the_indexed_two(admin_client):
    add_through_panel(admin_client, "Tânia", "+55 11 91234-0001", [("Observação", "Prefere contato à tarde")])
    add_through_panel(admin_client, "Rui", "+55 11 91234-0002", [("Observação", "Prefere contato de manhã")])
    add_through_panel(admin_client, "Lia", "+55 11 91234-0003", [("Observação", "Contato só à tarde")])
    assert search(admin_client, "prefere contato a tarde") == ["Tânia"]
    assert search(admin_client, "tarde a contato prefere") == ["Tânia"]
    assert search(admin_client, "prefere contato manha") == ["Rui"]
    assert search(admin_client, "contato tarde") == ["Lia", "Tânia"]
    assert search(admin_client, "contato contato tarde so") == ["Lia"]


def test_agent_cannot_find_another_wallets_contact_by_an_extra_field(agent_client, other_wallet):
    contact = ContactFactory(name="Secret", wallet=other_wallet)
    CustomField.objects.create(contact=contact, name="Cidade", value="Recife")
    contacts_refresh_search(contacts=[contact])
    assert search(agent_client, "recife") == []


def test_saving_a_contact_elsewhere_keeps_its_extra_fields_searchable(admin_client):
    contact = add_through_panel(admin_client, "Tânia", "+55 11 91234-0001", [("Cidade", "Recife")])
    contact.name = "Tânia Lima"
    contact.save()
    assert search(admin_client, "tania recife") == ["Tânia Lima"]


def test_a_search_with_few_matches_runs_once_and_the_page_is_read_by_id(admin_client):
    for n in range(30):
        ContactFactory(name=f"Ana {n:02d}")
    for n in range(3):
        contact = ContactFactory(name=f"Rui {n}")
        CustomField.objects.create(contact=contact, name="Cidade", value="Recife")
    contacts_refresh_search(contacts=Contact.objects.all())
    with CaptureQueriesContext(connection) as queries:
        assert search(admin_client, "recife") == ["Rui 0", "Rui 1", "Rui 2"]
    # On SQLite every run of a text search reads the whole table.
    assert sum("%recife%" in query["sql"] for query in queries.captured_queries) == 1


# Django admin


@pytest.fixture
def staff_client(client):
    user = UserFactory(username="staff-admin", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(user)
    return client


def admin_change_data(contact, rows):
    data = {
        "name": contact.name, "is_group": "", "number": contact.number, "email": "", "cpf_cnpj": "",
        "birth_date": "", "first_name": "", "last_name": "", "company": "", "wallet": "", "telegram_id": "",
        "custom_fields-TOTAL_FORMS": str(len(rows)),
        "custom_fields-INITIAL_FORMS": str(sum(1 for pk, *_ in rows if pk)),
        "custom_fields-MIN_NUM_FORMS": "0",
        "custom_fields-MAX_NUM_FORMS": "1000",
    }
    for n, (pk, field_name, value, delete) in enumerate(rows):
        data.update({
            f"custom_fields-{n}-id": pk or "", f"custom_fields-{n}-contact": contact.pk,
            f"custom_fields-{n}-name": field_name, f"custom_fields-{n}-value": value,
        })
        if delete:
            data[f"custom_fields-{n}-DELETE"] = "on"
    return data


def test_extra_fields_edited_in_django_admin_are_searched(staff_client):
    contact = ContactFactory(name="Tânia", number="5511912340001")
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    response = staff_client.post(url, admin_change_data(contact, [(None, "Cidade", "Recife", False)]))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert search(staff_client, "recife") == ["Tânia"]
    field = contact.custom_fields.get()
    staff_client.post(url, admin_change_data(contact, [(field.pk, "Cidade", "Recife", True)]))
    assert search(staff_client, "recife") == []


def test_the_extra_field_pages_of_django_admin_keep_the_search_current(staff_client):
    tania = ContactFactory(name="Tânia")
    rui = ContactFactory(name="Rui")
    field = CustomField.objects.create(contact=tania, name="Cidade", value="Recife")
    contacts_refresh_search(contacts=[tania])
    change = reverse("admin:contacts_customfield_change", args=[field.pk])
    response = staff_client.post(change, {"contact": tania.pk, "name": "Cidade", "value": "Salvador"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert search(staff_client, "salvador") == ["Tânia"] and search(staff_client, "recife") == []
    # Moved to another contact: both are refreshed.
    staff_client.post(change, {"contact": rui.pk, "name": "Cidade", "value": "Salvador"})
    assert search(staff_client, "salvador") == ["Rui"]
    staff_client.post(reverse("admin:contacts_customfield_delete", args=[field.pk]), {"post": "yes"})
    assert search(staff_client, "salvador") == []
    other = CustomField.objects.create(contact=rui, name="Plano", value="Empresarial")
    contacts_refresh_search(contacts=[rui])
    staff_client.post(
        reverse("admin:contacts_customfield_changelist"),
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert search(staff_client, "empresarial") == []


# The service and the migration


def test_refreshing_writes_only_the_contacts_whose_search_changed():
    contacts = [ContactFactory(name=f"Contact {n}") for n in range(5)]
    for contact in contacts[1:4]:
        CustomField.objects.create(contact=contact, name="Cidade", value="Recife")
    refreshed = contacts_refresh_search(contacts=Contact.objects.order_by("-pk"), batch_size=2)
    assert refreshed == 3
    assert sorted(c.pk for c in Contact.objects.search("recife")) == [c.pk for c in contacts[1:4]]
    assert contacts_refresh_search(contacts=Contact.objects.all(), batch_size=2) == 0


def test_the_migration_adds_the_values_of_existing_extra_fields_and_going_back_drops_them(admin_client):
    migration = importlib.import_module("contacts.migrations.0007_search_extra_field_values")
    tania = ContactFactory(name="Tânia", email="tania@exemplo.com")
    ContactFactory(name="Rui")
    for value in ("Recife", "Plano Básico"):
        CustomField.objects.create(contact=tania, name=value[:5], value=value)
    before = Contact.objects.get(pk=tania.pk).search_text  # as stored before 0007
    migration.add_extra_values(apps, None)
    assert Contact.objects.get(pk=tania.pk).search_text == f"{before} | recife | plano basico"
    assert search(admin_client, "recife basico") == ["Tânia"]
    migration.drop_extra_values(apps, None)
    assert Contact.objects.get(pk=tania.pk).search_text == before


@pytest.mark.parametrize("query", ["9822472", "982.247", "2247-25", "3330001", "ABC34", "bc345"])
def test_digits_from_the_middle_of_a_cpf_or_cnpj_find_it(admin_client, query):
    ContactFactory(name="Pessoa", cpf_cnpj="529.982.247-25", number="5511987650001")
    ContactFactory(name="Empresa", cpf_cnpj="11.222.333/0001-81", number="5511987650002")
    ContactFactory(name="Empresa Nova", cpf_cnpj="12.ABC.345/01DE-35", number="5511987650003")
    ContactFactory(name="Outro", cpf_cnpj="", number="5511987650004")
    expected = {
        "9822472": ["Pessoa"], "982.247": ["Pessoa"], "2247-25": ["Pessoa"],
        "3330001": ["Empresa"], "ABC34": ["Empresa Nova"], "bc345": ["Empresa Nova"],
    }
    assert search(admin_client, query) == expected[query]


def test_a_changed_cpf_is_found_by_its_new_digits_only(admin_client):
    contact = ContactFactory(name="Pessoa", cpf_cnpj="529.982.247-25")
    contact.cpf_cnpj = "111.444.777-35"
    contact.save()
    assert search(admin_client, "4447") == ["Pessoa"]
    assert search(admin_client, "98224") == []


def test_contacts_saved_before_get_their_cpf_digits_searchable_by_the_migration(admin_client):
    contact = ContactFactory(name="Pessoa", cpf_cnpj="529.982.247-25", email="p@exemplo.com")
    Contact.objects.filter(pk=contact.pk).update(search_text="pessoa | p@exemplo.com")  # as stored before
    migration = importlib.import_module("contacts.migrations.0016_cpf_cnpj_in_search_text")

    migration.add_documents(apps, None)

    contact.refresh_from_db()
    before = contact.search_text
    contact.save()
    assert Contact.objects.get(pk=contact.pk).search_text == before == "pessoa | p@exemplo.com | 52998224725"
    assert search(admin_client, "9822") == ["Pessoa"]


def test_a_search_by_digits_from_a_cpfs_middle_reads_the_trigram_indexes(db):
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    ContactFactory(name="Tânia", cpf_cnpj="529.982.247-25")
    queryset = Contact.objects.search("9822472").order_by().values("pk")
    assert queryset.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "contact_search_text_trgm" in plan
    assert "Seq Scan" not in plan


def test_the_imports_plain_rows_get_the_same_search_columns_as_a_saved_contact(db):
    from contacts.transfer.planning import PlainContact

    row = PlainContact(name="+55 11 98765-4321", cpf_cnpj="529.982.247-25")
    row.refresh_search_fields([])
    saved = ContactFactory(name="+55 11 98765-4321", cpf_cnpj="529.982.247-25", email="")

    assert (row.name_key, row.search_text) == (saved.name_key, saved.search_text)
    assert row.name_key.startswith("~") and row.search_text.endswith("52998224725")
