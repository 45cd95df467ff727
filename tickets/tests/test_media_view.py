"""Files customers sent, served and shown: only to users who may see the
ticket (the contact's wallet), through the panel's own view; photos and
players in the page, everything else downloaded as an attachment that is
never sniffed into something that runs; what could not be fetched says
so, with "Tentar novamente"; locations and contact cards as links."""

import base64
import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from contacts.tests.factories import ContactFactory, UserFactory
from tickets.models import Message, MessageMedia, Ticket

from . import media_files, payloads
from .conftest import WHATSAPP_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(agent_wallet):
    return ContactFactory(name="Maria Souza", number="5511987654321", wallet=agent_wallet)


@pytest.fixture
def ticket(contact, whatsapp):
    return Ticket.objects.create(contact=contact, channel=whatsapp)


def message_with(ticket, *, kind="image", status="stored", data=b"", content_type="", file_name="", extension="bin", body="", **fields):
    message = Message.objects.create(
        channel=ticket.channel, external_id=f"m{Message.objects.count()}", chat_id="5511987654321@s.whatsapp.net",
        sent_at=timezone.now(), ticket=ticket, contact=ticket.contact, kind=Message.Kind.AUDIO if kind == "voice" else kind, body=body,
    )
    media = MessageMedia(message=message, kind=kind, status=status, content_type=content_type, file_name=file_name, size=len(data) or None, **fields)
    if data:
        media.file.save(f"file.{extension}", ContentFile(data), save=False)
    media.save()
    return media


def url(media):
    return reverse("tickets:media", args=[media.pk])


# Who may have the file --------------------------------------------------------


def test_the_agent_of_the_contacts_wallet_gets_the_photo_inline(agent_client, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    response = agent_client.get(url(media))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == media_files.photo()
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in response.get("Content-Disposition", "")
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "private, max-age=3600"


def test_an_administrator_sees_every_wallets_file(admin_client, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    assert admin_client.get(url(media)).status_code == 200


def test_an_anonymous_visitor_is_sent_to_log_in(client, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    response = client.get(url(media))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_another_wallets_agent_gets_404(client, other_agent, other_wallet, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    client.force_login(other_agent)
    assert client.get(url(media)).status_code == 404


def test_with_strict_wallets_an_agent_gets_no_file_of_a_contact_without_a_wallet(agent_client, contact, whatsapp, settings):
    contact.wallet = None
    contact.save()
    media = message_with(Ticket.objects.create(contact=contact, channel=whatsapp), data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    assert agent_client.get(url(media)).status_code == 200
    settings.CONTACTS_STRICT_WALLETS = True
    assert agent_client.get(url(media)).status_code == 404


def test_a_user_who_may_not_see_tickets_is_refused(client, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    client.force_login(UserFactory(username="sem-papel"))
    assert client.get(url(media)).status_code == 403


def test_a_file_not_stored_or_missing_from_storage_is_404(agent_client, ticket):
    pending = message_with(ticket, status="pending")
    assert agent_client.get(url(pending)).status_code == 404
    media = message_with(ticket, data=b"x" * 10, content_type="image/jpeg", extension="jpg")
    media.file.storage.delete(media.file.name)
    assert agent_client.get(url(media)).status_code == 404


def test_a_message_outside_any_ticket_is_nobodys_to_see(agent_client, admin_client, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    Message.objects.filter(pk=media.message_id).update(ticket=None)
    assert agent_client.get(url(media)).status_code == 404
    assert admin_client.get(url(media)).status_code == 404


# What downloads --------------------------------------------------------------------


def test_a_document_downloads_as_an_attachment_under_its_name(agent_client, ticket):
    media = message_with(ticket, kind="document", data=media_files.pdf(), content_type="application/pdf", file_name="boleto novembro.pdf", extension="pdf")
    response = agent_client.get(url(media))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment") and "boleto" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_html_named_jpg_downloads_as_bytes_never_as_a_page(agent_client, ticket):
    media = message_with(ticket, kind="image", data=media_files.HTML_PAGE, content_type="text/html", file_name="", extension="html")
    response = agent_client.get(url(media))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert f'<img src="{url(media)}"' not in page and f'href="{url(media)}"' in page


def test_an_svg_sticker_is_not_shown_in_the_page(agent_client, ticket):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    media = message_with(ticket, kind="sticker", data=svg, content_type="image/svg+xml", extension="svg")
    assert agent_client.get(url(media))["Content-Disposition"].startswith("attachment")
    assert f'<img src="{url(media)}"' not in agent_client.get(ticket.get_absolute_url()).content.decode()


# What the conversation shows -------------------------------------------------------


def test_the_conversation_shows_a_photo_as_a_thumbnail_that_opens_it(agent_client, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg", body="Segue o comprovante")
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert f'<a href="{url(media)}" target="_blank"' in page and f'<img src="{url(media)}"' in page
    assert "Segue o comprovante" in page


def test_the_conversation_plays_a_voice_note_with_its_duration(agent_client, ticket):
    media = message_with(ticket, kind="voice", data=media_files.voice_note(), content_type="audio/ogg", extension="ogg", duration=65)
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert f'<audio controls preload="metadata" src="{url(media)}">' in page
    assert "1:05" in page and "Mensagem de voz" in page


def test_the_conversation_plays_a_video(agent_client, ticket):
    media = message_with(ticket, kind="video", data=b"\x00\x00\x00\x18ftypmp42" + bytes(64), content_type="video/mp4", extension="mp4")
    assert f'src="{url(media)}" class="app-media-player"' in agent_client.get(ticket.get_absolute_url()).content.decode()


def test_the_conversation_offers_a_document_with_its_name_and_size(agent_client, ticket):
    media = message_with(ticket, kind="document", data=bytes(2048), content_type="application/pdf", file_name="contrato.pdf", extension="pdf")
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert f'<a href="{url(media)}" class="app-media-download" download>' in page
    assert "contrato.pdf" in page and "2,0\xa0KB" in page


def test_a_file_too_large_says_so_and_keeps_its_caption(agent_client, ticket):
    message_with(ticket, kind="video", status="too_large", body="vídeo da instalação")
    MessageMedia.objects.update(size=2 * 1024**3)
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "Grande demais para guardar no painel (2,0\xa0GB)." in page and "vídeo da instalação" in page


def test_a_file_no_longer_on_the_gateway_says_so(agent_client, ticket):
    message_with(ticket, kind="image", status="gone", body="nota fiscal")
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "Não está mais disponível no gateway." in page and "nota fiscal" in page
    assert "Tentar novamente" not in page


def test_a_failed_download_can_be_tried_again(agent_client, ticket, httpserver, django_capture_on_commit_callbacks):
    channel = ticket.channel
    channel.gateway_url, channel.instance, channel.api_key = httpserver.url_for("/"), "vendas", "k"
    channel.save()
    media = message_with(ticket, kind="image", status="failed", attempts=5, error="The gateway did not answer in time.", source={"key": {"id": "m0"}})
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "Não foi possível baixar." in page and "Tentar novamente" in page
    answer = {"base64": base64.b64encode(media_files.photo()).decode()}
    httpserver.expect_request("/chat/getBase64FromMediaMessage/vendas").respond_with_json(answer)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("tickets:media_retry", args=[media.pk]))
    assert response.status_code == 302
    media.refresh_from_db()
    assert (media.status, media.attempts, media.content_type) == ("stored", 1, "image/jpeg")


def test_another_wallets_agent_cannot_retry_a_download(client, other_agent, other_wallet, ticket):
    media = message_with(ticket, kind="image", status="failed", attempts=5)
    client.force_login(other_agent)
    assert client.post(reverse("tickets:media_retry", args=[media.pk])).status_code == 404
    assert MessageMedia.objects.get().status == "failed"


def test_a_stored_file_is_not_fetched_again(agent_client, ticket):
    media = message_with(ticket, data=media_files.photo(), content_type="image/jpeg", extension="jpg")
    agent_client.post(reverse("tickets:media_retry", args=[media.pk]))
    media.refresh_from_db()
    assert media.status == "stored"


def test_a_fetch_that_never_finished_can_be_asked_for_again(agent_client, ticket):
    media = message_with(ticket, kind="image", status="pending", attempts=1)
    MessageMedia.objects.update(updated_at=timezone.now() - timedelta(hours=3))
    assert "Tentar novamente" in agent_client.get(ticket.get_absolute_url()).content.decode()
    media.refresh_from_db()
    assert media.can_retry


# Locations and contact cards --------------------------------------------------------


def post_event(client, channel, payload):
    response = client.post(reverse("tickets:webhook", args=[channel.pk]), json.dumps(payload), content_type="application/json")
    assert response.status_code == 200


def test_a_location_links_to_a_map(agent_client, contact, whatsapp):
    location = {"locationMessage": {"degreesLatitude": -23.5613, "degreesLongitude": -46.6565, "name": "Loja Paulista", "address": "Av. Paulista, 1000"}}
    post_event(agent_client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message=location, message_type="locationMessage"))
    message = Message.objects.get()
    assert message.details["location"]["latitude"] == -23.5613
    page = agent_client.get(message.ticket.get_absolute_url()).content.decode()
    assert "https://www.google.com/maps/search/?api=1&amp;query=-23.5613000,-46.6565000" in page
    assert "Loja Paulista" in page and "Av. Paulista, 1000" in page


def test_a_contact_card_shows_its_number_and_adds_it(agent_client, contact, whatsapp):
    vcard = "BEGIN:VCARD\nVERSION:3.0\nN:;João Pereira;;;\nFN:João Pereira\nitem1.TEL;waid=5521912345678:+55 21 91234-5678\nitem1.X-ABLabel:Celular\nEND:VCARD"
    card = {"contactMessage": {"displayName": "João Pereira", "vcard": vcard}}
    post_event(agent_client, whatsapp, payloads.upsert(WHATSAPP_SECRET, message=card, message_type="contactMessage"))
    message = Message.objects.get()
    assert message.details == {"contacts": [{"name": "João Pereira", "phones": [{"phone": "+55 21 91234-5678", "number": "5521912345678"}]}]}
    page = agent_client.get(message.ticket.get_absolute_url()).content.decode()
    add = reverse("contacts:create") + "?name=Jo%C3%A3o%20Pereira&amp;number=5521912345678"
    assert add in page and "Adicionar contato" in page
    form = agent_client.get(reverse("contacts:create") + "?name=Jo%C3%A3o%20Pereira&number=5521912345678").content.decode()
    assert 'value="João Pereira"' in form and "5521912345678" in form.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace("+", "")


def test_a_telegram_location_and_contact_are_read_too(telegram):
    venue = payloads.telegram_update(text=None, venue={"location": {"latitude": -22.9, "longitude": -43.2}, "title": "Escritório", "address": "Rua A, 1"})
    contact = payloads.telegram_update(text=None, contact={"phone_number": "+5511987654321", "first_name": "Ana"})
    (place,) = telegram.provider.parse(venue).messages
    (card,) = telegram.provider.parse(contact).messages
    assert place.details == {"location": {"latitude": -22.9, "longitude": -43.2, "name": "Escritório", "address": "Rua A, 1"}}
    assert card.details == {"contacts": [{"name": "Ana", "phones": [{"phone": "+55 11 98765-4321", "number": "5511987654321"}]}]}


def test_coordinates_off_the_globe_are_no_location(whatsapp):
    location = {"locationMessage": {"degreesLatitude": 123.0, "degreesLongitude": 10.0}}
    (message,) = whatsapp.provider.parse(payloads.upsert(WHATSAPP_SECRET, message=location, message_type="locationMessage")).messages
    assert message.details is None and message.kind == "location"


# In parts: what the players ask for ----------------------------------------------


def test_a_player_gets_the_part_of_the_file_it_asks_for(agent_client, ticket):
    ogg = media_files.voice_note()
    media = message_with(ticket, kind="voice", data=ogg, content_type="audio/ogg", extension="ogg")
    whole = agent_client.get(url(media))
    assert (whole.status_code, whole["Accept-Ranges"], whole["Content-Length"]) == (200, "bytes", str(len(ogg)))
    part = agent_client.get(url(media), headers={"Range": "bytes=10-29"})
    assert (part.status_code, part["Content-Range"], part["Content-Length"]) == (206, f"bytes 10-29/{len(ogg)}", "20")
    assert b"".join(part.streaming_content) == ogg[10:30]
    assert part["X-Content-Type-Options"] == "nosniff" and part["Content-Type"] == "audio/ogg"
    end = agent_client.get(url(media), headers={"Range": "bytes=-100"})
    assert b"".join(end.streaming_content) == ogg[-100:]
    rest = agent_client.get(url(media), headers={"Range": f"bytes={len(ogg) - 5}-"})
    assert b"".join(rest.streaming_content) == ogg[-5:]


def test_a_range_beyond_the_file_is_refused_and_several_ranges_get_the_whole_file(agent_client, ticket):
    ogg = media_files.voice_note()
    media = message_with(ticket, kind="voice", data=ogg, content_type="audio/ogg", extension="ogg")
    beyond = agent_client.get(url(media), headers={"Range": f"bytes={len(ogg)}-"})
    assert (beyond.status_code, beyond["Content-Range"]) == (416, f"bytes */{len(ogg)}")
    several = agent_client.get(url(media), headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and b"".join(several.streaming_content) == ogg
    garbled = agent_client.get(url(media), headers={"Range": "bytes=9-3"})
    assert garbled.status_code == 200


def test_a_part_of_a_document_still_downloads_as_an_attachment(agent_client, ticket):
    media = message_with(ticket, kind="document", data=media_files.pdf(), content_type="application/pdf", file_name="boleto.pdf", extension="pdf")
    part = agent_client.get(url(media), headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part["Content-Disposition"].startswith("attachment")
    assert b"".join(part.streaming_content) == b"%PDF"


def test_another_wallets_agent_gets_no_part_either(client, other_agent, other_wallet, ticket):
    media = message_with(ticket, kind="voice", data=media_files.voice_note(), content_type="audio/ogg", extension="ogg")
    client.force_login(other_agent)
    assert client.get(url(media), headers={"Range": "bytes=0-10"}).status_code == 404
