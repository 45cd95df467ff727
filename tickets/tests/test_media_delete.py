"""Files leave with what they belong to: a deleted contact's tickets take
their messages' media, rows and files, whichever way the contact is
deleted; a deletion that is rolled back keeps them; a fetch that ends
after its media was deleted leaves no file behind."""

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bulk.models import Action
from bulk.services import Target, bulk_confirm, bulk_prepare
from contacts.models import Contact
from contacts.services import contacts_delete
from contacts.tests.factories import ContactFactory
from tickets.media import media_delete, media_fetch
from tickets.models import Message, MessageMedia, Ticket
from tickets.providers.evolution import EvolutionProvider

from . import media_files

pytestmark = pytest.mark.django_db


def conversation_with_a_photo(contact, channel) -> MessageMedia:
    ticket = Ticket.objects.create(contact=contact, channel=channel)
    message = Message.objects.create(
        channel=channel, external_id=f"photo-{contact.pk}", chat_id=f"{contact.number}@s.whatsapp.net",
        sent_at=timezone.now(), ticket=ticket, contact=contact, kind="image",
    )
    media = MessageMedia(message=message, kind="image", status="stored", content_type="image/jpeg")
    media.file.save("photo.jpg", ContentFile(media_files.photo()), save=True)
    return media


def exists(media) -> bool:
    return media.file.storage.exists(media.file.name)


@pytest.fixture
def maria(whatsapp):
    return conversation_with_a_photo(ContactFactory(name="Maria", number="5511987654321"), whatsapp)


@pytest.fixture
def joao(whatsapp):
    return conversation_with_a_photo(ContactFactory(name="João", number="5511912345678"), whatsapp)


def test_deleting_a_contact_in_the_panel_removes_its_tickets_files(admin_client, maria, joao, django_capture_on_commit_callbacks):
    contact = maria.message.contact
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("contacts:delete", args=[contact.pk]))
    assert response.status_code in (200, 204, 302)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not MessageMedia.objects.filter(pk=maria.pk).exists() and not exists(maria)
    assert MessageMedia.objects.filter(pk=joao.pk).exists() and exists(joao)


def test_a_bulk_delete_removes_the_files_too(admin_user, maria, joao, django_capture_on_commit_callbacks):
    job = bulk_prepare(user=admin_user, contacts=Contact.objects.filter(name="Maria"), target=Target(Action.DELETE))
    with django_capture_on_commit_callbacks(execute=True):
        bulk_confirm(job=job, user=admin_user, typed="1")
    assert not Contact.objects.filter(name="Maria").exists()
    assert not MessageMedia.objects.filter(pk=maria.pk).exists() and not exists(maria)
    assert exists(joao)


def test_a_deletion_rolled_back_keeps_the_files(maria, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            contacts_delete(contacts=[maria.message.contact])
            raise RuntimeError("rolled back")
    assert MessageMedia.objects.filter(pk=maria.pk).exists() and exists(maria)


def test_media_delete_removes_rows_and_files_it_is_given(maria, joao, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert media_delete(media=MessageMedia.objects.filter(pk=maria.pk)) == 1
    assert not exists(maria) and exists(joao)
    assert Message.objects.filter(pk=maria.message_id).exists()


def test_a_fetch_that_ends_after_its_media_was_deleted_keeps_no_file(whatsapp, monkeypatch, settings):
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = "http://127.0.0.1:9", "vendas", "k"
    whatsapp.save()
    message = Message.objects.create(channel=whatsapp, external_id="late", chat_id="x", sent_at=timezone.now(), kind="image")
    media = MessageMedia.objects.create(message=message, kind="image", source={"key": {"id": "late"}})
    folder = settings.MEDIA_ROOT / "messages"
    before = set(folder.rglob("*")) if folder.exists() else set()

    def deleted_while_fetching(self, source, *, write, limit):
        MessageMedia.objects.filter(pk=media.pk).delete()
        write(media_files.photo())

    monkeypatch.setattr(EvolutionProvider, "fetch_media", deleted_while_fetching)
    assert media_fetch(media_id=media.pk) is None
    assert {path for path in folder.rglob("*") if path.is_file()} - before == set()
