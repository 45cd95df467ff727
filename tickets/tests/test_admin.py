"""Channels in Django admin: secrets typed once and never shown again, the
webhook URL to give to the gateway, and registering it there."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from contacts.tests.factories import UserFactory
from tickets.models import Channel, Message, MessageEdit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = UserFactory(username="root-admin", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(user)
    return client


def channel_form(**fields):
    return {
        "kind": "whatsapp",
        "name": "WhatsApp Vendas",
        "address": "+55 11 90000-0000",
        "webhook_secret": "",
        "gateway_url": "",
        "instance": "",
        "api_key": "",
        "bot_token": "",
        **fields,
    }


def test_a_new_channel_gets_a_random_webhook_secret_when_none_is_typed(staff_client):
    response = staff_client.post(reverse("admin:tickets_channel_add"), channel_form())
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert len(channel.webhook_secret) >= 40


def test_saved_secrets_are_never_shown_in_full_and_a_blank_box_keeps_them(staff_client):
    form = channel_form(
        webhook_secret="evolution-instance-key-12345678",
        gateway_url="https://evolution.example.com",
        instance="vendas",
        api_key="evolution-instance-key-12345678",
    )
    staff_client.post(reverse("admin:tickets_channel_add"), form)
    channel = Channel.objects.get()
    change_url = reverse("admin:tickets_channel_change", args=[channel.pk])

    page = staff_client.get(change_url).content.decode()
    assert "evolution-instance-key-12345678" not in page
    assert "…5678" in page
    assert f"http://testserver/tickets/webhook/{channel.pk}/" in page

    listing = staff_client.get(reverse("admin:tickets_channel_changelist")).content.decode()
    assert "evolution-instance-key-12345678" not in listing
    assert f"http://testserver/tickets/webhook/{channel.pk}/" in listing

    staff_client.post(change_url, channel_form(name="Vendas", gateway_url="https://evolution.example.com", instance="vendas"))
    channel.refresh_from_db()
    assert (channel.name, channel.webhook_secret, channel.api_key) == (
        "Vendas",
        "evolution-instance-key-12345678",
        "evolution-instance-key-12345678",
    )

    staff_client.post(change_url, channel_form(api_key="new-key-abcdefgh", gateway_url="https://evolution.example.com", instance="vendas"))
    channel.refresh_from_db()
    assert (channel.webhook_secret, channel.api_key) == ("evolution-instance-key-12345678", "new-key-abcdefgh")


def test_a_telegram_secret_must_be_what_telegram_accepts(staff_client):
    response = staff_client.post(reverse("admin:tickets_channel_add"), channel_form(kind="telegram", webhook_secret="com espaço!"))
    assert response.status_code == 200
    assert "Telegram aceita de 1 a 256 letras" in response.content.decode()
    assert not Channel.objects.exists()


def test_a_half_configured_whatsapp_gateway_is_refused(staff_client):
    response = staff_client.post(reverse("admin:tickets_channel_add"), channel_form(gateway_url="https://evolution.example.com"))
    assert response.status_code == 200
    assert "Preencha a URL do gateway, a instância e a chave de API, ou nenhum deles." in response.content.decode()


def test_registering_the_webhook_tells_evolution_api_where_and_with_which_secret(staff_client, httpserver):
    channel = Channel.objects.create(
        kind="whatsapp",
        name="Vendas",
        webhook_secret="segredo-do-webhook-123",
        gateway_url=httpserver.url_for("/"),
        instance="vendas loja",
        api_key="chave-da-instancia",
    )
    httpserver.expect_request(
        "/webhook/set/vendas loja",  # sent as vendas%20loja
        method="POST",
        headers={"apikey": "chave-da-instancia"},
        json={
            "webhook": {
                "enabled": True,
                "url": f"http://testserver/tickets/webhook/{channel.pk}/",
                "headers": {"apikey": "segredo-do-webhook-123"},
                "byEvents": False,
                "base64": False,
                "events": [
                    "MESSAGES_UPSERT", "MESSAGES_EDITED", "SEND_MESSAGE", "CONTACTS_UPSERT", "CONTACTS_UPDATE", "CHATS_UPSERT", "CHATS_UPDATE"
                ],
            }
        },
    ).respond_with_json({"webhook": {"instanceName": "vendas loja", "webhook": {"enabled": True}}}, status=201)

    response = staff_client.post(
        reverse("admin:tickets_channel_changelist"), {"action": "register_webhook", "_selected_action": [channel.pk]}, follow=True
    )
    httpserver.check_assertions()
    assert "agora envia suas mensagens para" in response.content.decode()


def test_registering_a_telegram_webhook_calls_set_webhook(staff_client, httpserver):
    channel = Channel.objects.create(
        kind="telegram", name="Bot", webhook_secret="segredo_do_bot", gateway_url=httpserver.url_for("/"), bot_token="123:ABC"
    )
    httpserver.expect_request(
        "/bot123:ABC/setWebhook",
        method="POST",
        json={
            "url": f"http://testserver/tickets/webhook/{channel.pk}/",
            "secret_token": "segredo_do_bot",
            "allowed_updates": ["message", "edited_message"],
        },
    ).respond_with_json({"ok": True, "result": True, "description": "Webhook was set"})
    staff_client.post(reverse("admin:tickets_channel_changelist"), {"action": "register_webhook", "_selected_action": [channel.pk]})
    httpserver.check_assertions()


def test_a_gateway_that_refuses_says_so_without_repeating_the_token(staff_client, httpserver):
    channel = Channel.objects.create(
        kind="telegram", name="Bot", gateway_url=httpserver.url_for("/"), bot_token="123:SECRET-TOKEN"
    )
    httpserver.expect_request("/bot123:SECRET-TOKEN/setWebhook").respond_with_response(
        Response('{"ok":false,"error_code":401,"description":"Unauthorized"}', status=401, content_type="application/json")
    )
    response = staff_client.post(
        reverse("admin:tickets_channel_changelist"), {"action": "register_webhook", "_selected_action": [channel.pk]}, follow=True
    )
    page = response.content.decode()
    assert "O gateway recusou o pedido: confira a chave de API ou o token. (Unauthorized)" in page
    assert "SECRET-TOKEN" not in page


def test_someone_who_may_only_view_channels_sees_the_secrets_masked(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_all_contacts"),
        Permission.objects.get(codename="view_contact"),
        Permission.objects.get(codename="view_channel"),
    )
    channel = Channel.objects.create(kind="telegram", name="Bot", webhook_secret="segredo-visivel-9876", bot_token="123:TOKEN-ABCD")
    client.force_login(viewer)
    page = client.get(reverse("admin:tickets_channel_change", args=[channel.pk])).content.decode()
    assert "segredo-visivel-9876" not in page and "123:TOKEN-ABCD" not in page
    assert "…9876" in page and "…ABCD" in page


def test_a_message_in_admin_lists_the_texts_its_edits_replaced_and_none_can_be_changed(staff_client):
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", webhook_secret="segredo-0123456789")
    message = Message.objects.create(channel=channel, external_id="3EB0ADM", chat_id="x", sent_at=timezone.now(), body="Quero 3 caixas")
    MessageEdit.objects.create(message=message, body="Quero 2 caixas", replaced_at=timezone.now())

    response = staff_client.get(reverse("admin:tickets_message_change", args=[message.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Quero 2 caixas" in page
    assert 'name="edits-0-body"' not in page and 'name="edits-TOTAL_FORMS"' in page


def test_an_administrator_deletes_a_contact_with_tickets_in_admin_as_in_the_panel(staff_client, whatsapp):
    from contacts.models import Contact
    from contacts.tests.factories import ContactFactory
    from tickets.models import Ticket

    contact = ContactFactory(name="Com Atendimento")
    Ticket.objects.create(contact=contact, channel=whatsapp)
    url = reverse("admin:contacts_contact_delete", args=[contact.pk])

    page = staff_client.get(url)
    assert page.status_code == 200
    assert not page.context["perms_lacking"]
    assert "Com Atendimento" in page.content.decode()

    response = staff_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Ticket.objects.exists()


def test_admin_still_refuses_a_contacts_delete_to_who_may_not_delete_contacts(client, whatsapp):
    from django.contrib.auth.models import Permission

    from contacts.models import Contact
    from contacts.tests.factories import ContactFactory
    from tickets.models import Ticket

    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_contact", "view_all_contacts"]))
    client.force_login(user)
    contact = ContactFactory(name="Com Atendimento")
    Ticket.objects.create(contact=contact, channel=whatsapp)

    response = client.post(reverse("admin:contacts_contact_delete", args=[contact.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()
