"""Replying with a file: the reply box takes a photo, a voice note, a
video, a document (or a pasted image), stores it as the message's media
and sends it through a local HTTP server standing in for the gateway
(Evolution API's sendMedia and sendWhatsAppAudio, the Bot API's sendPhoto,
sendDocument, sendVoice...), with the text replies' failure and retry
rules. Its type comes from its bytes; what is empty, too large or not
sendable is refused with a message, and nothing is stored or sent."""

import base64
import json
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from werkzeug import Request, Response

from contacts.tests.factories import UserFactory
from tickets.models import Message, MessageMedia, Ticket

from . import media_files, payloads
from .conftest import BOT_TOKEN, INSTANCE, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SEND_MEDIA = f"/message/sendMedia/{INSTANCE}"
SEND_AUDIO = f"/message/sendWhatsAppAudio/{INSTANCE}"
BOT = f"/bot{BOT_TOKEN}"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test's own storage, to tell what it stored."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [path for path in Path(root).rglob("*") if path.is_file()]


@pytest.fixture
def ticket(contact, whatsapp, agent):
    return Ticket.objects.create(contact=contact, channel=whatsapp, user=agent)


@pytest.fixture
def telegram_ticket(contact, telegram, agent):
    return Ticket.objects.create(contact=contact, channel=telegram, user=agent)


def sent(message_id: str = "3EB0MEDIA0000000001") -> dict:
    """Evolution API's answer to sendMedia and sendWhatsAppAudio."""
    return {"key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": True, "id": message_id}, "status": "PENDING", "messageTimestamp": 1764079600}


def telegram_sent(message_id: int = 777) -> dict:
    return {"ok": True, "result": {"message_id": message_id, "chat": {"id": 424242, "type": "private"}, "date": 1764079600}}


class Recorder:
    """A gateway endpoint that keeps what it was sent: the JSON body, or
    the multipart form and its files."""

    def __init__(self, answer, status: int = 200):
        self.answer, self.status, self.requests = answer, status, []

    def __call__(self, request: Request) -> Response:
        if request.mimetype == "application/json":
            self.requests.append({"json": json.loads(request.get_data()), "headers": dict(request.headers)})
        else:
            files = {name: (file.filename, file.mimetype, file.read()) for name, file in request.files.items()}
            self.requests.append({"form": request.form.to_dict(), "files": files})
        return Response(json.dumps(self.answer), status=self.status, content_type="application/json")


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type)


def reply(client, ticket, *, file=None, text: str = "", htmx: bool = True):
    data = {"text": text}
    if file is not None:
        data["file"] = file
    return client.post(reverse("tickets:reply", args=[ticket.pk]), data, headers=HTMX if htmx else {})


def nothing_stored(root):
    assert not Message.objects.exists()
    assert not MessageMedia.objects.exists()
    assert stored_files(root) == []


# WhatsApp (Evolution API) -----------------------------------------------------


def test_a_photo_goes_out_through_evolution_send_media_and_is_kept_as_the_messages_media(
    agent_client, agent, ticket, evolution, media_root
):
    jpeg = media_files.photo()
    endpoint = Recorder(sent())
    evolution.expect_request(SEND_MEDIA, method="POST", headers={"apikey": "chave-da-instancia"}).respond_with_handler(endpoint)

    response = reply(agent_client, ticket, file=upload("comprovante.jpg", jpeg, "image/jpeg"), text="Segue o comprovante")

    assert response.status_code == 200
    asked = endpoint.requests[0]["json"]
    assert base64.b64decode(asked.pop("media")) == jpeg
    assert asked == {
        "number": "5511987654321",
        "mediatype": "image",
        "mimetype": "image/jpeg",
        "fileName": "comprovante.jpg",
        "caption": "Segue o comprovante",
    }
    message = Message.objects.get()
    assert (message.kind, message.body, message.delivery, message.external_id, message.sent_by, message.from_me) == (
        "image", "Segue o comprovante", "sent", "3EB0MEDIA0000000001", agent, True
    )
    media = message.media
    assert (media.kind, media.status, media.content_type, media.size, media.file_name) == (
        "image", "stored", "image/jpeg", len(jpeg), "comprovante.jpg"
    )
    with media.file.open("rb") as stored:
        assert stored.read() == jpeg
    # Stored under a random name, never the agent's.
    assert media.file.name.startswith("messages/") and media.file.name.endswith(".jpg") and "comprovante" not in media.file.name
    assert stored_files(media_root) == [Path(media.file.path)]
    assert "Segue o comprovante" in response.content.decode()


def test_a_pdf_goes_as_a_document_with_its_name_and_without_a_caption(agent_client, ticket, evolution):
    endpoint = Recorder(sent())
    evolution.expect_request(SEND_MEDIA, method="POST").respond_with_handler(endpoint)
    response = reply(agent_client, ticket, file=upload("Boleto março.pdf", media_files.pdf(), "application/pdf"), htmx=False)
    assert response.status_code == 302
    asked = endpoint.requests[0]["json"]
    assert (asked["mediatype"], asked["mimetype"], asked["fileName"], "caption" in asked) == (
        "document", "application/pdf", "Boleto março.pdf", False
    )
    assert base64.b64decode(asked["media"]) == media_files.pdf()
    message = Message.objects.get()
    assert (message.kind, message.body, message.delivery, message.media.kind) == ("document", "", "sent", "document")


def test_an_ogg_opus_file_goes_as_a_voice_note_through_send_whatsapp_audio(agent_client, ticket, evolution):
    ogg = media_files.voice_note()
    endpoint = Recorder(sent("3EB0VOICE"))
    evolution.expect_request(SEND_AUDIO, method="POST").respond_with_handler(endpoint)
    reply(agent_client, ticket, file=upload("audio.ogg", ogg, "audio/ogg"))
    asked = endpoint.requests[0]["json"]
    assert asked["number"] == "5511987654321" and base64.b64decode(asked["audio"]) == ogg
    message = Message.objects.get()
    assert (message.kind, message.external_id, message.delivery, message.media.kind, message.media.content_type) == (
        "audio", "3EB0VOICE", "sent", "voice", "audio/ogg"
    )


def test_an_mp3_goes_as_an_audio_and_an_mp4_as_a_video_through_send_media(agent_client, ticket, evolution):
    endpoint = Recorder(sent())
    evolution.expect_request(SEND_MEDIA, method="POST").respond_with_handler(endpoint)
    reply(agent_client, ticket, file=upload("explicacao.mp3", media_files.mp3()))
    endpoint.answer = sent("3EB0VIDEO")
    reply(agent_client, ticket, file=upload("tutorial.mp4", media_files.mp4_header()), text="Veja o passo a passo")
    audio, video = (request["json"] for request in endpoint.requests)
    assert (audio["mediatype"], audio["mimetype"], audio["fileName"]) == ("audio", "audio/mpeg", "explicacao.mp3")
    assert (video["mediatype"], video["mimetype"], video["caption"]) == ("video", "video/mp4", "Veja o passo a passo")
    assert list(Message.objects.order_by("pk").values_list("kind", "media__kind", "delivery")) == [
        ("audio", "audio", "sent"), ("video", "video", "sent")
    ]


def test_a_caption_under_an_audio_on_whatsapp_is_refused_and_nothing_is_stored(agent_client, ticket, evolution, media_root):
    response = reply(agent_client, ticket, file=upload("audio.ogg", media_files.voice_note()), text="Ouça")
    assert "WhatsApp não mostra legenda em áudio" in response.content.decode()
    assert evolution.log == []
    nothing_stored(media_root)


def test_a_failed_send_keeps_the_file_says_why_and_try_again_sends_the_same_file(agent_client, ticket, evolution):
    jpeg = media_files.photo()
    evolution.expect_oneshot_request(SEND_MEDIA).respond_with_response(
        Response('{"status":500,"error":"Internal Server Error","response":{"message":"Connection Closed"}}', status=500)
    )
    response = reply(agent_client, ticket, file=upload("foto.jpg", jpeg), text="Foto")
    content = response.content.decode()
    assert "Não enviada: O gateway respondeu com o erro 500. (Connection Closed)" in content
    assert "Tentar novamente" in content
    message = Message.objects.get()
    assert (message.delivery, message.media.status) == ("failed", "stored")

    endpoint = Recorder(sent("3EB0RETRIED"))
    evolution.expect_oneshot_request(SEND_MEDIA).respond_with_handler(endpoint)
    response = agent_client.post(reverse("tickets:retry", args=[message.pk]), headers=HTMX)
    message.refresh_from_db()
    assert (message.delivery, message.external_id, message.error) == ("sent", "3EB0RETRIED", "")
    assert base64.b64decode(endpoint.requests[0]["json"]["media"]) == jpeg
    assert endpoint.requests[0]["json"]["caption"] == "Foto"
    assert "Não enviada" not in response.content.decode()
    assert MessageMedia.objects.count() == 1


def test_a_gateway_that_is_down_leaves_the_file_reply_failed_without_javascript_too(agent_client, ticket, whatsapp):
    whatsapp.gateway_url, whatsapp.instance, whatsapp.api_key = "http://127.0.0.1:9", INSTANCE, "chave"
    whatsapp.save()
    response = reply(agent_client, ticket, file=upload("foto.jpg", media_files.photo()), htmx=False)
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.delivery == "failed" and message.error == "Não foi possível falar com o gateway (ConnectError)."
    page = agent_client.get(response.url).content.decode()
    assert "A resposta não foi enviada: Não foi possível falar com o gateway (ConnectError)." in page


def test_a_reply_whose_stored_file_is_gone_fails_with_a_reason_instead_of_an_error_page(agent_client, ticket, evolution):
    evolution.expect_oneshot_request(SEND_MEDIA).respond_with_response(Response("{}", status=502))
    reply(agent_client, ticket, file=upload("foto.jpg", media_files.photo()))
    message = Message.objects.get()
    os.remove(message.media.file.path)
    response = agent_client.post(reverse("tickets:retry", args=[message.pk]), headers=HTMX)
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.delivery == "failed" and "não pôde ser lido do armazenamento" in message.error


def test_the_echo_of_a_sent_file_is_not_stored_as_a_second_message(agent_client, client, ticket, evolution):
    evolution.expect_request(SEND_MEDIA).respond_with_handler(Recorder(sent("3EB0ECHOED")))
    reply(agent_client, ticket, file=upload("foto.jpg", media_files.photo()))
    image = {"imageMessage": {"url": "https://mmg.whatsapp.net/x.enc", "mimetype": "image/jpeg", "mediaKey": "c2VjcmV0"}}
    echo = payloads.evolution(
        "send.message",
        payloads.whatsapp_message(from_me=True, message_id="3EB0ECHOED", message=image, message_type="imageMessage"),
        apikey=WHATSAPP_SECRET,
    )
    client.post(reverse("tickets:webhook", args=[ticket.channel.pk]), json.dumps(echo), content_type="application/json")
    assert Message.objects.count() == 1 and MessageMedia.objects.count() == 1


def test_a_web_page_named_jpg_goes_as_a_document_named_html_never_as_a_photo(agent_client, ticket, evolution):
    endpoint = Recorder(sent())
    evolution.expect_request(SEND_MEDIA).respond_with_handler(endpoint)
    reply(agent_client, ticket, file=upload("recibo.jpg", media_files.HTML_PAGE, "image/jpeg"))
    asked = endpoint.requests[0]["json"]
    assert (asked["mediatype"], asked["mimetype"], asked["fileName"]) == ("document", "text/html", "recibo.html")
    media = MessageMedia.objects.get()
    assert (media.kind, media.content_type, media.message.kind) == ("document", "text/html", "document")
    assert media.file.name.endswith(".html")


def test_a_zip_bomb_named_docx_goes_as_a_document_unopened(agent_client, ticket, evolution):
    bomb = media_files.zip_bomb(20)
    endpoint = Recorder(sent())
    evolution.expect_request(SEND_MEDIA).respond_with_handler(endpoint)
    reply(agent_client, ticket, file=upload("contrato.docx", bomb))
    asked = endpoint.requests[0]["json"]
    assert asked["mediatype"] == "document" and asked["fileName"] == "contrato.docx"
    assert base64.b64decode(asked["media"]) == bomb
    assert MessageMedia.objects.get().size == len(bomb)


# Telegram ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "method", "field", "media_kind", "message_kind"),
    [
        ("foto.jpg", media_files.photo(), "sendPhoto", "photo", "image", "image"),
        ("boleto.pdf", media_files.pdf(), "sendDocument", "document", "document", "document"),
        ("audio.ogg", media_files.voice_note(), "sendVoice", "voice", "voice", "audio"),
        ("musica.mp3", media_files.mp3(), "sendAudio", "audio", "audio", "audio"),
        ("video.mp4", media_files.mp4_header(), "sendVideo", "video", "video", "video"),
    ],
)
def test_a_file_goes_out_through_the_bot_api_as_a_multipart_upload(
    agent_client, telegram_ticket, bot, name, data, method, field, media_kind, message_kind
):
    endpoint = Recorder(telegram_sent(777))
    bot.expect_request(f"{BOT}/{method}", method="POST").respond_with_handler(endpoint)
    response = reply(agent_client, telegram_ticket, file=upload(name, data), text="Segue")
    assert response.status_code == 200
    asked = endpoint.requests[0]
    assert asked["form"] == {"chat_id": "424242", "caption": "Segue"}
    assert asked["files"][field][0] == name and asked["files"][field][2] == data
    message = Message.objects.get()
    assert (message.kind, message.external_id, message.delivery, message.media.kind) == (message_kind, "424242:777", "sent", media_kind)


def test_telegram_refusing_a_file_leaves_it_failed_and_try_again_sends_it(agent_client, telegram_ticket, bot):
    bot.expect_oneshot_request(f"{BOT}/sendDocument").respond_with_json(
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, status=400
    )
    response = reply(agent_client, telegram_ticket, file=upload("boleto.pdf", media_files.pdf()))
    assert "Bad Request: chat not found" in response.content.decode()
    message = Message.objects.get()
    assert message.delivery == "failed"

    endpoint = Recorder(telegram_sent(778))
    bot.expect_oneshot_request(f"{BOT}/sendDocument").respond_with_handler(endpoint)
    agent_client.post(reverse("tickets:retry", args=[message.pk]), headers=HTMX)
    message.refresh_from_db()
    assert (message.delivery, message.external_id) == ("sent", "424242:778")
    assert endpoint.requests[0]["files"]["document"][2] == media_files.pdf()


def test_a_photo_larger_than_send_photo_takes_goes_to_telegram_as_a_document(agent_client, telegram_ticket, bot, monkeypatch):
    monkeypatch.setattr("tickets.providers.telegram.MAX_PHOTO_BYTES", 1000)
    endpoint = Recorder(telegram_sent())
    bot.expect_request(f"{BOT}/sendDocument").respond_with_handler(endpoint)
    reply(agent_client, telegram_ticket, file=upload("foto.jpg", media_files.photo()))
    assert endpoint.requests[0]["files"]["document"][2] == media_files.photo()
    assert MessageMedia.objects.get().kind == "image"


def test_a_caption_longer_than_telegram_takes_is_refused(agent_client, telegram_ticket, bot, media_root):
    response = reply(agent_client, telegram_ticket, file=upload("foto.jpg", media_files.photo()), text="a" * 1025)
    assert "Uma legenda no Telegram pode ter até 1024 caracteres; esta tem 1025." in response.content.decode()
    assert bot.log == []
    nothing_stored(media_root)


# Bad input ----------------------------------------------------------------------


def test_an_empty_file_is_refused_with_a_message(agent_client, ticket, evolution, media_root):
    response = reply(agent_client, ticket, file=upload("vazio.jpg", b""))
    assert response.status_code == 200
    assert "O arquivo está vazio. Escolha outro." in response.content.decode()
    assert evolution.log == []
    nothing_stored(media_root)


def test_a_file_over_its_kinds_cap_is_refused_before_anything_is_stored(agent_client, ticket, evolution, media_root, settings):
    settings.MESSAGE_MEDIA_MAX_BYTES = 10_000
    response = reply(agent_client, ticket, file=upload("foto.jpg", media_files.photo(1200, 900)), htmx=False, text="legenda")
    page = agent_client.get(response.url).content.decode()
    assert "mais que os 9,8 KB permitidos para este tipo de arquivo (imagem)" in page
    assert evolution.log == []
    nothing_stored(media_root)


def test_a_document_may_be_larger_than_a_photo(agent_client, ticket, evolution, settings):
    settings.MESSAGE_MEDIA_MAX_BYTES = 100
    evolution.expect_request(SEND_MEDIA).respond_with_handler(Recorder(sent()))
    reply(agent_client, ticket, file=upload("boleto.pdf", media_files.pdf()))
    assert Message.objects.get().delivery == "sent"


@pytest.mark.parametrize(
    "data",
    [b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200), b"\x7fELF\x02\x01\x01" + bytes(200), os.urandom(4096)],
    ids=["windows-program", "linux-program", "unknown-bytes"],
)
def test_a_program_or_bytes_of_no_known_type_are_refused(agent_client, ticket, evolution, media_root, data):
    response = reply(agent_client, ticket, file=upload("nota.pdf", data))
    assert "Este tipo de arquivo não pode ser enviado." in response.content.decode()
    assert evolution.log == []
    nothing_stored(media_root)


def test_a_body_declaring_two_gigabytes_is_refused_before_it_is_read(agent_client, ticket, evolution, media_root):
    response = agent_client.generic(
        "POST",
        reverse("tickets:reply", args=[ticket.pk]),
        b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        headers={**HTMX},
        CONTENT_LENGTH=str(2 * 1024**3),
    )
    assert response.status_code == 413
    assert "e nada foi salvo" in json.loads(response["HX-Trigger"])["show-message"]["message"]
    nothing_stored(media_root)


def test_a_file_with_an_opt_out_and_no_reason_stores_nothing(agent_client, ticket, evolution, media_root):
    from contacts.models import OptOut

    OptOut.objects.create(contact=ticket.contact, channel_id=ticket.channel.pk, channel_name=ticket.channel.name, evidence="SAIR", asked_at=ticket.created_at)
    response = reply(agent_client, ticket, file=upload("foto.jpg", media_files.photo()))
    assert response.status_code == 200
    assert "SAIR" in response.content.decode() or "motivo" in response.content.decode().lower()
    assert evolution.log == []
    nothing_stored(media_root)


BOUNDARY = "----fuzzboundary7MA4YWxkTrZu0gW"


def multipart(*, text: str, file_name: str, data: bytes) -> bytes:
    """The form as a browser sends it, the file's name as given (quotes and
    line breaks escaped the way browsers do), whatever Django's test client
    would accept."""
    escaped = file_name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\n{text}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{escaped}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode("utf-8", "surrogatepass") + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.builds(lambda head, tail: head + tail, st.sampled_from([media_files.HTML_PAGE, b"<svg onload=alert(1)>", b"\xff\xd8\xff", b"%PDF-", b"OggS", b"PK\x03\x04", b"GIF89a", b"\x89PNG\r\n\x1a\n"]), st.binary(max_size=200)),
    ),
    name=st.text(max_size=300),
    text=st.text(max_size=40),
)
def test_no_file_or_name_ever_makes_an_error_page_nor_goes_as_a_photo_unless_it_is_one(
    agent_client, ticket, evolution, data, name, text
):
    evolution.expect_request(SEND_MEDIA).respond_with_handler(Recorder(sent()))
    evolution.expect_request(SEND_AUDIO).respond_with_handler(Recorder(sent()))
    Message.objects.all().delete()
    response = agent_client.generic(
        "POST", reverse("tickets:reply", args=[ticket.pk]), multipart(text=text, file_name=name, data=data),
        content_type=f"multipart/form-data; boundary={BOUNDARY}", headers=HTMX,
    )
    assert response.status_code == 200
    media = MessageMedia.objects.select_related("message").first()
    if media is not None:
        assert media.kind != "image" or data.startswith((b"\xff\xd8\xff", b"\x89PNG"))
        assert media.size == len(data)
        with media.file.open("rb") as stored:
            assert stored.read() == data


# Who may send -------------------------------------------------------------------


def test_another_wallets_agent_cannot_send_a_file_to_a_ticket_they_cannot_see(client, other_agent, other_wallet, ticket, evolution, media_root):
    client.force_login(other_agent)
    response = reply(client, ticket, file=upload("foto.jpg", media_files.photo()), text="Oi")
    assert response.status_code == 404
    assert evolution.log == []
    nothing_stored(media_root)


def test_a_user_without_the_right_to_reply_cannot_send_a_file(client, ticket, evolution, media_root):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"), Permission.objects.get(codename="view_all_contacts"))
    client.force_login(viewer)
    assert reply(client, ticket, file=upload("foto.jpg", media_files.photo())).status_code == 403
    nothing_stored(media_root)


def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_is_stored(client, ticket, evolution, media_root):
    response = reply(client, ticket, file=upload("foto.jpg", media_files.photo()), htmx=False)
    assert response.status_code == 302 and "login" in response.url
    nothing_stored(media_root)


# The reply box ------------------------------------------------------------------


def test_the_reply_box_is_a_multipart_form_with_a_file_box(agent_client, ticket, evolution):
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'hx-encoding="multipart/form-data"' in page
    assert 'type="file" name="file"' in page
    assert "Anexar arquivo" in page
