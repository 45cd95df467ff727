"""Undoing a merge of duplicates: `manage.py unmerge MERGE_ID`."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.models import Contact, ContactIdentity, CustomField, MergedContact, MergeRecord, OptOut
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory, stored_contact
from dedup.merging import contacts_merge
from tickets.models import Channel, Message, Ticket

pytestmark = pytest.mark.django_db

NUMBER = "5511987654321"


def message(channel, contact, ticket, text):
    return Message.objects.create(
        channel=channel, external_id=f"m-{Message.objects.count()}", chat_id=f"{NUMBER}@s.whatsapp.net",
        contact=contact, ticket=ticket, body=text, sent_at=timezone.now(),
    )


@pytest.fixture
def merged():
    """Ana (kept) and Ana Paula (merged into her), with everything a
    contact can bring to a merge."""
    tag = TagFactory(name="Cliente")
    wallet = WalletFactory()
    survivor = stored_contact(5, name="Ana", email="ana@example.com")
    other = stored_contact(1, name="Ana Paula", email="ana@example.com", company="ACME", number=NUMBER, tags=[tag], wallet=wallet)
    CustomField.objects.create(contact=other, name="Cidade", value="Natal")
    ContactIdentity.objects.create(contact=other, kind=ContactIdentity.Kind.LID, value="123456789012345")
    channel = Channel.objects.create(kind="whatsapp", name="Vendas", webhook_secret="s")
    ticket = Ticket.objects.create(contact=other, channel=channel)
    first = message(channel, other, ticket, "Olá")
    OptOut.objects.create(contact=other, channel_id=channel.pk, channel_name="Vendas", evidence="SAIR", asked_at=timezone.now())
    with recording(source=Source.MERGE):
        contacts_merge(groups=[[survivor.pk, other.pk]])
    return {"survivor": survivor, "other": other, "tag": tag, "wallet": wallet, "channel": channel, "ticket": ticket, "first": first}


def test_unmerge_brings_the_contact_back_with_its_id_fields_tags_extra_fields_identities_tickets_and_messages(merged):
    survivor, other, channel, ticket = merged["survivor"], merged["other"], merged["channel"], merged["ticket"]
    survivor.refresh_from_db()
    assert survivor.number == NUMBER and survivor.company == "ACME"
    later = message(channel, survivor, ticket, "Chegou depois da mesclagem")
    record = MergeRecord.objects.get()

    call_command("unmerge", str(record.pk))

    back = Contact.objects.get(pk=other.pk)
    assert (back.name, back.number, back.company, back.wallet) == ("Ana Paula", NUMBER, "ACME", merged["wallet"])
    assert list(back.tags.all()) == [merged["tag"]]
    assert dict(back.custom_fields.values_list("name", "value")) == {"Cidade": "Natal"}
    assert back.identities.filter(kind="lid", value="123456789012345").exists()
    assert OptOut.objects.get().contact == back
    assert Ticket.objects.get(pk=ticket.pk).contact == back
    assert Message.objects.get(pk=merged["first"].pk).contact == back
    # What arrived after the merge stays with the survivor, in a ticket of its own.
    later.refresh_from_db()
    assert later.contact == survivor and later.ticket.contact == survivor
    # The blanks the survivor filled from it are blank again.
    survivor.refresh_from_db()
    assert (survivor.number, survivor.company, survivor.wallet) == ("", "", None)
    assert not CustomField.objects.filter(contact=survivor).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.UNMERGE)
    assert event.parameters["contacts"] == [other.pk]
    assert back.history.filter(history_change_reason=f"unmerge:{record.pk}").exists()
    assert Contact.objects.search("natal").get() == back


def test_a_blank_the_survivor_filled_and_then_changed_keeps_the_change(merged):
    survivor = merged["survivor"]
    Contact.objects.filter(pk=survivor.pk).update(company="Outra")
    call_command("unmerge", str(MergeRecord.objects.get().pk))
    survivor.refresh_from_db()
    assert survivor.company == "Outra"


def test_when_another_contact_took_the_number_the_undo_says_so_and_changes_nothing(merged):
    survivor = merged["survivor"]
    Contact.objects.filter(pk=survivor.pk).update(number="")
    ContactFactory(name="Intrusa", number=NUMBER)
    with pytest.raises(CommandError, match="Intrusa"):
        call_command("unmerge", str(MergeRecord.objects.get().pk))
    assert not Contact.objects.filter(pk=merged["other"].pk).exists()
    assert Ticket.objects.get(pk=merged["ticket"].pk).contact == survivor
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UNMERGE).exists()


def test_a_merge_older_than_the_undo_window_or_undone_already_is_refused(merged, settings):
    record = MergeRecord.objects.get()
    call_command("unmerge", str(record.pk))
    with pytest.raises(CommandError, match="already|já"):
        call_command("unmerge", str(record.pk))
    MergeRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=31), undone_at=None)
    Contact.objects.filter(pk=merged["other"].pk).delete()
    with pytest.raises(CommandError, match="30"):
        call_command("unmerge", str(record.pk))


def test_a_merge_recorded_before_snapshots_kept_what_an_undo_needs_is_refused(merged):
    merged_row = MergedContact.objects.get()
    merged_row.snapshot.pop("message_ids")
    merged_row.save()
    with pytest.raises(CommandError, match="before|antes"):
        call_command("unmerge", str(MergeRecord.objects.get().pk))


def test_unmerge_of_an_unknown_merge_says_so():
    with pytest.raises(CommandError, match="No merge"):
        call_command("unmerge", "999")


def test_an_administrator_undoes_a_merge_from_the_survivors_history(client, admin_user, merged):
    from django.urls import reverse

    survivor, record = merged["survivor"], MergeRecord.objects.get()
    client.force_login(admin_user)
    history = client.get(reverse("contacts:history", args=[survivor.pk]))
    assert reverse("contacts:unmerge", args=[record.pk]) in history.content.decode()
    response = client.post(reverse("contacts:unmerge", args=[record.pk]))
    assert response.status_code == 302 and response.url == reverse("contacts:history", args=[survivor.pk])
    assert Contact.objects.filter(pk=merged["other"].pk).exists()
    assert AuditEvent.objects.get(action=AuditEvent.Action.UNMERGE).user == admin_user
    # Undone: the history no longer offers it.
    assert reverse("contacts:unmerge", args=[record.pk]) not in client.get(reverse("contacts:history", args=[survivor.pk])).content.decode()


def test_a_ticket_the_merge_closed_into_the_survivors_opens_again_with_its_messages():
    survivor = stored_contact(5, name="Bia", email="bia@example.com")
    other = stored_contact(1, name="Beatriz", email="bia@example.com", number=NUMBER)
    channel = Channel.objects.create(kind="whatsapp", name="Vendas", webhook_secret="s")
    own = Ticket.objects.create(contact=survivor, channel=channel)
    theirs = Ticket.objects.create(contact=other, channel=channel, updated_at=timezone.now() - timedelta(days=1))
    mine, their_message = message(channel, survivor, own, "da Bia"), message(channel, other, theirs, "da Beatriz")
    with recording(source=Source.MERGE):
        contacts_merge(groups=[[survivor.pk, other.pk]])
    assert Ticket.objects.get(pk=theirs.pk).merged_into_id == own.pk

    call_command("unmerge", str(MergeRecord.objects.get().pk))

    theirs.refresh_from_db()
    assert (theirs.contact_id, theirs.is_closed, theirs.merged_into_id) == (other.pk, False, None)
    assert list(theirs.messages.all()) == [their_message]
    assert list(Ticket.objects.get(pk=own.pk).messages.all()) == [mine]


LID = "123456789012345"


def test_an_undo_of_a_merge_made_when_a_lid_was_revealed_as_a_known_number_gives_the_lid_contact_back(client):
    import json

    from django.urls import reverse

    from tickets.tests import payloads
    from tickets.tests.conftest import WHATSAPP_SECRET

    channel = Channel.objects.create(kind="whatsapp", name="Vendas", webhook_secret=WHATSAPP_SECRET)

    def deliver(body):
        response = client.post(reverse("tickets:webhook", args=[channel.pk]), json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content

    known = stored_contact(5, name="Maria Souza", number=NUMBER)
    deliver(payloads.upsert(WHATSAPP_SECRET, remote_jid=f"{LID}@lid", push_name="Bia", text="pelo LID"))
    lid_contact = Contact.objects.exclude(pk=known.pk).get()
    ticket = Ticket.objects.get()
    first = Message.objects.get()
    # The gateway reveals that the LID is the known number: one contact.
    deliver(payloads.evolution("contacts.upsert", [{"remoteJid": f"{LID}@lid", "phoneNumber": f"{NUMBER}@s.whatsapp.net"}], apikey=WHATSAPP_SECRET))
    assert list(Contact.objects.all()) == [known]
    record = MergeRecord.objects.get()
    assert record.rules == ["lid"]

    call_command("unmerge", str(record.pk))

    back = Contact.objects.get(pk=lid_contact.pk)
    assert (back.name, back.number) == ("Bia", "")
    lid = ContactIdentity.objects.get(kind="lid", value=LID)
    assert lid.contact == back
    assert Ticket.objects.get(pk=ticket.pk).contact == back
    assert Message.objects.get(pk=first.pk).contact == back
    known.refresh_from_db()
    assert known.number == NUMBER
    assert not known.identities.filter(kind="lid").exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.UNMERGE)
    assert event.parameters["contacts"] == [lid_contact.pk]
    # A message by the LID alone reaches the contact the undo brought back.
    deliver(payloads.upsert(WHATSAPP_SECRET, remote_jid=f"{LID}@lid", push_name="Bia", text="de novo pelo LID"))
    latest = Message.objects.get(body="de novo pelo LID")
    assert latest.contact == back and latest.ticket.contact == back
