"""A contact's "Conversas" tab: its tickets, in the edit popup (loaded by
htmx from the tickets app, registered through contacts.tabs) and as a page
of its own."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory, UserFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_the_edit_popup_has_a_conversations_tab_loaded_from_the_tickets(agent_client, contact):
    content = agent_client.get(reverse("contacts:update", args=[contact.pk]), headers=HTMX).content.decode()
    url = reverse("tickets:contact_tickets", args=[contact.pk])
    assert f'hx-get="{url}" hx-target="#contact-tab-tickets"' in content
    assert ">Conversas</a>" in content
    assert 'id="contact-tab-tickets" data-tab-panel="tickets" hidden' in content


def test_the_tab_lists_the_contacts_tickets_newest_conversation_first(agent_client, agent, contact, whatsapp, telegram):
    now = timezone.now()
    old = Ticket.objects.create(contact=contact, channel=telegram, status="closed", last_message_at=now - timedelta(days=3))
    recent = Ticket.objects.create(contact=contact, channel=whatsapp, user=agent, last_message_at=now.replace(hour=14, minute=5))
    someone_else = ContactFactory(name="João", number="5521912340000", wallet=contact.wallet)
    Ticket.objects.create(contact=someone_else, channel=whatsapp)
    response = agent_client.get(reverse("tickets:contact_tickets", args=[contact.pk]), headers=HTMX)
    content = response.content.decode()
    assert "<html" not in content
    assert [ticket.pk for ticket in response.context["tickets"]] == [recent.pk, old.pk]
    assert f'href="{recent.get_absolute_url()}">Atendimento #{recent.pk}</a>' in content
    assert "Aberto" in content and "Fechado" in content
    assert "WhatsApp Vendas" in content and "Bot Suporte" in content
    assert timezone.localtime(recent.last_message_at).strftime("%d/%m/%Y %H:%M") in content


def test_without_javascript_the_tab_is_a_page_with_the_contacts_tabs(agent_client, contact, whatsapp):
    Ticket.objects.create(contact=contact, channel=whatsapp)
    content = agent_client.get(reverse("tickets:contact_tickets", args=[contact.pk])).content.decode()
    assert "<html" in content and "Maria Souza" in content
    assert 'data-tab="tickets" class="active" aria-current="page"' in content
    assert f'href="{reverse("contacts:history", args=[contact.pk])}"' in content


def test_a_contact_without_tickets_says_so(agent_client, contact):
    content = agent_client.get(reverse("tickets:contact_tickets", args=[contact.pk]), headers=HTMX).content.decode()
    assert "Nenhuma conversa com este contato ainda." in content


def test_another_wallets_contact_is_a_404(client, other_agent, other_wallet, contact):
    client.force_login(other_agent)
    assert client.get(reverse("tickets:contact_tickets", args=[contact.pk])).status_code == 404


def test_who_may_not_see_tickets_gets_no_tab(client, contact):
    editor = UserFactory(username="editor")
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_contact", "change_contact", "view_all_contacts"]))
    client.force_login(editor)
    content = client.get(reverse("contacts:update", args=[contact.pk]), headers=HTMX).content.decode()
    assert "contact-tab-tickets" not in content and "Conversas" not in content
    assert client.get(reverse("tickets:contact_tickets", args=[contact.pk])).status_code == 403
