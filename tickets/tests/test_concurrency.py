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
from tickets import services, webhooks
from tickets.models import Message, Ticket
from tickets.sync import sync_contacts

from . import payloads
from .conftest import WHATSAPP_SECRET

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 6


def meet_before_writing(monkeypatch, barrier):
    if connection.vendor == "postgresql":
        real = services.insert_once

        def insert_once(message):
            barrier.wait()
            return real(message)

        monkeypatch.setattr(services, "insert_once", insert_once)
    else:
        real = webhooks.message_receive

        def message_receive(**kwargs):
            barrier.wait()
            return real(**kwargs)

        monkeypatch.setattr(webhooks, "message_receive", message_receive)


def post_at_once(channel, bodies):
    responses, errors = [], []

    def post(body):
        try:
            response = Client().post(
                reverse("tickets:webhook", args=[channel.pk]), json.dumps(body), content_type="application/json"
            )
            responses.append(response)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return responses


def test_the_same_message_from_a_new_sender_at_once_ends_as_one_message_one_contact_one_ticket(whatsapp, monkeypatch):
    meet_before_writing(monkeypatch, threading.Barrier(THREADS, timeout=20))
    body = payloads.upsert(WHATSAPP_SECRET, message_id="3EB0SAME0000000001", remote_jid="5511987654321@s.whatsapp.net")

    responses = post_at_once(whatsapp, [body] * THREADS)

    assert [r.status_code for r in responses] == [200] * THREADS
    assert sorted(r.json()["stored"] for r in responses) == [0] * (THREADS - 1) + [1]
    assert Message.objects.count() == 1

    report = sync_contacts()
    assert (report.created, report.tickets_opened) == (1, 1)
    assert Contact.objects.count() == 1
    ticket = Ticket.objects.active().get()
    assert list(ticket.messages.all()) == list(Message.objects.all())


def test_messages_from_a_known_contact_at_once_open_one_ticket(whatsapp, monkeypatch):
    contact = Contact.objects.create(name="Maria", number="5511987654321")
    meet_before_writing(monkeypatch, threading.Barrier(THREADS, timeout=20))
    bodies = [payloads.upsert(WHATSAPP_SECRET, message_id=f"3EB0MANY{n:010d}", text=f"mensagem {n}") for n in range(THREADS)]

    responses = post_at_once(whatsapp, bodies)

    assert [r.json()["stored"] for r in responses] == [1] * THREADS
    ticket = Ticket.objects.get()
    assert ticket.contact == contact
    assert ticket.messages.count() == THREADS


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
