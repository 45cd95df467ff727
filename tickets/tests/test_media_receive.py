"""Files customers send, received: the webhook records them and answers at
once; a background job fetches each from a local HTTP server standing in
for the gateway (Evolution API's getBase64FromMediaMessage, Telegram's
getFile and file path) and stores it under a random name, typed by its
bytes. Caps hold whatever size is declared; failures are retried, then
given up; hostile files are stored as what they are."""

import base64
import io
import json
import random
import time

import pytest
from django.urls import reverse
from PIL import Image
from werkzeug import Response

from contacts.tests.factories import ContactFactory
from tickets.event_body import MAX_BODY_BYTES
from tickets.media import RETRY_DELAYS
from tickets.models import Message, MessageMedia

from . import media_files, payloads
from .conftest import BOT_TOKEN, INSTANCE, TELEGRAM_SECRET, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db

BASE64_PATH = f"/chat/getBase64FromMediaMessage/{INSTANCE}"


def post(client, channel, payload):
    response = client.post(reverse("tickets:webhook", args=[channel.pk]), json.dumps(payload), content_type="application/json")
    assert response.status_code == 200, response.content
    return response


def whatsapp_media(name: str, content: dict, *, message_id: str = "3EB0MEDIA0001", **extra) -> dict:
    message = {name: {"url": "https://mmg.whatsapp.net/o1/v/t62.7117-24/f1/m231/abc.enc", "mediaKey": "c2VjcmV0", "directPath": "/o1/v/abc", "jpegThumbnail": "A" * 4000, **content}}
    message.update(extra)
    return payloads.upsert(WHATSAPP_SECRET, message_id=message_id, message=message, message_type=name)


def voice_note_event(**extra) -> dict:
    return whatsapp_media(
        "audioMessage", {"mimetype": "audio/ogg; codecs=opus", "seconds": 3, "ptt": True, "fileLength": str(len(media_files.voice_note()))}, **extra
    )


def base64_answer(data: bytes, mimetype: str = "application/octet-stream") -> dict:
    # What Evolution API answers (chat.controller getBase64FromMediaMessage).
    return {"mediaType": "audioMessage", "fileName": "file", "caption": None, "size": {"fileLength": len(data)}, "mimetype": mimetype, "base64": base64.b64encode(data).decode()}


def received(client, channel, payload, django_capture_on_commit_callbacks) -> MessageMedia:
    """Post the event; run what its commit enqueued (the fetch)."""
    with django_capture_on_commit_callbacks(execute=True):
        post(client, channel, payload)
    return MessageMedia.objects.select_related("message").get()


# WhatsApp -----------------------------------------------------------------------


def test_a_voice_note_is_fetched_from_evolution_and_stored_under_a_random_name(
    client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    ogg = media_files.voice_note()
    evolution.expect_request(BASE64_PATH, method="POST", headers={"apikey": "chave-da-instancia"}).respond_with_json(
        base64_answer(ogg, "audio/ogg; codecs=opus")
    )
    media = received(client, whatsapp, voice_note_event(), django_capture_on_commit_callbacks)
    asked = json.loads(evolution.log[0][0].data)
    assert asked["message"]["key"]["id"] == "3EB0MEDIA0001"
    assert "jpegThumbnail" not in asked["message"]["message"]["audioMessage"]
    assert (media.kind, media.status, media.content_type, media.size, media.duration, media.attempts) == (
        "voice", "stored", "audio/ogg", len(ogg), 3, 1
    )
    assert media.message.kind == Message.Kind.AUDIO and media.message.contact == contact
    with media.file.open("rb") as stored:
        assert stored.read() == ogg
    assert media.file.name.startswith("messages/") and media.file.name.endswith(".ogg")
    assert "3EB0MEDIA0001" not in media.file.name
    assert media.source == {"key": media.source["key"], "message": media.source["message"]}


def test_the_webhook_answers_before_the_file_is_fetched(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        post(client, whatsapp, voice_note_event())
    media = MessageMedia.objects.get()
    assert (media.status, media.attempts, bool(media.file)) == ("pending", 0, False)
    assert evolution.log == []
    assert len(enqueued) == 1


def test_the_fetch_is_queued_on_the_media_queue_not_behind_imports(client, contact, whatsapp, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "media"]}}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, whatsapp, voice_note_event())
    queued = DBTaskResult.objects.get()
    assert (queued.queue_name, queued.task_path) == ("media", "tickets.tasks.fetch_pending_media")


def test_files_recorded_together_share_one_fetch_task(client, contact, whatsapp, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "media"]}}
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            post(client, whatsapp, voice_note_event(message_id=f"3EB0BATCH{n}"))
    queued = DBTaskResult.objects.get()
    assert queued.run_after > queued.enqueued_at  # a moment ahead: it takes the files recorded meanwhile
    assert MessageMedia.objects.filter(status="pending", attempts=0).count() == 5


def test_a_drain_fetches_every_file_never_tried_once_and_leaves_the_others(contact, whatsapp, evolution):
    from tickets.media import media_drain

    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.voice_note()))
    message = Message.objects.create(channel=whatsapp, external_id="x0", chat_id="5511987654321@s.whatsapp.net", sent_at="2026-11-25T10:00:00Z")
    waiting = MessageMedia.objects.create(message=message, kind="voice", attempts=2, source={"key": {"id": "x0"}})
    new = []
    for n in range(1, 4):
        message = Message.objects.create(channel=whatsapp, external_id=f"x{n}", chat_id="5511987654321@s.whatsapp.net", sent_at="2026-11-25T10:00:00Z")
        new.append(MessageMedia.objects.create(message=message, kind="voice", source={"key": {"id": f"x{n}"}}))

    assert media_drain() == 3
    assert media_drain() == 0
    assert len(evolution.log) == 3
    assert {(media.status, media.attempts) for media in MessageMedia.objects.filter(pk__in=[m.pk for m in new])} == {("stored", 1)}
    waiting.refresh_from_db()  # a retry waiting for its delay is its own task's
    assert (waiting.status, waiting.attempts) == ("pending", 2)


def test_a_photo_keeps_its_caption_and_is_stored_as_the_jpeg_it_is(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    jpeg = media_files.photo()
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(jpeg, "image/jpeg"))
    event = whatsapp_media("imageMessage", {"mimetype": "image/jpeg", "caption": "Segue o comprovante", "fileLength": {"low": len(jpeg), "high": 0}})
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert (media.kind, media.status, media.content_type) == ("image", "stored", "image/jpeg")
    assert media.message.body == "Segue o comprovante"
    with media.file.open("rb") as stored:
        assert Image.open(stored).size == (320, 240)


def test_a_document_keeps_its_name_for_showing_only(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.pdf()))
    event = whatsapp_media("documentMessage", {"mimetype": "application/pdf", "fileName": "../../boleto novembro.pdf", "fileLength": "600"})
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert (media.kind, media.status, media.content_type, media.file_name) == ("document", "stored", "application/pdf", "../../boleto novembro.pdf")
    assert "boleto" not in media.file.name and ".." not in media.file.name
    assert media.message.body == "../../boleto novembro.pdf"


def test_a_file_sent_inside_the_event_is_stored_without_asking_the_gateway(
    client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    jpeg = media_files.photo(64, 48)
    event = whatsapp_media("imageMessage", {"mimetype": "image/jpeg"}, base64=base64.b64encode(jpeg).decode())
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert (media.status, media.content_type, media.size) == ("stored", "image/jpeg", len(jpeg))
    assert evolution.log == []
    assert "base64" not in media.source


def test_a_file_inside_an_event_near_the_event_limit_is_used_whole(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    jpeg = media_files.photo() + bytes(360_000)  # what follows a JPEG's end is no part of the picture
    event = whatsapp_media("imageMessage", {"mimetype": "image/jpeg", "caption": "nota"}, base64=base64.b64encode(jpeg).decode())
    assert 480 * 1024 < len(json.dumps(event)) < MAX_BODY_BYTES
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert (media.status, media.size, media.message.body) == ("stored", len(jpeg), "nota")
    assert evolution.log == []


def large_photo_event() -> tuple[dict, bytes]:
    """A photo event as Evolution API sends it with "webhook base64" on, of
    about 2 MB (the photo inline), and the photo the gateway has."""
    inline = random.Random(7).randbytes(1_600_000)  # what the event carries: not what the gateway answers
    event = whatsapp_media(
        "imageMessage", {"mimetype": "image/jpeg", "caption": "Segue o comprovante", "fileLength": str(len(inline))}, base64=base64.b64encode(inline).decode()
    )
    return event, media_files.photo()


def post_raw(client, channel, body: bytes):
    # The secret in a header, as the panel registers the webhook: a large
    # event is read only from a sender known before its body is.
    return client.post(reverse("tickets:webhook", args=[channel.pk]), body, content_type="application/json", headers={"apikey": WHATSAPP_SECRET})


def assert_kept_and_fetched_from_the_gateway(client, channel, body: bytes, jpeg: bytes, evolution, capture):
    with capture() as enqueued:
        assert post_raw(client, channel, body).status_code == 200
    media = MessageMedia.objects.select_related("message__ticket").get()
    assert (media.status, media.message.body, media.message.ticket.contact.number) == ("pending", "Segue o comprovante", "5511987654321")
    assert "base64" not in media.source  # no cut-off file is left for the job to take
    assert evolution.log == []
    for callback in enqueued:
        callback()
    media.refresh_from_db()
    assert (media.status, media.content_type, media.size) == ("stored", "image/jpeg", len(jpeg))
    with media.file.open("rb") as stored:
        assert stored.read() == jpeg
    asked = json.loads(evolution.log[0][0].data)
    assert asked["message"]["key"]["id"] == "3EB0MEDIA0001" and "base64" not in asked["message"]


def test_a_photo_event_of_2_mb_keeps_its_message_and_the_photo_is_fetched_from_the_gateway(
    client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    event, jpeg = large_photo_event()
    body = json.dumps(event).encode()
    assert len(body) > 2 * 1024 * 1024
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(jpeg, "image/jpeg"))
    assert_kept_and_fetched_from_the_gateway(client, whatsapp, body, jpeg, evolution, django_capture_on_commit_callbacks)


def test_a_large_photo_event_with_escaped_slashes_and_spaces_around_the_colon_is_kept_too(
    client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    event, jpeg = large_photo_event()
    # "/" is only ever inside strings, and JSON may write it "\/" (PHP's json_encode does).
    body = json.dumps(event).replace("/", "\\/").replace('"base64": "', '"base64" \n:\t "').encode()
    assert body.count(b"\\/") > 1000 and b'"base64" \n:\t "' in body
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(jpeg, "image/jpeg"))
    assert_kept_and_fetched_from_the_gateway(client, whatsapp, body, jpeg, evolution, django_capture_on_commit_callbacks)


def test_a_sticker_and_a_video_are_fetched_as_their_kinds(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    webp = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 200, 0, 255)).save(webp, "WEBP")
    evolution.expect_oneshot_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(webp.getvalue()))
    media = received(client, whatsapp, whatsapp_media("stickerMessage", {"mimetype": "image/webp"}), django_capture_on_commit_callbacks)
    assert (media.kind, media.content_type) == ("sticker", "image/webp")
    video = whatsapp_media("videoMessage", {"mimetype": "video/mp4", "seconds": 12, "caption": "olha"}, message_id="3EB0VIDEO")
    evolution.expect_oneshot_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(b"\x00\x00\x00\x18ftypmp42" + bytes(64)))
    with django_capture_on_commit_callbacks(execute=True):
        post(client, whatsapp, video)
    media = MessageMedia.objects.get(kind="video")
    assert (media.status, media.content_type, media.duration, media.message.body) == ("stored", "video/mp4", 12, "olha")


def test_a_repeated_delivery_records_the_file_once(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.voice_note()))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            post(client, whatsapp, voice_note_event())
    assert MessageMedia.objects.count() == 1
    assert len(evolution.log) == 1


# Hostile files ------------------------------------------------------------------


def test_an_html_page_named_jpg_is_stored_as_html(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.HTML_PAGE, "image/jpeg"))
    event = whatsapp_media("documentMessage", {"mimetype": "image/jpeg", "fileName": "foto.jpg"})
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert (media.status, media.content_type, media.file_name) == ("stored", "text/html", "foto.jpg")
    assert media.file.name.endswith(".html")


def test_a_zip_bomb_named_docx_is_stored_as_the_small_zip_it_is_never_unpacked(
    client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    bomb = media_files.zip_bomb()
    assert len(bomb) < 1024 * 1024
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(
        base64_answer(bomb, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    )
    event = whatsapp_media("documentMessage", {"fileName": "contrato.docx", "fileLength": str(len(bomb))})
    started = time.monotonic()
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 5
    assert media.status == "stored" and media.size == len(bomb)
    assert media.content_type in ("application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def test_a_file_declared_at_2_gb_is_never_fetched_and_keeps_its_caption(
    client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    event = whatsapp_media("videoMessage", {"caption": "o vídeo da instalação", "fileLength": str(2 * 1024**3)})
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert (media.status, media.size, media.message.body) == ("too_large", 2 * 1024**3, "o vídeo da instalação")
    assert evolution.log == []


def test_a_file_larger_than_declared_is_cut_off_at_the_cap(
    client, contact, whatsapp, evolution, settings, django_capture_on_commit_callbacks
):
    settings.MESSAGE_MEDIA_MAX_BYTES = 100_000
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(bytes(300_000)))
    event = whatsapp_media("imageMessage", {"caption": "foto", "fileLength": "1000"})
    media = received(client, whatsapp, event, django_capture_on_commit_callbacks)
    assert (media.status, bool(media.file), media.message.body) == ("too_large", False, "foto")
    assert len(evolution.log) == 1


def test_documents_have_a_cap_of_their_own(client, contact, whatsapp, evolution, settings, django_capture_on_commit_callbacks):
    settings.MESSAGE_MEDIA_MAX_BYTES = 1000
    settings.MESSAGE_MEDIA_MAX_DOCUMENT_BYTES = 100_000
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.pdf() + bytes(5000)))
    event = whatsapp_media("documentMessage", {"fileName": "boleto.pdf", "fileLength": "5600"})
    assert received(client, whatsapp, event, django_capture_on_commit_callbacks).status == "stored"


def test_the_caps_are_16_mb_for_photos_voice_notes_and_videos_and_100_mb_for_documents():
    from tickets.media import cap

    megabyte = 1024 * 1024
    assert [cap(kind) for kind in ("image", "voice", "audio", "video", "sticker")] == [16 * megabyte] * 5
    assert cap("document") == 100 * megabyte


def test_an_answer_without_the_file_or_not_base64_is_a_failure(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json({"mediaType": "imageMessage", "base64": "@@not base64@@"})
    media = received(client, whatsapp, whatsapp_media("imageMessage", {}), django_capture_on_commit_callbacks)
    assert (media.status, bool(media.file)) == ("failed", False)
    assert media.error


# Failures -----------------------------------------------------------------------


def test_a_file_whatsapp_no_longer_has_is_shown_as_gone(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(
        {"status": 400, "error": "Bad Request", "response": {"message": ["Error: Failed to fetch stream from https://mmg.whatsapp.net/x status code 410"]}},
        status=400,
    )
    media = received(client, whatsapp, whatsapp_media("imageMessage", {"caption": "nota"}), django_capture_on_commit_callbacks)
    assert (media.status, media.attempts, media.message.body) == ("gone", 1, "nota")


def test_a_failed_fetch_is_tried_again_and_then_given_up(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_data("upstream down", status=502)
    media = received(client, whatsapp, voice_note_event(), django_capture_on_commit_callbacks)
    assert (media.status, media.attempts) == ("failed", len(RETRY_DELAYS) + 1)
    assert len(evolution.log) == len(RETRY_DELAYS) + 1
    assert "502" in media.error and media.can_retry


def test_a_failed_fetch_waits_30_seconds_2_10_and_60_minutes_between_tries(
    client, contact, whatsapp, evolution, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets import media as media_module

    delays, enqueue = [], media_module.enqueue_fetch

    def recording(media_id, *, delay=None):
        delays.append(delay)
        enqueue(media_id, delay=delay)

    monkeypatch.setattr(media_module, "enqueue_fetch", recording)
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_data("upstream down", status=502)
    media = received(client, whatsapp, voice_note_event(), django_capture_on_commit_callbacks)
    assert [delay.total_seconds() for delay in delays if delay] == [30, 120, 600, 3600]
    assert media.status == "failed"


def test_a_fetch_that_fails_once_is_stored_on_the_next_try(client, contact, whatsapp, evolution, django_capture_on_commit_callbacks):
    evolution.expect_oneshot_request(BASE64_PATH, method="POST").respond_with_data("busy", status=503)
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.voice_note()))
    media = received(client, whatsapp, voice_note_event(), django_capture_on_commit_callbacks)
    assert (media.status, media.attempts, media.error) == ("stored", 2, "")


def test_a_retry_waits_for_its_delay_on_the_media_queue_of_a_backend_that_can_wait(contact, whatsapp, evolution, settings, django_capture_on_commit_callbacks):
    from django.tasks import task_backends

    from tickets.media import media_fetch

    evolution.expect_request(BASE64_PATH, method="POST").respond_with_data("busy", status=503)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": ["default", "media"]}}
    message = Message.objects.create(channel=whatsapp, external_id="x1", chat_id="5511987654321@s.whatsapp.net", sent_at="2026-11-25T10:00:00Z", kind="image")
    media = MessageMedia.objects.create(message=message, kind="image", source={"key": {"id": "x1"}})
    with django_capture_on_commit_callbacks(execute=True):
        media_fetch(media_id=media.pk)
    queued = task_backends["default"].results
    assert len(queued) == 1 and queued[0].task.run_after is not None
    # Its own queue: a long import on the default one does not hold it up.
    assert queued[0].task.queue_name == "media"
    assert queued[0].args == [] and queued[0].kwargs == {"media_id": media.pk}
    media.refresh_from_db()
    assert (media.status, media.attempts) == ("pending", 1)


# Telegram -----------------------------------------------------------------------


def telegram_file(bot, file_id: str, path: str, data: bytes, *, size: int | None = None):
    result = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_path": path}
    if size is not None:
        result["file_size"] = size
    bot.expect_request(f"/bot{BOT_TOKEN}/getFile", method="POST", json={"file_id": file_id}).respond_with_json({"ok": True, "result": result})
    bot.expect_request(f"/file/bot{BOT_TOKEN}/{path}", method="GET").respond_with_data(data)


def test_a_telegram_voice_note_is_fetched_with_get_file(client, contact, telegram, bot, django_capture_on_commit_callbacks):
    ogg = media_files.voice_note()
    telegram_file(bot, "AwACAgEAAxkBAAIB", "voice/file_7.oga", ogg, size=len(ogg))
    update = payloads.telegram_update(text=None, voice={"file_id": "AwACAgEAAxkBAAIB", "file_unique_id": "x", "duration": 3, "mime_type": "audio/ogg", "file_size": len(ogg)})
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": TELEGRAM_SECRET}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tickets:webhook", args=[telegram.pk]), json.dumps(update), content_type="application/json", **headers)
    assert response.status_code == 200
    media = MessageMedia.objects.get()
    assert (media.kind, media.status, media.content_type, media.duration, media.size) == ("voice", "stored", "audio/ogg", 3, len(ogg))


def test_a_telegram_photo_is_fetched_in_its_largest_size(client, contact, telegram, bot, django_capture_on_commit_callbacks):
    jpeg = media_files.photo()
    telegram_file(bot, "big", "photos/file_9.jpg", jpeg)
    sizes = [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 67}, {"file_id": "big", "file_unique_id": "b", "width": 320, "height": 240}]
    update = payloads.telegram_update(text=None, photo=sizes, caption="comprovante")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tickets:webhook", args=[telegram.pk]), json.dumps(update), content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TELEGRAM_SECRET)
    media = MessageMedia.objects.select_related("message").get()
    assert (media.kind, media.status, media.content_type, media.message.body) == ("image", "stored", "image/jpeg", "comprovante")


def test_a_telegram_file_the_bot_api_finds_too_big_is_shown_as_such(client, contact, telegram, bot, django_capture_on_commit_callbacks):
    bot.expect_request(f"/bot{BOT_TOKEN}/getFile", method="POST").respond_with_json(
        {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"}, status=400
    )
    update = payloads.telegram_update(text=None, document={"file_id": "doc", "file_unique_id": "d", "file_name": "planta.dwg"}, caption="planta")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tickets:webhook", args=[telegram.pk]), json.dumps(update), content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TELEGRAM_SECRET)
    media = MessageMedia.objects.select_related("message").get()
    assert (media.status, media.file_name, media.message.body) == ("too_large", "planta.dwg", "planta")


@pytest.mark.parametrize(
    "answer",
    [
        ({"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}, 400),
        ({"ok": False, "error_code": 400, "description": "Bad Request: file not found"}, 400),
        ({"ok": True, "result": {"file_id": "doc", "file_unique_id": "d"}}, 200),  # no file_path: nothing to download
    ],
    ids=["invalid file_id", "not found", "no file path"],
)
def test_a_file_the_bot_api_no_longer_has_is_shown_as_gone_and_keeps_its_caption(
    client, contact, telegram, bot, django_capture_on_commit_callbacks, answer
):
    body, status = answer
    bot.expect_request(f"/bot{BOT_TOKEN}/getFile", method="POST").respond_with_json(body, status=status)
    update = payloads.telegram_update(text=None, document={"file_id": "doc", "file_unique_id": "d", "file_name": "nota.pdf"}, caption="nota fiscal")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tickets:webhook", args=[telegram.pk]), json.dumps(update), content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TELEGRAM_SECRET)
    media = MessageMedia.objects.select_related("message").get()
    assert (media.status, media.attempts, media.message.body) == ("gone", 1, "nota fiscal")
    assert len(bot.log) == 1  # not tried again


def test_a_download_declaring_2_gb_is_refused_before_its_body_is_read(client, contact, telegram, bot, django_capture_on_commit_callbacks):
    sent = []

    def endless():
        for _ in range(2048):
            sent.append(1)
            yield bytes(1024 * 1024)

    bot.expect_request(f"/bot{BOT_TOKEN}/getFile", method="POST").respond_with_json({"ok": True, "result": {"file_id": "v", "file_path": "videos/big.mp4"}})
    bot.expect_request(f"/file/bot{BOT_TOKEN}/videos/big.mp4").respond_with_response(
        Response(endless(), headers={"Content-Length": str(2 * 1024**3)}, direct_passthrough=True)
    )
    update = payloads.telegram_update(text=None, video={"file_id": "v", "file_unique_id": "v", "duration": 60})
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tickets:webhook", args=[telegram.pk]), json.dumps(update), content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TELEGRAM_SECRET)
    assert time.monotonic() - started < 5
    assert MessageMedia.objects.get().status == "too_large"
    assert len(sent) < 20


# Small copies of photos ------------------------------------------------------------


def test_a_large_photo_gets_a_small_copy_for_the_conversation(
    agent_client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    jpeg = media_files.large_photo()
    assert len(jpeg) > 300_000
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(jpeg))
    media = received(agent_client, whatsapp, whatsapp_media("imageMessage", {"caption": "foto"}), django_capture_on_commit_callbacks)
    assert media.status == "stored" and media.thumbnail
    with media.thumbnail.open("rb") as small:
        assert Image.open(small).size == (480, 360)
    page = agent_client.get(media.message.ticket.get_absolute_url()).content.decode()
    thumbnail = reverse("tickets:media_thumbnail", args=[media.pk])
    assert f'<img src="{thumbnail}"' in page and f'<a href="{media.get_absolute_url()}" target="_blank"' in page
    response = agent_client.get(thumbnail)
    assert response["Content-Type"] == "image/jpeg" and len(b"".join(response.streaming_content)) < 60_000


def test_a_photo_declaring_900_million_pixels_is_kept_but_never_decoded(
    client, contact, whatsapp, evolution, django_capture_on_commit_callbacks
):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.pixel_bomb()))
    started = time.monotonic()
    media = received(client, whatsapp, whatsapp_media("imageMessage", {}), django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 5
    assert (media.status, media.content_type, bool(media.thumbnail)) == ("stored", "image/png", False)


def test_deleting_a_photo_takes_its_small_copy_too(contact, whatsapp, evolution, client, django_capture_on_commit_callbacks):
    from tickets.media import media_delete

    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.large_photo()))
    media = received(client, whatsapp, whatsapp_media("imageMessage", {}), django_capture_on_commit_callbacks)
    storage = media.file.storage
    with django_capture_on_commit_callbacks(execute=True):
        media_delete(media=MessageMedia.objects.filter(pk=media.pk))
    assert not storage.exists(media.file.name) and not storage.exists(media.thumbnail.name)


# The file's row goes in with its message ------------------------------------------


def test_a_new_sender_s_voice_note_is_recorded_with_the_message_its_contact_and_ticket(client, whatsapp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        post(client, whatsapp, voice_note_event())
    media = MessageMedia.objects.select_related("message__contact", "message__ticket").get()
    assert (media.kind, media.status, media.message.contact.number) == ("voice", "pending", "5511987654321")
    assert media.message.ticket.contact == media.message.contact
    assert len(enqueued) == 1


def test_a_new_sender_by_lid_s_photo_is_recorded_with_the_message(client, whatsapp, django_capture_on_commit_callbacks):
    event = whatsapp_media(
        "imageMessage", {"mimetype": "image/jpeg", "caption": "Comprovante"},
        remote_jid="123456789012345@lid", remoteJidAlt="5511987654321@s.whatsapp.net", addressingMode="lid",
    )
    with django_capture_on_commit_callbacks():
        post(client, whatsapp, event)
    media = MessageMedia.objects.select_related("message__contact").get()
    assert (media.kind, media.message.body, media.message.contact.number) == ("image", "Comprovante", "5511987654321")


def test_files_in_a_conversation_going_on_are_recorded_each_with_its_message(client, contact, whatsapp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        post(client, whatsapp, voice_note_event(message_id="3EB0MEDIA0001"))
        post(client, whatsapp, voice_note_event(message_id="3EB0MEDIA0002"))
        post(client, whatsapp, voice_note_event(message_id="3EB0MEDIA0002"))
    assert sorted(MessageMedia.objects.values_list("message__external_id", flat=True)) == ["3EB0MEDIA0001", "3EB0MEDIA0002"]
    assert Message.objects.count() == 2 and len(enqueued) == 2


# The refused statement ends the transaction a test runs in, on PostgreSQL.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("known", [False, True], ids=["new sender", "known contact"])
def test_a_message_whose_file_cannot_be_recorded_is_not_stored_either(whatsapp, agent_wallet, known, monkeypatch):
    from django.test import Client

    from tickets import media as media_module

    if known:
        ContactFactory(number="5511987654321", wallet=agent_wallet)
    real = media_module.media_row

    def broken(inbound_media):
        row = real(inbound_media)
        row.size = -1  # refused by the column's CHECK, as a crash between the two writes would leave it
        return row

    monkeypatch.setattr(media_module, "media_row", broken)
    response = Client(raise_request_exception=False).post(
        reverse("tickets:webhook", args=[whatsapp.pk]), json.dumps(voice_note_event()), content_type="application/json"
    )
    assert response.status_code == 500
    assert not Message.objects.exists() and not MessageMedia.objects.exists()
