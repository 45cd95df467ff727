"""The provider of each kind of channel: the registry, what a channel asks
its provider, and where a reply goes when the contact never wrote."""

import pytest
from django.core.exceptions import ValidationError

from contacts.tests.factories import ContactFactory
from tickets.models import Channel, Message
from tickets.providers import PROVIDERS, Provider, chat_listing_kinds, contact_fields
from tickets.providers.evolution import EvolutionProvider
from tickets.providers.telegram import TelegramProvider
from tickets.services import reply_create

pytestmark = pytest.mark.django_db


def test_every_kind_of_channel_has_a_provider():
    assert set(PROVIDERS) == set(Channel.Kind.values)
    assert all(issubclass(provider, Provider) and provider.kind == kind for kind, provider in PROVIDERS.items())


def test_each_kind_addresses_contacts_by_its_own_field():
    assert contact_fields() == {"whatsapp": "number", "telegram": "telegram_id"}
    assert chat_listing_kinds() == ["whatsapp"]


def test_a_channel_builds_its_provider_once(whatsapp):
    assert isinstance(whatsapp.provider, EvolutionProvider)
    assert whatsapp.provider is whatsapp.provider
    assert whatsapp.provider.channel is whatsapp


def test_a_channel_whose_kind_changes_asks_the_new_kinds_provider(whatsapp):
    assert whatsapp.provider.contact_field == "number"
    whatsapp.kind = Channel.Kind.TELEGRAM
    assert isinstance(whatsapp.provider, TelegramProvider)
    assert whatsapp.provider.contact_field == "telegram_id"


def test_a_channel_of_an_unknown_kind_is_refused_by_its_field_not_a_provider():
    channel = Channel(kind="fax", name="Fax", webhook_secret="x")
    with pytest.raises(ValidationError) as error:
        channel.full_clean()
    assert set(error.value.message_dict) == {"kind"}


def test_a_whatsapp_group_that_never_wrote_is_answered_at_its_jid(whatsapp, agent):
    group = ContactFactory(name="Vendas Sul", number="120363025246125888", is_group=True)
    ticket = whatsapp.tickets.create(contact=group)
    reply = reply_create(ticket=ticket, text="Bom dia!", user=agent)
    assert (reply.chat_id, reply.chat_identity, reply.is_group) == ("120363025246125888@g.us", "120363025246125888", True)


def test_a_person_who_never_wrote_is_answered_at_their_number_or_telegram_id(whatsapp, telegram, agent):
    person = ContactFactory(name="Maria", number="5511987654321", telegram_id="123456789")
    for channel, address in ((whatsapp, "5511987654321"), (telegram, "123456789")):
        reply = reply_create(ticket=channel.tickets.create(contact=person), text="Oi", user=agent)
        assert (reply.chat_id, reply.chat_identity) == (address, address)
    assert Message.objects.count() == 2
