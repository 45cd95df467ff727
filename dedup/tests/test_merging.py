"""Remover duplicados, the merge: what it keeps, moves and records."""

import pytest

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.history import contact_timeline
from contacts.models import Contact, ContactIdentity, CustomField, MergedContact, MergeRecord
from contacts.tests.factories import TagFactory, WalletFactory, stored_contact
from dedup.finding import find_duplicates
from dedup.merging import contacts_merge

pytestmark = pytest.mark.django_db


def merge_all(**kwargs):
    found = find_duplicates()
    return contacts_merge(groups=[g.contact_ids for g in found], rules=[g.rules for g in found], **kwargs)


def test_a_merge_keeps_the_survivors_values_and_fills_its_blanks_oldest_first():
    wallet = WalletFactory()
    survivor = stored_contact(5, name="Maria Silva", email="maria@example.com", company="")
    middle = stored_contact(3, name="Maria S.", email="MARIA@example.com", company="Padaria X", first_name="Maria", wallet=wallet)
    newest = stored_contact(1, name="M", email="maria@example.com", company="Mercado Y", last_name="Silva", telegram_id="777")
    result = merge_all()
    assert result.groups == 1 and result.contacts == 2
    survivor.refresh_from_db()
    assert survivor.name == "Maria Silva"
    assert survivor.company == "Padaria X"
    assert survivor.first_name == "Maria" and survivor.last_name == "Silva"
    assert survivor.telegram_id == "777"
    assert survivor.wallet == wallet
    assert not Contact.objects.filter(pk__in=[middle.pk, newest.pk]).exists()


def test_tags_are_united_and_extra_fields_kept_with_a_suffix_on_conflict():
    vip, late = TagFactory(name="VIP"), TagFactory(name="Atrasado")
    survivor = stored_contact(5, email="x@example.com", tags=[vip])
    other = stored_contact(1, email="x@example.com", tags=[vip, late])
    CustomField.objects.create(contact=survivor, name="Cidade", value="Recife")
    CustomField.objects.create(contact=survivor, name="Plano", value="")
    CustomField.objects.create(contact=other, name="cidade", value="Olinda")
    CustomField.objects.create(contact=other, name="Plano", value="Ouro")
    CustomField.objects.create(contact=other, name="Pedido", value="1234")
    CustomField.objects.create(contact=other, name="CIDADE (2)", value="x")
    merge_all()
    survivor.refresh_from_db()
    assert set(survivor.tags.values_list("name", flat=True)) == {"VIP", "Atrasado"}
    fields = dict(survivor.custom_fields.values_list("name", "value"))
    assert fields == {"Cidade": "Recife", "Plano": "Ouro", "cidade (3)": "Olinda", "Pedido": "1234", "CIDADE (2)": "x"}
    # The extra fields' values are searchable on the survivor.
    assert Contact.objects.search("olinda").get() == survivor


def test_a_merge_record_keeps_a_snapshot_of_every_merged_contact():
    tag = TagFactory(name="Cliente")
    survivor = stored_contact(5, name="Ana", email="ana@example.com")
    other = stored_contact(1, name="Ana Paula", email="ana@example.com", company="ACME", tags=[tag], birth_date="1990-05-17")
    CustomField.objects.create(contact=other, name="Cidade", value="Natal")
    merge_all()
    record = MergeRecord.objects.get()
    assert record.survivor == survivor and record.rules == ["email"]
    merged = MergedContact.objects.get()
    assert merged.contact_id == other.pk and merged.record == record
    snapshot = merged.snapshot
    assert snapshot["name"] == "Ana Paula" and snapshot["company"] == "ACME"
    assert snapshot["birth_date"] == "1990-05-17"
    assert snapshot["tags"] == ["Cliente"]
    assert snapshot["custom_fields"] == [["Cidade", "Natal"]]


def test_the_survivors_history_shows_the_merge_and_the_merged_contact_ends_by_it(admin_user):
    survivor = stored_contact(5, name="Ana", email="ana@example.com")
    other = stored_contact(1, name="Ana Paula", email="ana@example.com", company="ACME")
    with recording(source=Source.MERGE, user=admin_user):
        merge_all()
    [entry, *_] = contact_timeline(survivor.pk)
    assert entry.verb == "merged"
    assert "Ana Paula" in entry.sentence
    assert any("ACME" in line for line in entry.details)
    last = Contact.history.filter(id=other.pk).latest("history_date")
    assert last.history_type == "-" and last.history_source == Source.MERGE


def test_merging_twice_is_a_no_op_the_second_time():
    stored_contact(2, number="551187654321", email="a@example.com")
    stored_contact(1, number="5511987654321")
    stored_contact(0, email="A@example.com")
    first = merge_all()
    assert first.groups == 1 and first.contacts == 2
    assert find_duplicates() == []
    second = merge_all()
    assert second.groups == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REMOVE_DUPLICATES).count() == 1


def test_the_survivors_number_is_written_canonically_and_the_others_addresses_become_its_aliases():
    survivor = stored_contact(5, number="551187654321", telegram_id="")
    other = stored_contact(1, number="5511987654321", telegram_id="42")
    third = stored_contact(0, telegram_id="042", number="5521999998888", email="")
    # third is joined by Telegram id to other, which is joined by number.
    merge_all()
    survivor.refresh_from_db()
    assert survivor.number == "5511987654321"
    assert survivor.telegram_id == "42"
    assert list(ContactIdentity.objects.values_list("kind", "value", "contact")) == [("number", "5521999998888", survivor.pk)]
    assert not Contact.objects.filter(pk__in=[other.pk, third.pk]).exists()


def test_a_contact_created_later_with_a_merged_address_is_found_duplicate():
    survivor = stored_contact(5, number="5511987654321", email="a@example.com")
    stored_contact(1, number="5521999998888", email="a@example.com")
    merge_all()
    newcomer = stored_contact(0, number="5521999998888")
    assert [group.contact_ids for group in find_duplicates()] == [[survivor.pk, newcomer.pk]]


def test_groups_found_before_an_earlier_merge_follow_the_survivor():
    a = stored_contact(5, email="a@example.com")
    b = stored_contact(3, email="a@example.com", cpf_cnpj="529.982.247-25")
    c = stored_contact(1, cpf_cnpj="52998224725")
    contacts_merge(groups=[[a.pk, b.pk]])
    # A group found before that merge still names b: it is followed to a.
    result = contacts_merge(groups=[[b.pk, c.pk]])
    assert result.groups == 1
    assert list(Contact.objects.values_list("pk", flat=True)) == [a.pk]


def test_an_import_row_with_a_merged_number_updates_the_survivor():
    import io

    from contacts.transfer.importing import import_file
    from contacts.transfer.reading import read_table

    survivor = stored_contact(5, number="5511987654321", email="a@example.com")
    stored_contact(1, number="5521999998888", email="a@example.com")
    merge_all()
    csv = "Nome;Telefone;Empresa\r\nQualquer;5521999998888;ACME\r\n".encode()
    result = import_file(read=lambda: read_table(io.BytesIO(csv)))
    assert (result.created, result.updated) == (0, 1)
    assert Contact.objects.get().pk == survivor.pk
    assert Contact.objects.get().company == "ACME"
    assert Contact.objects.get().number == "5511987654321"  # its own number stays; the other is its alias


def test_a_survivor_that_takes_a_duplicates_birth_date_takes_its_birthday_too():
    from datetime import date

    survivor = stored_contact(5, email="ana@example.com")
    stored_contact(1, email="ana@example.com", birth_date=date(1990, 12, 25))
    merge_all()
    survivor.refresh_from_db()
    assert (survivor.birth_date, survivor.birthday_key) == (date(1990, 12, 25), 1225)


def test_a_merge_snapshot_keeps_what_an_undo_needs_to_put_the_contact_back():
    from django.utils import timezone

    from contacts.models import OptOut
    from tickets.models import Channel, Message, Ticket

    tag = TagFactory(name="Cliente")
    wallet = WalletFactory()
    survivor = stored_contact(5, name="Ana", email="ana@example.com")
    other = stored_contact(1, name="Ana Paula", email="ana@example.com", company="ACME", number="5511987654321", tags=[tag], wallet=wallet)
    extra = CustomField.objects.create(contact=other, name="Cidade", value="Natal")
    lid = ContactIdentity.objects.create(contact=other, kind=ContactIdentity.Kind.LID, value="123456789012345")
    channel = Channel.objects.create(kind="whatsapp", name="Vendas", webhook_secret="s")
    own = Ticket.objects.create(contact=survivor, channel=channel)
    theirs = Ticket.objects.create(contact=other, channel=channel)
    message = Message.objects.create(
        channel=channel, external_id="m1", chat_id="5511987654321@s.whatsapp.net", contact=other, ticket=theirs, body="SAIR", sent_at=timezone.now()
    )
    opt_out = OptOut.objects.create(contact=other, channel_id=channel.pk, channel_name="Vendas", evidence="SAIR", asked_at=timezone.now())

    merge_all()

    snapshot = MergedContact.objects.get().snapshot
    assert snapshot["tag_ids"] == [tag.pk]
    assert snapshot["wallet_id"] == wallet.pk
    assert snapshot["custom_field_ids"] == [extra.pk]
    assert snapshot["identity_ids"] == [lid.pk]
    assert snapshot["opt_out_ids"] == [opt_out.pk]
    assert snapshot["message_ids"] == [message.pk] and snapshot["messages"] == 1
    assert snapshot["tickets"] == [theirs.pk]
    assert {int(k): v for k, v in snapshot["closed_tickets"].items()} in ({theirs.pk: own.pk}, {own.pk: theirs.pk})
    assert snapshot["filled"] == {"number": "5511987654321", "company": "ACME", "wallet_id": wallet.pk}
