"""The files of a conversation: photos, voice notes, videos, documents and
stickers (MessageMedia), those customers send and those agents reply with.

The webhook only records what a message carries (media_row, written with
the message) and makes sure a fetch starts once it is committed
(media_recorded): it stays as fast as for a text. A background job
(tasks.fetch_pending_media, on the "media" queue) takes the files never
tried yet one by one (media_drain), asks the channel's provider for each,
decodes and counts it as it streams in (nothing beyond the cap per kind
is read, whatever size was declared), finds its type from its first
bytes (never from its name or the declared type) and stores it through
Django's storage API under a random name. A failed fetch is tried again later (RETRY_DELAYS), then
shown as failed, with "Tentar novamente" for the agent (media_retry).

A file an agent replies with is checked the same way (attachment_of: its
type from its bytes, the same caps) and stored as its message's media
(media_attach) before it is sent, so a send that fails is sent again from
the stored file, and the conversation shows it like the customers' files.

Files leave with their rows: media_delete is the one place that removes
both, for every writer that deletes messages or tickets.
"""

import io
import logging
import mimetypes
from dataclasses import dataclass
from datetime import timedelta
from itertools import batched
from tempfile import SpooledTemporaryFile
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from contacts_portal import database
from contacts_portal.uploads import readable_size

from .gateways import GatewayError, MediaGone, MediaTooLarge
from .inbound import InboundMedia, safe_name
from .models import Message, MessageMedia, Ticket

logger = logging.getLogger(__name__)

#: How long after each failed fetch the next one is tried; after the last,
#: the media is shown as failed (the agent may try again).
RETRY_DELAYS = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1)]
#: A file this small is decoded in memory; larger ones spill to a
#: temporary file while they arrive.
IN_MEMORY_BYTES = 2 * 1024 * 1024
#: Photos larger than this get a small copy for the conversation.
THUMBNAIL_FROM_BYTES = 150 * 1024
THUMBNAIL_SIZE = 480
#: Beyond this many pixels a photo gets no small copy (it is not decoded).
THUMBNAIL_MAX_PIXELS = 50_000_000
#: Rows deleted per statement.
BATCH = 5000
#: How much of a file its type is found from.
SNIFF_BYTES = 8192
#: How long a file recorded by the webhook may wait for the fetch a web
#: process queued for it and the files recorded after it (see _drain_soon).
FETCH_BATCH_DELAY = timedelta(seconds=1)

def cap(kind: str) -> int:
    """The largest file of `kind` the panel keeps, in bytes."""
    if kind == MessageMedia.Kind.DOCUMENT:
        return settings.MESSAGE_MEDIA_MAX_DOCUMENT_BYTES
    return settings.MESSAGE_MEDIA_MAX_BYTES


def sniff(head: bytes) -> tuple[str, str]:
    """(content type, extension) of a file from its first bytes: the
    magic numbers `filetype` knows, then markup and text, else
    application/octet-stream."""
    found = filetype.guess(head)
    if found is not None:
        return found.mime, found.extension
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024].lower()
    if start.startswith(b"<svg") or (start.startswith(b"<?xml") and b"<svg" in start):
        return "image/svg+xml", "svg"
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<!--")):
        return "text/html", "html"
    if start.startswith(b"<?xml"):
        return "application/xml", "xml"
    try:
        # A multi-byte character may be cut at the end of what was read.
        head[: len(head) - 3 if len(head) == SNIFF_BYTES else None].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream", "bin"
    return ("text/plain", "txt") if b"\x00" not in head else ("application/octet-stream", "bin")


def media_row(media: InboundMedia) -> MessageMedia:
    """The row that records the file a received message carries, not yet
    written: it goes in with its message, in the message's statement or
    transaction (tickets.services), so no message is ever stored without
    it. One declared larger than the panel keeps is marked so at once,
    and never fetched."""
    now = timezone.now()
    too_large = media.size is not None and media.size > cap(media.kind)
    return MessageMedia(
        kind=media.kind,
        size=media.size,
        file_name=media.file_name,
        duration=media.duration,
        # The file the event carried (Evolution's "webhook base64") waits
        # here for the job, which stores it.
        source={key: value for key, value in media.source.items() if key != "base64"} if too_large else media.source,
        status=MessageMedia.Status.TOO_LARGE if too_large else MessageMedia.Status.PENDING,
        created_at=now,
        updated_at=now,
    )


def media_recorded(row: MessageMedia) -> None:
    """Once the row of a received file (media_row) is committed, make sure
    a fetch starts after it, unless there is nothing to fetch."""
    if row.status == MessageMedia.Status.PENDING:
        transaction.on_commit(_drain_soon)


#: When the drain this process queued last may start (see _drain_soon).
_drain_starts_at = None


def _drain_soon() -> None:
    """Queue a drain of the files never tried yet (media_drain), unless one
    this process queued has not started yet: it will find this file too.
    Queued a moment ahead (FETCH_BATCH_DELAY), it takes every file this
    process records meanwhile: one task a second per process at most,
    where a task per file cost the webhook more than the file's row. A
    backend that cannot wait runs it at once, each time."""
    global _drain_starts_at
    from .tasks import fetch_pending_media  # the task module imports this one

    task = fetch_pending_media
    if not task.get_backend().supports_defer:
        task.enqueue()
        return
    now = timezone.now()
    # Several threads may both queue one: a drain too many finds nothing.
    if _drain_starts_at is not None and _drain_starts_at > now:
        return
    _drain_starts_at = now + FETCH_BATCH_DELAY
    task.using(run_after=_drain_starts_at).enqueue()


def media_drain() -> int:
    """Fetch the files recorded and never tried yet, one at a time, until
    none is left; their next attempts, if they fail, are tasks of their
    own (_failed). Each file is claimed under a row lock that other
    drains skip (SKIP LOCKED), on this machine or another, and marked as
    tried before the lock goes: each is fetched once, by one of them.
    Returns how many were tried."""
    tried = 0
    while (media := _claim_first_attempt()) is not None:
        _fetch_claimed(media)
        tried += 1
    return tried


def _claim_first_attempt() -> MessageMedia | None:
    with transaction.atomic():
        media = (
            MessageMedia.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("message__channel")
            .filter(status=MessageMedia.Status.PENDING, attempts=0)
            .order_by("pk")
            .first()
        )
        if media is None:
            return None
        MessageMedia.objects.filter(pk=media.pk).update(attempts=1, updated_at=timezone.now())
    media.attempts = 1
    return media


def enqueue_fetch(media_id: int, *, delay: timedelta | None = None) -> None:
    """Run the fetch on a worker, after `delay` when the task backend can
    wait (the test suite's runs at once)."""
    from .tasks import fetch_message_media  # the task module imports this one

    task = fetch_message_media
    if delay and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + delay)
    task.enqueue(media_id=media_id)


def media_fetch(*, media_id: int) -> MessageMedia | None:
    """Fetch one pending file from its channel's gateway and store it (see
    the module's docstring): a retry, or "Tentar novamente". A second run
    of the same job, or a fetch of a file that is not pending any more,
    does nothing. Returns the media
    as it ends up, None when it is gone or someone else is fetching it."""
    media = MessageMedia.objects.select_related("message__channel").filter(pk=media_id).first()
    if media is None or media.status != MessageMedia.Status.PENDING:
        return media
    claimed = MessageMedia.objects.filter(pk=media.pk, status=MessageMedia.Status.PENDING, attempts=media.attempts).update(
        attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return None
    media.attempts += 1
    return _fetch_claimed(media)


def _fetch_claimed(media: MessageMedia) -> MessageMedia | None:
    """Fetch and store a file whose attempt was counted by its fetcher."""
    limit = cap(media.kind)
    with SpooledTemporaryFile(max_size=IN_MEMORY_BYTES) as sink:
        try:
            _fetch_into(media, sink, limit=limit)
            if sink.tell() == 0:
                raise MediaGone("The gateway sent an empty file.")
            return _store(media, sink)
        except MediaTooLarge as error:
            return _give_up(media, MessageMedia.Status.TOO_LARGE, str(error))
        except MediaGone as error:
            return _give_up(media, MessageMedia.Status.GONE, str(error))
        except (GatewayError, OSError) as error:
            if isinstance(error, OSError):
                logger.exception("Storing media %s failed", media.pk)
                error = GatewayError("The file could not be stored (%s)." % type(error).__name__)
            return _failed(media, str(error))


def _fetch_into(media: MessageMedia, sink, *, limit: int) -> None:
    inline = media.source.get("base64")
    if isinstance(inline, str):
        from .gateways import Base64Value

        value = Base64Value(write=sink.write, limit=limit, bare=True)
        value.feed(inline.encode("ascii", "replace"))
        value.finish()
        return
    media.message.channel.provider.fetch_media(media.source, write=sink.write, limit=limit)


def _store(media: MessageMedia, sink) -> MessageMedia | None:
    size = sink.tell()
    sink.seek(0)
    content_type, extension = sniff(sink.read(SNIFF_BYTES))
    sink.seek(0)
    media.file.save(f"file.{extension}", File(sink), save=False)
    if media.kind == MessageMedia.Kind.IMAGE and size > THUMBNAIL_FROM_BYTES:
        sink.seek(0)
        thumbnail = thumbnail_of(sink)
        if thumbnail is not None:
            media.thumbnail.save("thumbnail.jpg", ContentFile(thumbnail), save=False)
    source = {key: value for key, value in media.source.items() if key != "base64"}
    updated = MessageMedia.objects.filter(pk=media.pk, status=MessageMedia.Status.PENDING).update(
        file=media.file.name,
        thumbnail=media.thumbnail.name or "",
        size=size,
        content_type=content_type,
        status=MessageMedia.Status.STORED,
        source=source,
        error="",
        updated_at=timezone.now(),
    )
    if not updated:  # deleted (or given up) meanwhile: the files are nobody's
        media.file.storage.delete(media.file.name)
        if media.thumbnail:
            media.thumbnail.storage.delete(media.thumbnail.name)
        return None
    _touch(media)
    media.size, media.content_type, media.status, media.source, media.error = size, content_type, MessageMedia.Status.STORED, source, ""
    return media


def thumbnail_of(image_file) -> bytes | None:
    """A JPEG of the photo at most THUMBNAIL_SIZE pixels a side, turned as
    its EXIF says; None for what Pillow cannot read or would not open
    (more than THUMBNAIL_MAX_PIXELS: a small file can declare a huge
    image, and decoding it would take gigabytes)."""
    try:
        with Image.open(image_file) as image:
            if image.width * image.height > THUMBNAIL_MAX_PIXELS:
                return None
            image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # JPEG: decode at a fraction of the size
            image = ImageOps.exif_transpose(image)
            image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return out.getvalue()


def _give_up(media: MessageMedia, status: str, error: str) -> MessageMedia:
    source = {key: value for key, value in media.source.items() if key != "base64"}
    MessageMedia.objects.filter(pk=media.pk).update(status=status, error=error[:500], source=source, updated_at=timezone.now())
    _touch(media)
    media.status, media.error = status, error[:500]
    return media


def _failed(media: MessageMedia, error: str) -> MessageMedia:
    """A fetch that may work later: tried again after the next delay, or,
    after the last, shown as failed."""
    if media.attempts <= len(RETRY_DELAYS):
        MessageMedia.objects.filter(pk=media.pk).update(error=error[:500], updated_at=timezone.now())
        media.error = error[:500]
        delay = RETRY_DELAYS[media.attempts - 1]
        transaction.on_commit(lambda: enqueue_fetch(media.pk, delay=delay))
        return media
    return _give_up(media, MessageMedia.Status.FAILED, error)


def _touch(media: MessageMedia) -> None:
    """The conversation shows the change (its version follows its messages'
    updated_at)."""
    Message.objects.filter(pk=media.message_id).update(updated_at=timezone.now())


def media_retry(*, media: MessageMedia) -> bool:
    """"Tentar novamente": fetch a file that could not be downloaded (or
    whose fetch never finished) again, from its first attempt. False when
    it cannot be retried (stored, too large, gone, or fetching now)."""
    if not media.can_retry:
        return False
    updated = MessageMedia.objects.filter(pk=media.pk, status=media.status, attempts=media.attempts).update(
        status=MessageMedia.Status.PENDING, attempts=0, error="", updated_at=timezone.now()
    )
    if updated:
        _touch(media)
        transaction.on_commit(lambda: enqueue_fetch(media.pk))
    return bool(updated)


def media_delete(*, media: QuerySet) -> int:
    """Delete these media rows, and their files once the deletion is
    committed (a rolled-back one keeps them). The one place files leave:
    call it wherever messages or tickets are deleted (a contact's deletion
    does, through contacts.deletion; an erasure or a retention sweep
    should), or their files would be nobody's. A fetch still running
    finds its row gone and drops what it fetched. Returns how many were
    deleted."""
    rows = list(media.values_list("pk", "file", "thumbnail"))
    for batch in batched(rows, BATCH):
        MessageMedia.objects.filter(pk__in=[pk for pk, *_names in batch]).delete()
    files = [name for _pk, *names in rows for name in names if name]
    if files:
        storage = MessageMedia._meta.get_field("file").storage
        transaction.on_commit(lambda: _delete_files(storage, files))
    return len(rows)


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # one file that will not go does not keep the others
            logger.exception("Media file %s could not be deleted", name)


def media_of_tickets(ticket_ids) -> QuerySet:
    """The media of these tickets' messages (ids, or a query set of them)."""
    return MessageMedia.objects.filter(message__ticket__in=ticket_ids)


def contacts_deleting(*, contact_ids) -> None:
    """A contact's deletion deletes its tickets; their messages stay, as
    nobody's: their files go (contacts.deletion calls this)."""
    media_delete(media=MessageMedia.objects.filter(message__contact__in=contact_ids))
    tickets = Ticket.objects.filter(contact__in=contact_ids).values("pk")
    media_delete(media=media_of_tickets(tickets))


# Files agents send -------------------------------------------------------------

#: Sent as a photo, a video, an audio: the types both WhatsApp and Telegram
#: show as such. Every other type an agent may send goes as a document.
OUTGOING_KINDS = {
    "image/jpeg": MessageMedia.Kind.IMAGE,
    "image/png": MessageMedia.Kind.IMAGE,
    "video/mp4": MessageMedia.Kind.VIDEO,
    "audio/mpeg": MessageMedia.Kind.AUDIO,
    "audio/mp4": MessageMedia.Kind.AUDIO,
}
#: Files that play as sound.
AUDIO_KINDS = frozenset({MessageMedia.Kind.AUDIO, MessageMedia.Kind.VOICE})
#: Never sent: programs, and bytes of a type nobody could open.
REFUSED_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/x-msdownload",
        "application/x-executable",
        "application/x-shockwave-flash",
        "application/x-google-chrome-extension",
        "application/vnd.ms-cab-compressed",
        "application/x-deb",
        "application/x-rpm",
        "application/wasm",
        "application/x-nintendo-nes-rom",
    }
)
#: Office and e-book files are zips inside: their name says which.
_ZIP_DOCUMENTS = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/epub+zip",
    }
)
#: Plain text whose name may say more precisely what it is.
_TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/tab-separated-values", "application/json", "text/calendar", "text/vcard", "text/x-vcard"})


@dataclass(frozen=True)
class Attachment:
    """A file an agent attaches to a reply, checked (attachment_of): what
    its bytes are, how it goes out, the name it goes out under."""

    file: Any
    kind: str
    content_type: str
    extension: str
    size: int
    file_name: str


def attachment_of(upload) -> Attachment:
    """Check a file an agent attaches to a reply: its type is found from
    its bytes (never its name or the browser's word), which says how it
    goes out (OUTGOING_KINDS; anything else as a document), within the
    same cap per kind as what customers send. ValidationError, with
    what to do, for an empty file, a type that is not sent
    (REFUSED_TYPES) or a file over its cap."""
    size = upload.size or 0
    if size <= 0:
        raise ValidationError(_("The file is empty. Choose another one."), code="empty_file")
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    content_type, extension = sniff(head)
    if content_type in REFUSED_TYPES:
        raise ValidationError(
            _("This kind of file cannot be sent. Send a photo, a video, an audio, a PDF or another document."),
            code="refused_type",
        )
    kind = OUTGOING_KINDS.get(content_type, MessageMedia.Kind.DOCUMENT)
    if content_type == "audio/ogg":
        # WhatsApp's and Telegram's voice notes are Ogg Opus; Ogg Vorbis
        # plays nowhere but as a file.
        kind = MessageMedia.Kind.VOICE if b"OpusHead" in head[:128] else MessageMedia.Kind.DOCUMENT
    if size > cap(kind):
        raise ValidationError(
            _("This file has %(size)s, more than the %(limit)s a file of this kind (%(kind)s) may have. Send a smaller one."),
            code="too_large",
            params={"size": readable_size(size), "kind": MessageMedia.Kind(kind).label, "limit": readable_size(cap(kind))},
        )
    file_name, content_type = outgoing_name(getattr(upload, "name", "") or "", content_type, extension)
    return Attachment(file=upload, kind=kind, content_type=content_type, extension=extension, size=size, file_name=file_name)


def outgoing_name(name: str, content_type: str, extension: str) -> tuple[str, str]:
    """(file name, content type) a file goes out under: the agent's name
    when it agrees with the bytes, else its stem with the extension the
    bytes have ("recibo.jpg" that is a web page goes as "recibo.html").
    A zip named as an office file, or text named as CSV or JSON, keeps
    its name and the type the name says."""
    name = safe_name(name.replace("\\", "/").rpartition("/")[2], 200)
    stem, dot, given = name.rpartition(".")
    if not dot:
        stem, given = name, ""
    stem = stem.strip(". ") or gettext("file")
    named_type = mimetypes.guess_type(f"file.{given.lower()}")[0] if given else None
    if named_type == content_type:
        return f"{stem}.{given}", content_type
    if (content_type == "application/zip" and named_type in _ZIP_DOCUMENTS) or (
        content_type == "text/plain" and named_type in _TEXT_TYPES
    ):
        return f"{stem}.{given}", named_type
    return f"{stem}.{extension}", content_type


#: What a message is called by the kind of file it carries.
MESSAGE_KINDS = {
    MessageMedia.Kind.IMAGE: Message.Kind.IMAGE,
    MessageMedia.Kind.VIDEO: Message.Kind.VIDEO,
    MessageMedia.Kind.AUDIO: Message.Kind.AUDIO,
    MessageMedia.Kind.VOICE: Message.Kind.AUDIO,
    MessageMedia.Kind.DOCUMENT: Message.Kind.DOCUMENT,
    MessageMedia.Kind.STICKER: Message.Kind.STICKER,
}


def media_attach(*, message: Message, attachment: Attachment) -> MessageMedia:
    """Store the file of an agent's reply through the storage API, under
    a random name, as the message's media: the conversation shows it like
    what customers send, and a send that fails sends it again from here.
    Call it in the transaction that stores the message, and remove the
    file (media_discard) if that transaction does not commit."""
    now = timezone.now()
    row = MessageMedia(
        message=message,
        kind=attachment.kind,
        size=attachment.size,
        content_type=attachment.content_type,
        file_name=attachment.file_name,
        status=MessageMedia.Status.STORED,
        created_at=now,
        updated_at=now,
    )
    attachment.file.seek(0)
    row.file.save(f"file.{attachment.extension}", File(attachment.file), save=False)
    try:
        row.save(force_insert=True)
    except BaseException:
        media_discard(row)
        raise
    return row


def media_discard(media: MessageMedia) -> None:
    """Remove a stored file whose row did not come to be."""
    if media.file.name:
        media.file.storage.delete(media.file.name)
