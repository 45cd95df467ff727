import pytest

from tickets.models import Channel

WHATSAPP_SECRET = "whatsapp-instance-key-0123456789"
TELEGRAM_SECRET = "telegram-secret_token-0123456789"


@pytest.fixture
def whatsapp(db):
    """A WhatsApp channel whose gateway (Evolution API) is not configured."""
    return Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", address="+55 11 90000-0000", webhook_secret=WHATSAPP_SECRET)


@pytest.fixture
def telegram(db):
    return Channel.objects.create(kind="telegram", name="Bot Suporte", address="@suporte_bot", webhook_secret=TELEGRAM_SECRET)
