"""A person's "SAIR" delivered twice at once (the gateway retries, or the
person taps send twice) records one opt-out: the second writer waits for
the first one's transaction and finds its opt-out. On PostgreSQL the lock
is real; SQLite lets one writer in at a time."""

import json
import threading

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import OptOut
from contacts.tests.factories import ContactFactory
from contacts_portal.tests.concurrency import run_threads
from tickets import optout
from tickets.models import Message

from . import payloads
from .conftest import WHATSAPP_SECRET

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NUMBER = "5511987654321"
THREADS = 6


def deliver(channel, message_id: str, text: str = "SAIR"):
    body = json.dumps(payloads.upsert(WHATSAPP_SECRET, remote_jid=f"{NUMBER}@s.whatsapp.net", message_id=message_id, text=text))
    response = Client().post(reverse("tickets:webhook", args=[channel.pk]), body, content_type="application/json")
    assert response.status_code == 200, response.content


def test_a_second_sair_checked_while_the_first_is_being_recorded_records_no_second_opt_out(whatsapp, monkeypatch):
    """The first writer has found no opt-out and waits before its insert;
    the second one checks meanwhile."""
    contact = ContactFactory(number=NUMBER)
    checked, second_done = threading.Event(), threading.Event()
    real_create = OptOut.objects.create

    def create_once_the_other_has_checked(**fields):
        if not checked.is_set():
            checked.set()
            second_done.wait(timeout=2)
        return real_create(**fields)

    monkeypatch.setattr(OptOut.objects, "create", create_once_the_other_has_checked)

    def first():
        deliver(whatsapp, "3EB0SAIR0001")

    def second():
        checked.wait(timeout=10)
        try:
            deliver(whatsapp, "3EB0SAIR0002", text="sair!")
        finally:
            second_done.set()

    assert run_threads(first, second) == []
    assert Message.objects.filter(contact=contact).count() == 2
    opt_out = OptOut.objects.get()
    assert (opt_out.contact_id, opt_out.evidence, opt_out.is_active) == (contact.pk, "SAIR", True)
    assert opt_out.message_id == Message.objects.get(external_id="3EB0SAIR0001").pk


def test_six_sair_at_once_from_one_person_record_one_opt_out_with_its_history(whatsapp, monkeypatch):
    """Each writer waits for the others with its message stored, right
    before it records the opt-out."""
    contact = ContactFactory(number=NUMBER)
    barrier = threading.Barrier(THREADS, timeout=30)
    real_record = optout.opt_out_record

    def record_together(**kwargs):
        barrier.wait()
        return real_record(**kwargs)

    monkeypatch.setattr(optout, "opt_out_record", record_together)
    assert run_threads(*(lambda n=n: deliver(whatsapp, f"3EB0SAIR{n:04d}") for n in range(THREADS))) == []
    assert Message.objects.filter(contact=contact).count() == THREADS
    opt_out = OptOut.objects.get()
    assert opt_out.contact_id == contact.pk and opt_out.is_active
    assert opt_out.history.count() == 1
