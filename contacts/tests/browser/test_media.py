"""What customers send, in a real browser: a voice note plays (its audio
element reports its duration), a photo shows and opens full size, a
document downloads, a location links to the map, a contact card offers
"Adicionar contato", a video too large says so; at a desk's width and a
phone's. The gateway is a local HTTP server speaking Evolution API.

It lives here, beside the contacts panel's browser tests, for their
session-wide browser (see test_tickets.py)."""

import base64

import pytest
from playwright.sync_api import expect

from contacts.tests.browser.conftest import deliver
from contacts.tests.browser.test_panel import log_in
from contacts.tests.browser.test_panel_ux import axe_violations
from tickets.models import MessageMedia, Ticket
from tickets.tests import media_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
BASE64_PATH = "/chat/getBase64FromMediaMessage/vendas"


def answers(gateway, message_id, data):
    gateway.expect_request(BASE64_PATH, json={"message": {"key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": False, "id": message_id}, "message": gateway_content[message_id]}, "convertToMp4": False}).respond_with_json(
        {"base64": base64.b64encode(data).decode()}
    )


gateway_content = {
    "3EB0VOICE": {"audioMessage": {"mimetype": "audio/ogg; codecs=opus", "seconds": 3, "ptt": True}},
    "3EB0PHOTO": {"imageMessage": {"mimetype": "image/jpeg", "caption": "Segue o comprovante do pagamento"}},
    "3EB0DOC": {"documentMessage": {"mimetype": "application/pdf", "fileName": "boleto-novembro.pdf"}},
}


def test_a_voice_note_plays_and_a_photo_shows(page, live_server, desk, screenshot, csp_violations):
    channel, gateway = desk["channel"], desk["gateway"]
    files = {"3EB0VOICE": media_files.voice_note(), "3EB0PHOTO": media_files.photo(), "3EB0DOC": media_files.pdf()}
    for message_id, data in files.items():
        answers(gateway, message_id, data)
        (name, content), = gateway_content[message_id].items()
        deliver(live_server, channel, message_id=message_id, message={name: content}, message_type=name)
    deliver(live_server, channel, message_id="3EB0PLACE", message={"locationMessage": {"degreesLatitude": -23.5613, "degreesLongitude": -46.6565, "name": "Loja Paulista", "address": "Av. Paulista, 1000 - São Paulo"}}, message_type="locationMessage")
    vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:João Pereira\nitem1.TEL;waid=5521912345678:+55 21 91234-5678\nEND:VCARD"
    deliver(live_server, channel, message_id="3EB0CARD", message={"contactMessage": {"displayName": "João Pereira", "vcard": vcard}}, message_type="contactMessage")
    deliver(live_server, channel, message_id="3EB0VIDEO", message={"videoMessage": {"caption": "Vídeo da instalação", "fileLength": str(2 * 1024**3), "seconds": 95}}, message_type="videoMessage")
    assert dict(MessageMedia.objects.values_list("kind", "status")) == {"voice": "stored", "image": "stored", "document": "stored", "video": "too_large"}

    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page)
    page.goto(Ticket.objects.get().get_absolute_url())

    # The voice note: the player knows its length, and plays.
    audio = page.locator(".app-media-voice audio")
    expect(audio).to_have_count(1)
    page.wait_for_function("() => document.querySelector('.app-media-voice audio').duration > 0", timeout=10_000)
    duration = audio.evaluate("element => element.duration")
    assert 2.9 <= duration <= 3.1, duration
    expect(page.locator(".app-media-voice")).to_contain_text("0:03")
    page.locator("h1").click()  # a user's gesture, which lets the page start audio
    audio.evaluate("element => element.play()")
    page.wait_for_function("() => document.querySelector('.app-media-voice audio').currentTime > 0.2", timeout=10_000)
    audio.evaluate("element => element.pause()")

    # The photo: a thumbnail of the real image, which opens it full size.
    photo = page.locator(".app-media-image img")
    expect(photo).to_be_visible()
    page.wait_for_function("() => document.querySelector('.app-media-image img').naturalWidth === 320")
    expect(page.locator("#conversation")).to_contain_text("Segue o comprovante do pagamento")
    with page.context.expect_page() as opened:
        photo.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url == f"{live_server.url}{MessageMedia.objects.get(kind='image').get_absolute_url()}"
    assert full.evaluate("document.images.length === 1 && document.images[0].naturalWidth === 320")
    full.close()

    # The document downloads under its name; the place and the card link out.
    expect(page.locator(".app-media-download")).to_contain_text("boleto-novembro.pdf")
    with page.expect_download() as download:
        page.locator(".app-media-download").click()
    assert download.value.suggested_filename == "boleto-novembro.pdf"
    expect(page.locator(".app-media-location a")).to_have_attribute("href", "https://www.google.com/maps/search/?api=1&query=-23.5613000,-46.6565000")
    expect(page.locator(".app-media-cards")).to_contain_text("+55 21 91234-5678")
    expect(page.locator(".app-media-cards a")).to_have_text("Adicionar contato")
    expect(page.locator(".app-media-video")).to_contain_text("Grande demais para guardar no painel (2,0 GB).")
    expect(page.locator("#conversation")).to_contain_text("Vídeo da instalação")
    page.locator("#conversation").evaluate("element => element.scrollTop = -element.scrollHeight")
    screenshot("media-01-conversation-desk")
    assert axe_violations(page) == []
    page.locator("#conversation").evaluate("element => element.scrollTop = 0")
    screenshot("media-02-conversation-desk-end")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_function("() => document.querySelector('.app-media-voice audio').duration > 0")
    assert page.evaluate(NO_SIDEWAYS)
    page.locator("#conversation").evaluate("element => element.scrollTop = -element.scrollHeight")
    screenshot("media-03-conversation-phone")
    page.locator("#conversation").evaluate("element => element.scrollTop = 0")
    screenshot("media-04-conversation-phone-end")
    assert csp_violations == []
