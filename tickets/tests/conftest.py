import pytest

from contacts.tests.factories import ContactFactory
from tickets import media
from tickets.models import Channel

WHATSAPP_SECRET = "whatsapp-instance-key-0123456789"
TELEGRAM_SECRET = "telegram-secret_token-0123456789"
# The gateways' settings when a test serves them (`evolution`, `bot`).
INSTANCE = "vendas"
BOT_TOKEN = "123456:ABC-token"


@pytest.fixture
def whatsapp(db):
    """A WhatsApp channel whose gateway (Evolution API) is not configured."""
    return Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", address="+55 11 90000-0000", webhook_secret=WHATSAPP_SECRET)


@pytest.fixture
def telegram(db):
    return Channel.objects.create(kind="telegram", name="Bot Suporte", address="@suporte_bot", webhook_secret=TELEGRAM_SECRET)


@pytest.fixture(autouse=True)
def no_media_drain_queued_yet(monkeypatch):
    """Each test starts as a process that queued no drain of files yet
    (tickets.media._drain_soon)."""
    monkeypatch.setattr(media, "_drain_starts_at", None)


@pytest.fixture
def contact(agent_wallet):
    """Wallet A's contact, on WhatsApp and Telegram: the agent `ana` serves it."""
    return ContactFactory(name="Maria Souza", number="5511987654321", telegram_id="424242", wallet=agent_wallet)


@pytest.fixture
def evolution(httpserver, whatsapp):
    """The WhatsApp channel's gateway: a local HTTP server standing in for Evolution API."""
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = httpserver.url_for("/"), INSTANCE, "chave-da-instancia"
    whatsapp.save()
    return httpserver


@pytest.fixture
def bot(httpserver, telegram):
    """The Telegram channel's gateway: a local HTTP server standing in for the Bot API."""
    telegram.gateway_url, telegram.bot_token = httpserver.url_for("/"), BOT_TOKEN
    telegram.save()
    return httpserver
