import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import Group

from contacts.tests.factories import ContactFactory, UserFactory, WalletFactory
from tickets.models import Channel
from tickets.tests import payloads

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make around it are still plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
#: The webhook secret of the desks' WhatsApp channel.
SECRET = "segredo-do-webhook-0123456789"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path():
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if not executable:
        message = "Chromium is not installed (apt-get install -y chromium): browser tests skipped."
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 860}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name):
        # caret="initial": hiding the caret leaves style="" on every input, which
        # htmx then copies while settling and the Content-Security-Policy refuses.
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False, caret="initial")

    return take


@pytest.fixture
def csp_violations(page):
    """Every Content-Security-Policy refusal the page, or a popup window it
    opens, meets, as text: the `securitypolicyviolation` events and
    Chromium's "Refused to …"/"… violates the following Content Security
    Policy …" console errors. A test asserts the list is empty."""
    violations = []
    context = page.context
    context.expose_function("reportCspViolation", lambda text: violations.append(text))
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (event) => window.reportCspViolation("
        "`${event.violatedDirective} refused ${event.blockedURI || 'inline'} at "
        "${event.sourceFile}:${event.lineNumber}:${event.columnNumber} ${event.sample}`.trim()));"
    )

    def on_console(message):
        if message.text.startswith("Refused to") or "Content Security Policy" in message.text:
            violations.append(message.text)

    context.on("console", on_console)
    return violations


@pytest.fixture
def desk(httpserver, settings):
    """Alice, an administrator, with Maria and João in her wallet, and a
    WhatsApp channel whose gateway is a local HTTP server speaking Evolution API."""
    # Jobs (a sync, a file's fetch) run as soon as they are enqueued, where production has a worker.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "media"]}}
    admin = UserFactory(username="admin", first_name="Alice", is_staff=True)
    admin.groups.add(Group.objects.get(name="Administrators"))
    wallet = WalletFactory(name="Carteira Alice", user=admin)
    maria = ContactFactory(name="Maria Souza", number="5511987654321", wallet=wallet)
    ContactFactory(name="João da Silva", number="5521912340000", wallet=wallet)
    return {"admin": admin, "maria": maria, "channel": whatsapp_channel(httpserver), "gateway": httpserver}


def whatsapp_channel(gateway) -> Channel:
    """The desks' WhatsApp channel, its gateway (Evolution API) the local HTTP server `gateway`."""
    return Channel.objects.create(
        kind="whatsapp",
        name="WhatsApp Vendas",
        webhook_secret=SECRET,
        gateway_url=gateway.url_for("/"),
        instance="vendas",
        api_key="chave-da-instancia",
    )


def deliver(live_server, channel, **fields):
    """The gateway posting a message to the webhook, as Evolution API does."""
    fields.setdefault("timestamp", int(time.time()))
    url = f"{live_server.url}/tickets/webhook/{channel.pk}/"
    response = httpx.post(url, content=json.dumps(payloads.upsert(SECRET, **fields)), headers={"Content-Type": "application/json"})
    assert response.status_code == 200


def sent(message_id, text):
    """Evolution API's answer to sendText: the message, pending."""
    return {
        "key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": message_id},
        "message": {"conversation": text},
        "status": "PENDING",
    }
