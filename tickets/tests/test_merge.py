"""Remover duplicados and conversations: tickets and messages move to the
survivor, none is left behind, and later messages find it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dedup.finding import find_duplicates
from dedup.merging import contacts_merge
from contacts.models import Contact, MergedContact
from contacts.tests.factories import stored_contact
from tickets.models import Message, Ticket

from .test_webhook_whatsapp import deliver

pytestmark = pytest.mark.django_db




def ticket(contact, channel, status="open", minutes_ago=0, messages=1) -> Ticket:
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    made = Ticket.objects.create(contact=contact, channel=channel, status=status, updated_at=moment, closed_at=moment if status == "closed" else None)
    for n in range(messages):
        Message.objects.create(
            channel=channel,
            external_id=f"{made.pk}-{n}",
            chat_id=f"{contact.number}@s.whatsapp.net",
            chat_identity=contact.number,
            body=f"message {n} of ticket {made.pk}",
            sent_at=moment,
            ticket=made,
            contact=contact,
        )
    return made


def merge_all():
    found = find_duplicates()
    return found, contacts_merge(groups=[g.contact_ids for g in found], rules=[g.rules for g in found])


def test_the_preview_counts_the_tickets_and_messages_that_would_move(whatsapp):
    survivor = stored_contact(5, email="a@example.com")
    other = stored_contact(1, email="a@example.com", number="5511987654321")
    ticket(other, whatsapp, status="closed", messages=3)
    ticket(other, whatsapp, messages=2)
    ticket(survivor, whatsapp, messages=4)
    [group] = find_duplicates()
    assert (group.tickets, group.messages) == (2, 5)
    assert Ticket.objects.filter(contact=other).count() == 2  # nothing moved yet


def test_a_survivor_with_no_tickets_receives_every_ticket_and_message(whatsapp):
    survivor = stored_contact(5, email="a@example.com")
    other = stored_contact(1, email="a@example.com", number="5511987654321")
    closed = ticket(other, whatsapp, status="closed", messages=3)
    open_ = ticket(other, whatsapp, messages=2)
    _found, result = merge_all()
    assert (result.tickets, result.messages) == (2, 5)
    assert set(Ticket.objects.filter(contact=survivor)) == {closed, open_}
    assert Message.objects.filter(contact=survivor).count() == 5
    assert not Message.objects.filter(contact__isnull=True).exists()
    assert MergedContact.objects.get().snapshot["tickets"] == sorted([closed.pk, open_.pk])
    assert MergedContact.objects.get().snapshot["messages"] == 5


def test_two_open_tickets_on_one_channel_end_as_one_open_ticket_with_every_message(whatsapp, telegram):
    survivor = stored_contact(5, email="a@example.com", number="5511987654321")
    other = stored_contact(1, email="A@example.com", number="5521999998888")
    kept = ticket(survivor, whatsapp, minutes_ago=30, messages=2)
    closing = ticket(other, whatsapp, minutes_ago=1, messages=3)
    elsewhere = ticket(other, telegram, messages=1)
    merge_all()
    kept.refresh_from_db()
    closing.refresh_from_db()
    elsewhere.refresh_from_db()
    assert kept.status == "open" and kept.contact == survivor
    assert kept.messages.count() == 5
    assert closing.status == "closed" and closing.merged_into == kept and closing.contact == survivor
    assert elsewhere.status == "open" and elsewhere.contact == survivor
    assert Message.objects.count() == 6


def test_the_others_open_ticket_stays_open_when_the_survivor_has_none_on_that_channel(whatsapp):
    survivor = stored_contact(5, email="a@example.com")
    other = stored_contact(1, email="a@example.com", number="5511987654321")
    older = ticket(survivor, whatsapp, status="closed")
    open_ = ticket(other, whatsapp)
    merge_all()
    open_.refresh_from_db()
    older.refresh_from_db()
    assert (open_.status, open_.contact) == ("open", survivor)
    assert older.status == "closed" and older.merged_into is None


def test_a_message_that_arrives_later_for_a_merged_number_reaches_the_survivor(client, whatsapp):
    survivor = stored_contact(5, email="a@example.com", number="5511987654321")
    stored_contact(1, email="a@example.com", number="5521999998888")
    merge_all()
    deliver(client, whatsapp, remote_jid="5521999998888@s.whatsapp.net", text="Sou eu, do outro número")
    message = Message.objects.get(body="Sou eu, do outro número")
    assert message.contact == survivor
    assert message.ticket.contact == survivor


def test_a_whatsapp_lid_linked_to_a_number_by_the_conversations_is_the_same_person(client, whatsapp):
    survivor = stored_contact(5, number="5511987654321")
    lid = stored_contact(1, number="123456789012345")
    deliver(client, whatsapp, remote_jid="123456789012345@lid", remoteJidAlt="5511987654321@s.whatsapp.net", text="oi")
    [group] = find_duplicates()
    assert group.contact_ids == [survivor.pk, lid.pk]
    assert group.rules == ["number"]


def test_sync_does_not_recreate_a_contact_merged_away(whatsapp):
    from tickets.sync import sync_contacts

    survivor = stored_contact(5, email="a@example.com", number="5511987654321")
    stored_contact(1, email="a@example.com", number="5521999998888")
    merge_all()
    Message.objects.create(
        channel=whatsapp, external_id="late", chat_id="5521999998888@s.whatsapp.net", chat_identity="5521999998888",
        sender_name="Outro", body="oi", sent_at=timezone.now(),
    )
    sync_contacts()
    assert Contact.objects.count() == 1
    assert Message.objects.get(external_id="late").contact == survivor


def test_the_ticket_closed_by_a_merge_says_where_its_messages_went(client, admin_user, whatsapp):
    survivor = stored_contact(5, email="a@example.com", number="5511987654321")
    other = stored_contact(1, email="A@example.com", number="5521999998888")
    kept = ticket(survivor, whatsapp, minutes_ago=30)
    closing = ticket(other, whatsapp, minutes_ago=1)
    merge_all()
    client.force_login(admin_user)
    page = client.get(f"/tickets/{closing.pk}/").content.decode()
    assert f'href="/tickets/{kept.pk}/"' in page
    assert "mesclados" in page


def test_the_kept_ticket_is_placed_by_the_newest_message_it_received(whatsapp):
    survivor = stored_contact(5, email="a@example.com", number="5511987654321")
    other = stored_contact(1, email="A@example.com", number="5521999998888")
    kept = ticket(survivor, whatsapp, minutes_ago=30)
    Ticket.objects.filter(pk=kept.pk).update(last_message_at=timezone.now() - timedelta(minutes=30))
    closing = ticket(other, whatsapp, minutes_ago=1)
    merge_all()
    kept.refresh_from_db()
    assert kept.last_message_at == Message.objects.get(external_id=f"{closing.pk}-0").sent_at
