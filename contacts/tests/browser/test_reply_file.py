"""Replying with a file in a real browser: attach a photo with the
paperclip, see its name, send it with a caption; paste a screenshot into
the reply box and send it. The gateway is a local HTTP server speaking
Evolution API. (Beside the other browser tests for their session-wide
browser.)"""

import base64
import json

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect
from werkzeug import Request, Response

from contacts.tests.browser.conftest import ARTIFACTS, whatsapp_channel
from contacts.tests.browser.test_panel import log_in
from contacts.tests.browser.test_panel_ux import axe_violations
from contacts.tests.factories import ContactFactory, UserFactory, WalletFactory
from tickets.models import Message, Ticket
from tickets.tests import media_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def ticket(httpserver, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    admin = UserFactory(username="admin", first_name="Alice", is_staff=True)
    admin.groups.add(Group.objects.get(name="Administrators"))
    maria = ContactFactory(name="Maria Souza", number="5511987654321", wallet=WalletFactory(name="Carteira Alice", user=admin))
    return Ticket.objects.create(contact=maria, channel=whatsapp_channel(httpserver), user=admin)


def send_media(httpserver, message_id: str) -> list[dict]:
    """sendMedia answering as Evolution API does; what it was sent."""
    received = []

    def answer(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        key = {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": message_id}
        return Response(json.dumps({"key": key, "status": "PENDING"}), status=201, content_type="application/json")

    httpserver.expect_oneshot_request("/message/sendMedia/vendas", method="POST").respond_with_handler(answer)
    return received


def test_attach_a_photo_see_its_name_and_send_it_with_a_caption_then_paste_a_screenshot(
    page, live_server, ticket, httpserver, screenshot, csp_violations
):
    photo = media_files.photo()
    received = send_media(httpserver, "3EB0BROWSERFILE1")
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page)
    page.goto(ticket.get_absolute_url())

    # The browser's own file box stays out of sight: the paperclip opens it.
    expect(page.locator(".app-reply-attach-button")).to_be_visible()
    assert page.locator("input[data-reply-file]").bounding_box()["width"] <= 1
    page.set_input_files("input[data-reply-file]", files=[{"name": "comprovante.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    shown = page.locator("[data-reply-file-shown]")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("comprovante.jpg · ")
    page.fill("#id_text", "Segue o comprovante")
    page.locator("#id_text").focus()
    screenshot("reply-file-01-attached")
    assert axe_violations(page) == []

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".app-reply-attach-button")).to_be_visible()
    expect(page.locator(".app-reply button[type=submit]")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS)
    screenshot("reply-file-02-attached-phone")
    page.set_viewport_size({"width": 1366, "height": 900})

    page.press("#id_text", "Enter")
    expect(page.locator(".app-message-ours")).to_contain_text("Segue o comprovante")
    # The agent sees the photo sent, like the ones customers send.
    thumbnail = page.locator(".app-message-ours .app-media-thumb img")
    expect(thumbnail).to_have_count(1)
    page.wait_for_function("() => document.querySelector('.app-message-ours .app-media-thumb img').naturalWidth === 320")
    expect(page.locator("[data-reply-file-shown]")).to_be_hidden()
    assert base64.b64decode(received[0]["media"]) == photo
    assert (received[0]["mediatype"], received[0]["fileName"], received[0]["caption"]) == ("image", "comprovante.jpg", "Segue o comprovante")
    message = Message.objects.get()
    assert (message.delivery, message.media.kind, message.media.size) == ("sent", "image", len(photo))

    # "Remover" takes a chosen file back.
    page.set_input_files("input[data-reply-file]", files=[{"name": "boleto.pdf", "mimeType": "application/pdf", "buffer": media_files.pdf()}])
    page.click("[data-reply-file-clear]")
    expect(page.locator("[data-reply-file-shown]")).to_be_hidden()
    assert page.evaluate("document.querySelector('input[data-reply-file]').files.length") == 0

    # A screenshot pasted into the box is attached; Enter sends it alone.
    pasted = send_media(httpserver, "3EB0BROWSERFILE2")
    png = media_files.photo()  # any image: its bytes decide how it goes
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
            const box = document.querySelector("#id_text");
            box.focus();
            box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
        }""",
        base64.b64encode(png).decode(),
    )
    expect(page.locator("[data-reply-file-shown]")).to_contain_text("imagem-colada.png")
    screenshot("reply-file-03-pasted")
    page.press("#id_text", "Enter")
    expect(page.locator(".app-message-ours")).to_have_count(2)
    assert base64.b64decode(pasted[0]["media"]) == png
    # The bytes are a JPEG: it goes as one, whatever the clipboard called it.
    assert (pasted[0]["mediatype"], pasted[0]["mimetype"], pasted[0]["fileName"]) == ("image", "image/jpeg", "imagem-colada.jpg")
    assert csp_violations == []


def test_without_javascript_the_reply_box_is_a_plain_form_that_sends_a_file(browser, live_server, ticket, httpserver, csp_violations):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    received = send_media(httpserver, "3EB0NOSCRIPT")
    log_in(page)
    page.goto(ticket.get_absolute_url())
    # The browser's own file box; the paperclip needs the script.
    expect(page.locator("input[data-reply-file]")).to_be_visible()
    expect(page.locator(".app-reply-attach-button")).to_be_hidden()
    expect(page.get_by_label("Anexar arquivo")).to_have_count(1)
    assert page.evaluate(NO_SIDEWAYS)
    page.set_input_files("input[data-reply-file]", files=[{"name": "boleto.pdf", "mimeType": "application/pdf", "buffer": media_files.pdf()}])
    page.fill("#id_text", "Segue o boleto")
    page.screenshot(path=str(ARTIFACTS / "reply-file-04-no-javascript-phone.png"), caret="initial")
    page.click(".app-reply button[type=submit]")
    expect(page.locator(".app-message-ours")).to_contain_text("Segue o boleto")
    expect(page.locator(".app-message-ours")).to_contain_text("boleto.pdf")
    assert (received[0]["mediatype"], received[0]["fileName"]) == ("document", "boleto.pdf")
    assert base64.b64decode(received[0]["media"]) == media_files.pdf()
    context.close()
