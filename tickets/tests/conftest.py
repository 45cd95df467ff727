import pytest

from tickets import media
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


@pytest.fixture(autouse=True)
def no_media_drain_queued_yet(monkeypatch):
    """Each test starts as a process that queued no drain of files yet
    (tickets.media._drain_soon)."""
    monkeypatch.setattr(media, "_drain_starts_at", None)
