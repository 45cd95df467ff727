"""Gateways deliver at least once, and in parallel: the same message may
arrive several times at the same moment. The database decides, not a
look-up first.

On PostgreSQL the threads meet inside their transactions, right before the
insert, so each insert really races the others (and waits on the first
one's row lock). SQLite lets one writer in at a time, so there they meet
just before their transactions start.
"""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from contacts.models import Contact
from contacts_portal.tests.concurrency import run_threads
from tickets import services, webhooks
from tickets.models import Message, Ticket
from tickets.sync import sync_contacts

from . import payloads
from .conftest import TELEGRAM_SECRET, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 6


def meet_before_writing(monkeypatch, barrier):
    """Each thread waits for the others before its first write (a retry
    of a message that lost a race goes on alone)."""
    met = threading.local()

    def meet():
        if not getattr(met, "done", False):
            met.done = True
            barrier.wait()

    real_reveal = webhooks.pairs_reveal

    def pairs_reveal(**kwargs):
        meet()
        return real_reveal(**kwargs)

    monkeypatch.setattr(webhooks, "pairs_reveal", pairs_reveal)
    if connection.vendor == "postgresql":
        # A message's first write: the statement that reads its
        # conversation and stores it there, or the one that makes a new
        # sender a contact; else its ticket, when it opens one, else itself.
        for name in ("_join_conversation", "_first_message_at_once", "insert_once", "_open_ticket"):
            monkeypatch.setattr(services, name, _meeting_first(meet, getattr(services, name)))
    else:
        real = webhooks.message_receive

        def message_receive(**kwargs):
            meet()
            return real(**kwargs)

        monkeypatch.setattr(webhooks, "message_receive", message_receive)


def _meeting_first(meet, write):
    def meeting(*args, **kwargs):
        meet()
        return write(*args, **kwargs)

    return meeting


def post_at_once(channel, bodies, **headers):
    responses = []

    def post(body):
        url = reverse("tickets:webhook", args=[channel.pk])
        responses.append(Client().post(url, json.dumps(body), content_type="application/json", headers=headers))

    assert run_threads(*(lambda body=body: post(body) for body in bodies)) == []
    return responses


NEW_SENDER_DELIVERIES = 20


def test_the_same_first_message_delivered_20_times_at_once_makes_one_contact_one_ticket_one_message(whatsapp, monkeypatch):
    meet_before_writing(monkeypatch, threading.Barrier(NEW_SENDER_DELIVERIES, timeout=30))
    body = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0SAME0000000001", remote_jid="5511987654321@s.whatsapp.net")

    responses = post_at_once(whatsapp, [body] * NEW_SENDER_DELIVERIES)

    assert [r.status_code for r in responses] == [200] * NEW_SENDER_DELIVERIES
    assert sorted(r.json()["stored"] for r in responses) == [0] * (NEW_SENDER_DELIVERIES - 1) + [1]
    assert Message.objects.count() == 1
    contact = Contact.objects.get()
    ticket = Ticket.objects.get()
    assert (ticket.contact, list(ticket.messages.all())) == (contact, list(Message.objects.all()))


@pytest.mark.parametrize(
    "key",
    [{"remote_jid": "5511987654321@s.whatsapp.net"}, {"remote_jid": "123456789012345@lid"}],
    ids=["by number", "by LID alone"],
)
def test_20_first_messages_of_one_new_sender_at_once_make_one_contact_and_one_ticket(whatsapp, monkeypatch, key):
    meet_before_writing(monkeypatch, threading.Barrier(NEW_SENDER_DELIVERIES, timeout=30))
    bodies = [
        payloads.upsert(WHATSAPP_SECRET, message_id=f"3EB0NEW{n:011d}", text=f"mensagem {n}", **key)
        for n in range(NEW_SENDER_DELIVERIES)
    ]

    responses = post_at_once(whatsapp, bodies)

    assert [r.json()["stored"] for r in responses] == [1] * NEW_SENDER_DELIVERIES
    contact = Contact.objects.get()
    ticket = Ticket.objects.get()
    assert ticket.contact == contact
    assert ticket.messages.count() == NEW_SENDER_DELIVERIES
    assert contact.history.count() == 1


def test_20_deliveries_of_a_new_telegram_users_messages_at_once_make_one_contact_one_ticket_and_each_message_once(
    telegram, monkeypatch
):
    meet_before_writing(monkeypatch, threading.Barrier(NEW_SENDER_DELIVERIES, timeout=30))
    # Ten messages, each delivered twice: Telegram retries what it thinks was lost.
    bodies = [payloads.telegram_update(message_id=100 + n % 10) for n in range(NEW_SENDER_DELIVERIES)]

    responses = post_at_once(telegram, bodies, **{"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})

    assert [r.status_code for r in responses] == [200] * NEW_SENDER_DELIVERIES
    assert sum(r.json()["stored"] for r in responses) == 10
    contact = Contact.objects.get()
    assert (contact.telegram_id, contact.name) == ("424242", "João Pereira")
    ticket = Ticket.objects.get()
    assert ticket.contact == contact
    assert sorted(ticket.messages.values_list("external_id", flat=True)) == sorted(f"424242:{100 + n}" for n in range(10))
    assert contact.history.count() == 1


def test_a_revealed_pair_racing_messages_from_both_addresses_loses_none(whatsapp, monkeypatch):
    older = Contact.objects.create(name="Maria", number="5511987654321")
    post_at_once(whatsapp, [payloads.upsert(WHATSAPP_SECRET, remote_jid="123456789012345@lid", text="pelo LID")])
    assert Contact.objects.count() == 2
    meet_before_writing(monkeypatch, threading.Barrier(THREADS, timeout=30))
    reveal = payloads.evolution(
        "contacts.upsert",
        [{"remoteJid": "123456789012345@lid", "phoneNumber": "5511987654321@s.whatsapp.net"}],
        apikey=WHATSAPP_SECRET,
    )
    by_lid = [payloads.upsert(WHATSAPP_SECRET, remote_jid="123456789012345@lid", text=f"lid {n}") for n in range(2)]
    by_number = [payloads.upsert(WHATSAPP_SECRET, text=f"número {n}") for n in range(THREADS - 3)]

    responses = post_at_once(whatsapp, [reveal, *by_lid, *by_number])

    assert [r.status_code for r in responses] == [200] * THREADS
    assert list(Contact.objects.all()) == [older]
    assert Message.objects.count() == THREADS
    assert Message.objects.filter(contact=older, ticket__contact=older).count() == THREADS
    assert Ticket.objects.active().count() == 1


def test_messages_from_a_known_contact_at_once_open_one_ticket(whatsapp, monkeypatch):
    contact = Contact.objects.create(name="Maria", number="5511987654321")
    meet_before_writing(monkeypatch, threading.Barrier(THREADS, timeout=20))
    bodies = [payloads.upsert(WHATSAPP_SECRET, message_id=f"3EB0MANY{n:010d}", text=f"mensagem {n}") for n in range(THREADS)]

    responses = post_at_once(whatsapp, bodies)

    assert [r.json()["stored"] for r in responses] == [1] * THREADS
    ticket = Ticket.objects.get()
    assert ticket.contact == contact
    assert ticket.messages.count() == THREADS


def test_a_known_contacts_first_message_delivered_at_once_opens_one_ticket_and_stores_it_once(whatsapp, monkeypatch):
    contact = Contact.objects.create(name="Maria", number="5511987654321")
    meet_before_writing(monkeypatch, threading.Barrier(THREADS, timeout=20))
    body = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0ONCE0000000001", text="oi")

    responses = post_at_once(whatsapp, [body] * THREADS)

    assert sorted(r.json()["stored"] for r in responses) == [0] * (THREADS - 1) + [1]
    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.status) == (contact, Ticket.Status.PENDING)
    assert list(ticket.messages.values_list("body", flat=True)) == ["oi"]


def test_a_repeated_message_racing_a_sync_is_stored_once_and_linked(whatsapp, monkeypatch):
    body = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0SYNC0000000001")
    post_at_once(whatsapp, [body])
    barrier = threading.Barrier(2, timeout=20)
    errors = []

    def sync():
        try:
            barrier.wait()
            sync_contacts()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    def deliver_again():
        barrier.wait()
        post_at_once(whatsapp, [body, payloads.upsert(WHATSAPP_SECRET, message_id="3EB0SYNC0000000002")])

    threads = [threading.Thread(target=sync), threading.Thread(target=deliver_again)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sync_contacts()  # whatever arrived between the two is linked now
    assert Contact.objects.count() == 1
    assert Message.objects.count() == 2
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(ticket=Ticket.objects.get()).count() == 2
