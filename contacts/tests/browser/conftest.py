import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make around it are still plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
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
