"""Message retention: `manage.py apply_message_retention` removes what
messages older than MESSAGE_RETENTION_DAYS said (text, details, earlier
versions, files) and keeps the tickets' facts; batch by batch, once,
recorded in the audit trail, and shown in the conversation."""

import json
import threading
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection  # noqa: F401 (the skipif condition reads it)
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from contacts.tests.factories import ContactFactory
from contacts_portal.tests.concurrency import run_threads
from tickets import retention
from tickets.models import Message, MessageEdit, MessageMedia, Ticket

from . import media_files, payloads
from .conftest import TELEGRAM_SECRET

pytestmark = pytest.mark.django_db

NUMBER = "5511987654321"


@pytest.fixture
def retain(settings):
    settings.MESSAGE_RETENTION_DAYS = 30
    return settings


def message(ticket, *, days_ago, body="Meu CPF é 529.982.247-25", **fields):
    return Message.objects.create(
        channel=ticket.channel, external_id=f"m-{Message.objects.count()}-{days_ago}", chat_id=f"{NUMBER}@s.whatsapp.net",
        chat_identity=NUMBER, sender_id=NUMBER, sender_name="Maria", contact=ticket.contact, ticket=ticket, body=body,
        sent_at=timezone.now() - timedelta(days=days_ago), **fields,
    )


def photo(message) -> MessageMedia:
    media = MessageMedia(message=message, kind="image", status="stored", content_type="image/jpeg", file_name="rg-frente.jpg")
    media.file.save("photo.jpg", ContentFile(media_files.photo()), save=True)
    return media


@pytest.fixture
def ticket(whatsapp, agent_wallet):
    return Ticket.objects.create(contact=ContactFactory(number=NUMBER, wallet=agent_wallet), channel=whatsapp)


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("apply_message_retention", *args, stdout=out)
    return out.getvalue()


def test_old_messages_lose_their_text_details_earlier_versions_and_files_and_keep_the_tickets_facts(
    retain, ticket, agent, django_capture_on_commit_callbacks
):
    old = message(ticket, days_ago=45, kind="image", body="foto do documento")
    media = photo(old)
    MessageEdit.objects.create(message=old, body="foto do RG", replaced_at=old.sent_at)
    place = message(ticket, days_ago=40, kind="location", body="Casa", details={"location": {"latitude": -23.5, "longitude": -46.6, "name": "Casa"}})
    reply = message(ticket, days_ago=31, body="Recebido, obrigado", from_me=True, sent_by=agent, delivery="sent")

    with django_capture_on_commit_callbacks(execute=True):
        output = run()

    assert "3" in output
    for kept in (old, place, reply):
        now = Message.objects.get(pk=kept.pk)
        assert (now.body, now.details) == ("", None)
        assert now.content_removed_at is not None
        # The facts: when, on which channel, which way, what kind, who.
        assert (now.sent_at, now.channel_id, now.from_me, now.kind, now.ticket_id, now.contact_id, now.sent_by_id) == (
            kept.sent_at, kept.channel_id, kept.from_me, kept.kind, ticket.pk, ticket.contact_id, kept.sent_by_id
        )
    assert not MessageEdit.objects.exists()
    assert not MessageMedia.objects.exists()
    assert not media.file.storage.exists(media.file.name)
    assert Ticket.objects.get(pk=ticket.pk).contact_id == ticket.contact_id
    event = AuditEvent.objects.get(action=AuditEvent.Action.MESSAGE_RETENTION)
    assert event.counts == {"messages": 3, "edits": 1, "media": 1}
    assert event.parameters["days"] == 30 and event.source == "command"


def test_messages_within_the_retention_window_keep_everything(retain, ticket, django_capture_on_commit_callbacks):
    recent = message(ticket, days_ago=29, kind="image", body="legenda")
    media = photo(recent)
    MessageEdit.objects.create(message=recent, body="antes", replaced_at=recent.sent_at)
    with django_capture_on_commit_callbacks(execute=True):
        run()
    recent.refresh_from_db()
    assert (recent.body, recent.content_removed_at) == ("legenda", None)
    assert MessageEdit.objects.filter(message=recent).exists()
    assert MessageMedia.objects.filter(pk=media.pk).exists() and media.file.storage.exists(media.file.name)


def test_a_second_run_finds_nothing_left_and_is_recorded_too(retain, ticket):
    first = message(ticket, days_ago=60)
    run()
    removed_at = Message.objects.get(pk=first.pk).content_removed_at
    output = run()
    assert Message.objects.get(pk=first.pk).content_removed_at == removed_at
    assert " 0 " in output
    counts = list(AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_RETENTION).order_by("pk").values_list("counts", flat=True))
    assert counts == [{"messages": 1, "edits": 0, "media": 0}, {"messages": 0, "edits": 0, "media": 0}]


def test_a_dry_run_counts_what_would_go_and_removes_nothing(retain, ticket):
    old = message(ticket, days_ago=45, kind="image")
    photo(old)
    MessageEdit.objects.create(message=old, body="antes", replaced_at=old.sent_at)
    message(ticket, days_ago=50)
    message(ticket, days_ago=1)

    output = run("--dry-run")

    assert "2" in output and "1" in output
    assert retention.retention_preview(before=retention.retention_cutoff()).counts() == {"messages": 2, "edits": 1, "media": 1}
    assert not Message.objects.filter(content_removed_at__isnull=False).exists()
    assert Message.objects.filter(body="Meu CPF é 529.982.247-25").count() == 3
    assert MessageEdit.objects.exists() and MessageMedia.objects.exists()
    assert not AuditEvent.objects.exists()


def test_retention_is_off_by_default_and_the_command_then_removes_nothing(settings, ticket):
    settings.MESSAGE_RETENTION_DAYS = None
    old = message(ticket, days_ago=3650)
    assert "MESSAGE_RETENTION_DAYS" in run()
    old.refresh_from_db()
    assert old.body and old.content_removed_at is None
    assert not AuditEvent.objects.exists()


def test_a_batch_size_below_one_is_refused(retain, ticket):
    message(ticket, days_ago=45)
    with pytest.raises(CommandError):
        run("--batch-size", "0")
    assert not Message.objects.filter(content_removed_at__isnull=False).exists()


def test_many_messages_go_in_batches_each_removed_once(retain, ticket):
    for n in range(25):
        message(ticket, days_ago=31 + n)
    message(ticket, days_ago=2)
    output = run("--batch-size", "4")
    assert "25" in output
    assert Message.objects.filter(content_removed_at__isnull=False).count() == 25
    assert Message.objects.filter(content_removed_at__isnull=True).get().body


def test_a_batch_that_fails_changes_nothing_of_its_own_and_keeps_the_batches_before_it(retain, ticket, monkeypatch):
    oldest = [message(ticket, days_ago=90 - n) for n in range(4)]
    for each in oldest:
        MessageEdit.objects.create(message=each, body="antes", replaced_at=each.sent_at)
    real, calls = retention.media_delete, []

    def media_delete(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("storage unreachable")
        return real(**kwargs)

    monkeypatch.setattr(retention, "media_delete", media_delete)
    with pytest.raises(OSError):
        run("--batch-size", "2")

    removed = set(Message.objects.filter(content_removed_at__isnull=False).values_list("pk", flat=True))
    assert removed == {oldest[0].pk, oldest[1].pk}
    # The failed batch kept its texts and earlier versions.
    assert set(MessageEdit.objects.values_list("message_id", flat=True)) == {oldest[2].pk, oldest[3].pk}
    assert Message.objects.get(pk=oldest[2].pk).body
    # The next run finishes the work.
    monkeypatch.setattr(retention, "media_delete", real)
    run()
    assert not Message.objects.filter(content_removed_at__isnull=True).exists()


def test_the_conversation_says_the_content_was_removed_by_the_retention_policy(retain, ticket, client, agent):
    old = message(ticket, days_ago=45, kind="image", body="texto antigo e pessoal")
    media_url = reverse("tickets:media", args=[photo(old).pk])
    message(ticket, days_ago=1, body="texto recente")
    run()
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url())
    text = page.content.decode()
    assert page.status_code == 200
    assert "conteúdo removido pela política de retenção" in text
    assert "texto antigo e pessoal" not in text and "texto recente" in text
    assert media_url not in text
    # The ticket list's preview of the last message says so too.
    old.ticket.messages.exclude(pk=old.pk).delete()
    listed = client.get(reverse("tickets:list"), {"view": "all"}).content.decode()
    assert "conteúdo removido pela política de retenção" in listed


def test_in_english_the_conversation_says_so_too(retain, ticket, client, agent):
    message(ticket, days_ago=45)
    run()
    client.force_login(agent)
    client.cookies["django_language"] = "en"
    text = client.get(ticket.get_absolute_url()).content.decode()
    assert "content removed by the retention policy" in text


def test_an_edit_of_a_message_whose_content_was_removed_does_not_bring_it_back(retain, client, telegram):
    ContactFactory(telegram_id="424242")
    url = reverse("tickets:webhook", args=[telegram.pk])
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    original = payloads.telegram_update(text="Meu endereço é Rua A, 10", message_id=7)
    assert client.post(url, json.dumps(original), content_type="application/json", headers=headers).status_code == 200
    stored = Message.objects.get()
    assert stored.sent_at < timezone.now() - timedelta(days=30)  # the payload's date is long past
    run()

    edit = payloads.telegram_update(edited=True, text="Meu endereço é Rua B, 20", message_id=7)
    assert client.post(url, json.dumps(edit), content_type="application/json", headers=headers).status_code == 200

    stored.refresh_from_db()
    assert stored.body == "" and stored.content_removed_at is not None
    assert not MessageEdit.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks are PostgreSQL's; SQLite has one writer at a time")
def test_two_sweeps_at_once_share_the_work_and_remove_each_message_once(retain, whatsapp):
    ticket = Ticket.objects.create(contact=ContactFactory(number=NUMBER), channel=whatsapp)
    for n in range(60):
        message(ticket, days_ago=31 + n)
    before = retention.retention_cutoff()
    results, barrier = [], threading.Barrier(2)

    def sweep():
        barrier.wait()
        results.append(retention.messages_expire(before=before, batch_size=5))

    assert run_threads(sweep, sweep) == []
    assert sum(result.messages for result in results) == 60
    assert not Message.objects.filter(content_removed_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_RETENTION).count() == 2
