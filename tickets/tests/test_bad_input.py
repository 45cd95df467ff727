"""Whatever a person or a script sends to the ticket pages, the answer is a
page or a refusal, never a server error; and the webhook is the only view
without CSRF protection."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from contacts.tests.factories import ContactFactory
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

GARBAGE = ["", "x", "-1", "0", "99999999999999999999999", "1.5", "<script>", "\x00", "١٢", "null", "[]"]


def views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_the_webhook_is_the_only_view_without_csrf_protection():
    exempt = [route for route, callback in views(get_resolver().url_patterns) if getattr(callback, "csrf_exempt", False)]
    assert exempt == ["tickets/webhook/<int:channel_id>/"]


def test_posting_without_the_csrf_token_is_refused(client, agent, agent_wallet, whatsapp):
    contact = ContactFactory(wallet=agent_wallet)
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(agent)
    assert csrf_client.post(reverse("tickets:start", args=[contact.pk])).status_code == 403
    assert not Ticket.objects.exists()


@pytest.fixture
def ticket(agent_wallet, whatsapp, agent):
    contact = ContactFactory(name="Maria", number="5511987654321", wallet=agent_wallet)
    return Ticket.objects.create(contact=contact, channel=whatsapp, user=agent)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbled_list_filters_and_pages_show_the_list(agent_client, ticket, value):
    for field in ("view", "channel", "status", "page"):
        response = agent_client.get(reverse("tickets:list"), {field: value, "view": "all"} if field != "view" else {field: value})
        assert response.status_code == 200


@pytest.mark.parametrize("value", GARBAGE)
def test_garbled_start_channels_are_form_errors(agent_client, ticket, value):
    response = agent_client.post(reverse("tickets:start", args=[ticket.contact.pk]), {"channel": value})
    assert response.status_code == 200
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("value", GARBAGE)
def test_garbled_versions_and_replies_are_handled(agent_client, ticket, value):
    assert agent_client.get(ticket.get_absolute_url(), {"version": value}, headers={"HX-Request": "true"}).status_code == 200
    assert agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": value}).status_code == 302


def test_a_reply_with_odd_characters_is_stored_without_them(agent_client, ticket, httpserver):
    ticket.channel.gateway_url, ticket.channel.instance, ticket.channel.api_key = httpserver.url_for("/"), "v", "k"
    ticket.channel.save()
    httpserver.expect_request("/message/sendText/v").respond_with_json({"key": {"id": "ABC"}}, status=201)
    agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "Olá\x1b[31m\u200b 🚀 D'Ávila"})
    assert Message.objects.get().body == "Olá[31m 🚀 D'Ávila"


def test_a_reply_with_a_null_character_is_refused_with_a_message(agent_client, ticket):
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "a\x00b"}, follow=True)
    assert response.status_code == 200
    assert not Message.objects.exists()


@pytest.mark.parametrize("kind", GARBAGE)
def test_garbled_sync_kinds_are_sent_back(admin_client, kind):
    assert admin_client.post(reverse("tickets:sync"), {"kind": kind}).status_code == 302


def test_a_form_too_large_is_refused(agent_client, ticket):
    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"text": "x" * (1024 * 1024 + 1)})
    assert response.status_code in (400, 413)
    assert not Message.objects.exists()
