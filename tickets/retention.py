"""Message retention: with settings.MESSAGE_RETENTION_DAYS set, what the
messages older than that said is removed by a daily sweep
(`manage.py apply_message_retention`), while the tickets' facts stay.

Removed: a message's text (a caption is its text), what a location or a
contact card held (Message.details), its earlier versions (MessageEdit)
and its file with its row (MessageMedia, through media.media_delete, the
one place files leave). Kept: the message itself (when it was sent, on
which channel, in which direction, its kind, which agent sent it), its
ticket and contact. The message says when its content was removed
(Message.content_removed_at), which the conversation shows and which the
sweep looks for: a second run finds nothing left to do.

Each batch of messages is one transaction: a sweep stopped half-way has
removed whole batches, and the next run goes on from there. Two sweeps at
once share the work (the batch's rows are locked, and skipped by the
other). Anything else that a message's content should take with it (a
new kind of attachment) belongs in _remove_content, and in
retention_preview's count.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record

from .media import media_delete
from .models import Message, MessageEdit, MessageMedia

#: Messages per transaction.
BATCH = 2000


@dataclass
class RetentionResult:
    """What a sweep removed (or, previewed, would remove)."""

    messages: int = 0  # messages whose content was removed
    edits: int = 0  # their earlier versions
    media: int = 0  # their files

    def add(self, other: "RetentionResult") -> None:
        self.messages += other.messages
        self.edits += other.edits
        self.media += other.media

    def counts(self) -> dict[str, int]:
        return asdict(self)


def retention_cutoff(*, now: datetime | None = None) -> datetime | None:
    """Messages sent before this lose their content; None when retention
    is off (MESSAGE_RETENTION_DAYS unset or 0)."""
    days = settings.MESSAGE_RETENTION_DAYS
    if not days:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def expired_messages(*, before: datetime) -> QuerySet:
    """Messages sent before `before` whose content is still there (read
    through message_retention_idx)."""
    return Message.objects.filter(sent_at__lt=before, content_removed_at__isnull=True)


def retention_preview(*, before: datetime) -> RetentionResult:
    """What a sweep up to `before` would remove, written nowhere."""
    ids = expired_messages(before=before).values("pk")
    return RetentionResult(
        messages=expired_messages(before=before).count(),
        edits=MessageEdit.objects.filter(message__in=ids).count(),
        media=MessageMedia.objects.filter(message__in=ids).count(),
    )


def messages_expire(*, before: datetime, batch_size: int = BATCH) -> RetentionResult:
    """Remove the content of every message sent before `before` (see the
    module's docstring), a batch per transaction, oldest first, and record
    the run in the audit trail (one entry, with its counts, even when
    there was nothing left to remove)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    result = RetentionResult()
    while True:
        with transaction.atomic():
            ids = list(
                expired_messages(before=before)
                .order_by("sent_at")
                # Another sweep's batch (or an edit being stored) is left
                # to it: this one takes the next rows.
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            result.add(_remove_content(ids))
    audit_record(
        action=AuditEvent.Action.MESSAGE_RETENTION,
        parameters={"days": settings.MESSAGE_RETENTION_DAYS, "before": before.isoformat()},
        counts=result.counts(),
    )
    return result


def _remove_content(ids: list[int]) -> RetentionResult:
    """One batch, inside its transaction; the files leave once it commits."""
    now = timezone.now()
    edits, _by_model = MessageEdit.objects.filter(message_id__in=ids).delete()
    media = media_delete(media=MessageMedia.objects.filter(message_id__in=ids))
    messages = Message.objects.filter(pk__in=ids, content_removed_at__isnull=True).update(
        body="", details=None, content_removed_at=now, updated_at=now
    )
    return RetentionResult(messages=messages, edits=edits, media=media)
