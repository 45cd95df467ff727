"""Merges under concurrency, on PostgreSQL where locks are real: two
merges over overlapping groups, a merge during an inbound message, a merge
during an import. No deadlock reaches anyone, nothing points at a contact
that is gone, and the end is as if they ran one after the other."""

import threading
import time

import pytest
from django.utils import timezone

from dedup.merging import contacts_merge
from contacts.models import Contact, CustomField
from contacts.tests.factories import stored_contact
from contacts_portal.tests.concurrency import POSTGRES_LOCKS, run_threads
from tickets import merging, services
from tickets.inbound import Inbound
from tickets.models import Channel, Message, Ticket

pytestmark = POSTGRES_LOCKS




def test_two_merges_over_overlapping_groups_end_as_one_contact_with_everything():
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp")
    for _round in range(5):
        Contact.objects.all().delete()
        a = stored_contact(9, email="x@example.com")
        b = stored_contact(5, email="x@example.com", cpf_cnpj="529.982.247-25")
        c = stored_contact(1, cpf_cnpj="52998224725", number="5511987654321")
        CustomField.objects.create(contact=b, name="Cidade", value="Recife")
        CustomField.objects.create(contact=c, name="Cidade", value="Olinda")
        for n, owner in enumerate((a, b, c)):
            ticket = Ticket.objects.create(contact=owner, channel=channel, status="closed")
            Message.objects.create(channel=channel, external_id=f"{_round}-{n}", chat_id="x", sent_at=timezone.now(), ticket=ticket, contact=owner)
        barrier = threading.Barrier(2)

        def merge(group):
            barrier.wait()
            contacts_merge(groups=[group])

        assert run_threads(lambda: merge([a.pk, b.pk]), lambda: merge([b.pk, c.pk])) == []
        assert list(Contact.objects.values_list("pk", flat=True)) == [a.pk]
        assert Ticket.objects.filter(contact=a).count() == 3
        assert Message.objects.filter(contact=a).count() == 3
        assert sorted(CustomField.objects.filter(contact=a).values_list("value", flat=True)) == ["Olinda", "Recife"]
        Message.objects.all().delete()
        Ticket.objects.all().delete()


def test_a_message_for_the_merged_contact_during_the_merge_reaches_the_survivor(monkeypatch):
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp")
    survivor = stored_contact(9, email="x@example.com", number="5511987654321")
    merged = stored_contact(1, email="x@example.com", number="5521999998888")
    locked, delivered = threading.Event(), threading.Event()
    real = merging.move_conversations

    def move_and_wait(**kwargs):
        # The merge holds its locks here while the message arrives.
        result = real(**kwargs)
        locked.set()
        delivered.wait(timeout=2)
        return result

    monkeypatch.setattr(merging, "move_conversations", move_and_wait)

    def merge():
        contacts_merge(groups=[[survivor.pk, merged.pk]])

    def receive():
        locked.wait(timeout=10)
        threading.Timer(0.5, delivered.set).start()  # the insert waits on the merge's lock meanwhile
        inbound = Inbound(
            external_id="late-1", chat_id="5521999998888@s.whatsapp.net", chat_identity="5521999998888",
            sender_id="5521999998888", sender_name="Outro", is_group=False, group_name="", from_me=False,
            kind="text", body="olá", sent_at=timezone.now(),
        )
        services.message_receive(channel=channel, inbound=inbound)

    assert run_threads(merge, receive) == []
    message = Message.objects.get(external_id="late-1")
    assert message.contact_id == survivor.pk
    assert message.ticket.contact_id == survivor.pk
    assert not Contact.objects.filter(pk=merged.pk).exists()


@pytest.mark.parametrize("merge_first", [True, False])
def test_a_merge_and_an_import_of_the_same_contacts_lose_nothing(monkeypatch, merge_first):
    """The import plans, then the merge runs (or holds its locks) before
    the import writes: either way the file's company reaches the survivor."""
    import io

    from contacts.transfer import writing
    from contacts.transfer.importing import import_file
    from contacts.transfer.reading import read_table

    survivor = stored_contact(9, email="x@example.com", number="5511987654321")
    merged = stored_contact(1, email="x@example.com", number="5521999998888")
    csv = "Nome;Telefone;Empresa\r\nOutro;5521999998888;ACME\r\nNova;5531988887777;Beta\r\n".encode()
    planned, merged_done = threading.Event(), threading.Event()
    real_write = writing.PlanWriter.write

    def write(self):
        # The first plan is made before the merge: the import then writes
        # after the merge committed, or while it holds its locks.
        if not planned.is_set():
            planned.set()
            if merge_first:
                merged_done.wait(timeout=10)
            else:
                time.sleep(0.3)
        return real_write(self)

    monkeypatch.setattr(writing.PlanWriter, "write", write)

    def merge():
        planned.wait(timeout=10)
        contacts_merge(groups=[[survivor.pk, merged.pk]])
        merged_done.set()

    def run_import():
        import_file(read=lambda: read_table(io.BytesIO(csv)))

    assert run_threads(merge, run_import) == []
    # Whichever ran first, the company reached the survivor (directly, or
    # through the merged contact that the merge then folded in) and the
    # new row is there once.
    assert Contact.objects.filter(number="5531988887777").count() == 1
    kept = Contact.objects.get(pk=survivor.pk)
    assert kept.company == "ACME"
    assert not Contact.objects.filter(pk=merged.pk).exists()


def test_a_sync_beside_a_merge_links_every_message_to_the_survivor_and_creates_nobody_again():
    from tickets.sync import sync_contacts

    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp")
    for _round in range(3):
        Message.objects.all().delete()
        Ticket.objects.all().delete()
        Contact.objects.all().delete()
        survivor = stored_contact(9, email="x@example.com", number="5511987654321")
        merged = stored_contact(1, email="x@example.com", number="5521999998888")
        for n in range(50):
            Message.objects.create(
                channel=channel, external_id=f"{_round}-{n}", chat_id="5521999998888@s.whatsapp.net",
                chat_identity="5521999998888", sender_name="Outro", body="oi", sent_at=timezone.now(),
            )
        barrier = threading.Barrier(2)

        def merge():
            barrier.wait()
            contacts_merge(groups=[[survivor.pk, merged.pk]])

        def sync():
            barrier.wait()
            sync_contacts()

        assert run_threads(merge, sync) == []
        assert list(Contact.objects.values_list("pk", flat=True)) == [survivor.pk]
        assert Message.objects.filter(contact=survivor).count() == 50
        assert not Message.objects.filter(contact__isnull=True).exists()
        assert Ticket.objects.filter(contact=survivor).exclude(status="closed").count() <= 1
