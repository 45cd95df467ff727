"""Everything the list shows is searchable: Telegram ids too."""

import pytest
from django.db import connection
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


def names(response):
    return [contact.name for contact in response.context["page_obj"].object_list]


def search(client, query, **params):
    return names(client.get(LIST, {"q": query, **params}))


# Telegram ids


@pytest.mark.parametrize(
    "query",
    ["123456789", "0123456789", "00123456789", "１２３４５６７８９", " 123456789 ", "\u200e123456789\u200f"],
)
def test_finds_a_contact_by_telegram_id_in_any_writing(admin_client, query):
    ContactFactory(name="Tânia", telegram_id="123456789")
    ContactFactory(name="Other", telegram_id="1234567890")
    assert search(admin_client, query) == ["Tânia"]


@pytest.mark.parametrize("query", ["-1001234567890", "−1001234567890", "–1001234567890", "-01001234567890"])
def test_finds_a_telegram_group_by_its_negative_id_typed_with_any_dash(admin_client, query):
    ContactFactory(name="Avisos da Loja", number="", is_group=True, telegram_id="-1001234567890")
    ContactFactory(name="Someone", number="5511912345678", telegram_id="1001234567890")
    assert search(admin_client, query) == ["Avisos da Loja"]


def test_a_telegram_id_and_a_phone_that_read_alike_are_both_found(admin_client):
    # Ten digits are also a Brazilian landline: 55 12 3456-7890.
    ContactFactory(name="By phone", number="551234567890")
    ContactFactory(name="By Telegram", telegram_id="1234567890")
    assert sorted(search(admin_client, "1234567890")) == ["By Telegram", "By phone"]


def test_agent_cannot_find_another_wallets_contact_by_telegram_id(agent_client, other_wallet):
    ContactFactory(name="Secret", telegram_id="123456789", wallet=other_wallet)
    assert search(agent_client, "123456789") == []


def test_a_telegram_id_search_reads_the_unique_index(db):
    ContactFactory(name="Tânia", telegram_id="1234567890")
    queryset = Contact.objects.search("1234567890").order_by().values("pk")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tiny table is read whole unless that is made expensive.
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "contact_telegram_id_unique" in plan
    assert "contact_number_unique" in plan
