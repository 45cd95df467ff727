"""Undoing a merge while the desk is at work, on PostgreSQL where locks
are real: a message for the merged contact arriving during the undo, two
undos of one merge at once, a number taken while the undo runs. Nothing
is lost or stored twice, every message sits in a ticket of its own
contact, and a refused undo changes nothing."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.models import Contact, ContactIdentity, MergeRecord
from contacts.tests.factories import ContactFactory, stored_contact
from contacts_portal.tests.concurrency import POSTGRES_LOCKS, run_threads
from dedup.merging import contacts_merge, undo
from tickets import services
from tickets.inbound import Inbound
from tickets.models import Channel, Message, Ticket

pytestmark = POSTGRES_LOCKS

NUMBER = "5521999998888"


def inbound(external_id: str, text: str = "olá") -> Inbound:
    return Inbound(
        external_id=external_id, chat_id=f"{NUMBER}@s.whatsapp.net", chat_identity=NUMBER, sender_id=NUMBER,
        sender_name="Ana Paula", is_group=False, group_name="", from_me=False, kind="text", body=text, sent_at=timezone.now(),
    )


@pytest.fixture
def merged():
    """Ana (kept) and Ana Paula, merged into her with her number, ticket and message."""
    channel = Channel.objects.create(kind="whatsapp", name="Vendas")
    survivor = stored_contact(5, name="Ana", email="ana@example.com")
    other = stored_contact(1, name="Ana Paula", email="ana@example.com", number=NUMBER)
    ticket = Ticket.objects.create(contact=other, channel=channel)
    Message.objects.create(
        channel=channel, external_id="before", chat_id=f"{NUMBER}@s.whatsapp.net", chat_identity=NUMBER,
        contact=other, ticket=ticket, body="antes da mesclagem", sent_at=timezone.now(),
    )
    with recording(source=Source.MERGE):
        contacts_merge(groups=[[survivor.pk, other.pk]])
    assert Contact.objects.get(pk=survivor.pk).number == NUMBER
    return {"channel": channel, "survivor": survivor, "other": other, "ticket": ticket, "record": MergeRecord.objects.get()}


def assert_each_message_in_a_ticket_of_its_own_contact():
    for message in Message.objects.select_related("ticket"):
        assert message.ticket is not None and message.ticket.contact_id == message.contact_id, (
            message.external_id, message.contact_id, message.ticket.contact_id if message.ticket else None
        )


@pytest.mark.parametrize("pause_in", ["_empty_fills", "_give_back"])
def test_a_message_arriving_during_the_undo_is_stored_once_in_a_ticket_of_the_contact_it_names(monkeypatch, merged, pause_in):
    """The undo holds its locks at `pause_in` (before it gives anything
    back, or after) while the message is read and stored."""
    paused, delivered = threading.Event(), threading.Event()
    real = getattr(undo, pause_in)

    def pausing(*args, **kwargs):
        if pause_in == "_empty_fills":
            paused.set()
            delivered.wait(timeout=3)
        result = real(*args, **kwargs)
        if pause_in == "_give_back":
            paused.set()
            delivered.wait(timeout=3)
        return result

    monkeypatch.setattr(undo, pause_in, pausing)

    def unmerge():
        with recording(source=Source.COMMAND):
            undo.merge_undo(record=merged["record"])

    def receive():
        paused.wait(timeout=10)
        # The message is read while the undo is under way; its insert may
        # wait on the undo's locks meanwhile.
        threading.Timer(0.5, delivered.set).start()
        services.message_receive(channel=merged["channel"], inbound=inbound("during"))

    assert run_threads(unmerge, receive) == []
    assert Contact.objects.filter(pk=merged["other"].pk).exists()
    assert Message.objects.count() == 2
    during = Message.objects.get(external_id="during")
    assert during.contact_id in (merged["survivor"].pk, merged["other"].pk)
    assert Message.objects.get(external_id="before").contact_id == merged["other"].pk
    assert_each_message_in_a_ticket_of_its_own_contact()
    # And the next message from the number reaches the contact it belongs to again.
    services.message_receive(channel=merged["channel"], inbound=inbound("after"))
    after = Message.objects.get(external_id="after")
    assert after.contact_id == merged["other"].pk and after.ticket.contact_id == merged["other"].pk


def test_messages_arriving_all_through_an_undo_are_each_stored_once_and_consistently(merged):
    stop = threading.Event()
    sent = []

    def unmerge():
        try:
            with recording(source=Source.COMMAND):
                undo.merge_undo(record=merged["record"])
        finally:
            stop.set()

    def receive():
        n = 0
        while not stop.is_set() or n < 5:
            services.message_receive(channel=merged["channel"], inbound=inbound(f"burst-{n}"))
            sent.append(n)
            n += 1

    assert run_threads(receive, unmerge) == []
    assert Message.objects.filter(external_id__startswith="burst-").count() == len(sent)
    assert_each_message_in_a_ticket_of_its_own_contact()
    assert Ticket.objects.active().filter(contact=merged["other"].pk, channel=merged["channel"]).count() <= 1
    assert Ticket.objects.active().filter(contact=merged["survivor"].pk, channel=merged["channel"]).count() <= 1


def test_two_undos_of_one_merge_at_once_undo_it_once_and_the_other_says_it_is_undone_already(merged):
    barrier, done = threading.Barrier(2), []

    def unmerge():
        barrier.wait()
        call_command("unmerge", str(merged["record"].pk))
        done.append(1)

    errors = run_threads(unmerge, unmerge)

    assert len(done) == 1 and len(errors) == 1
    assert isinstance(errors[0], CommandError) and ("already" in str(errors[0]) or "já" in str(errors[0]))
    assert Contact.objects.filter(pk=merged["other"].pk).count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UNMERGE).count() == 1
    assert Ticket.objects.get(pk=merged["ticket"].pk).contact_id == merged["other"].pk
    assert Message.objects.get().contact_id == merged["other"].pk
    assert Contact.objects.get(pk=merged["other"].pk).history.filter(history_change_reason=f"unmerge:{merged['record'].pk}").count() == 1


def test_a_number_taken_while_the_undo_runs_refuses_it_saying_so_and_nothing_changes(monkeypatch, merged):
    survivor, other = merged["survivor"], merged["other"]
    # The survivor moved to another number since: the merged one is free again.
    Contact.objects.filter(pk=survivor.pk).update(number="5511977776666")
    checked, taken = threading.Event(), threading.Event()
    real = undo._refuse_conflicts

    def check_then_wait(*args, **kwargs):
        real(*args, **kwargs)
        checked.set()
        taken.wait(timeout=5)

    monkeypatch.setattr(undo, "_refuse_conflicts", check_then_wait)

    def unmerge():
        call_command("unmerge", str(merged["record"].pk))

    def take_the_number():
        checked.wait(timeout=10)
        ContactFactory(name="Intrusa", number=NUMBER)
        taken.set()

    errors = run_threads(unmerge, take_the_number)

    assert len(errors) == 1 and isinstance(errors[0], CommandError), errors
    assert "Intrusa" in str(errors[0])
    assert not Contact.objects.filter(pk=other.pk).exists()
    assert Ticket.objects.get(pk=merged["ticket"].pk).contact_id == survivor.pk
    assert Message.objects.get().contact_id == survivor.pk
    assert MergeRecord.objects.get().undone_at is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UNMERGE).exists()


def test_when_another_contact_took_the_number_the_undo_says_so_and_changes_nothing(merged):
    survivor, other = merged["survivor"], merged["other"]
    Contact.objects.filter(pk=survivor.pk).update(number="")
    intruder = ContactFactory(name="Intrusa", number=NUMBER)
    before = {
        "contacts": sorted(Contact.objects.values_list("pk", "name", "number", "email")),
        "tickets": sorted(Ticket.objects.values_list("pk", "contact_id", "status")),
        "messages": sorted(Message.objects.values_list("pk", "contact_id", "ticket_id")),
        "identities": sorted(ContactIdentity.objects.values_list("pk", "contact_id", "kind", "value")),
        "history": Contact.history.count(),
    }

    with pytest.raises(CommandError, match=f"Intrusa.*#{intruder.pk}"):
        call_command("unmerge", str(merged["record"].pk))

    assert before == {
        "contacts": sorted(Contact.objects.values_list("pk", "name", "number", "email")),
        "tickets": sorted(Ticket.objects.values_list("pk", "contact_id", "status")),
        "messages": sorted(Message.objects.values_list("pk", "contact_id", "ticket_id")),
        "identities": sorted(ContactIdentity.objects.values_list("pk", "contact_id", "kind", "value")),
        "history": Contact.history.count(),
    }
    assert MergeRecord.objects.get().undone_at is None
    assert not Contact.objects.filter(pk=other.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UNMERGE).exists()
