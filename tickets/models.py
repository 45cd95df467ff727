"""Channels, the conversations that arrive through them, and the tickets
("atendimentos") that agents serve them in.

A Channel is one WhatsApp number (through an Evolution API instance) or one
Telegram bot. Every message it delivers is stored once, as a Message; a
message from a known contact joins that contact's open Ticket on the channel.
Messages from unknown senders wait, unlinked, for "Sincronizar".
"""

import operator
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contacts.models import Contact

if TYPE_CHECKING:
    from .providers import Provider


def new_webhook_secret() -> str:
    # Letters, digits, "-" and "_": what Telegram accepts as a secret_token.
    return secrets.token_urlsafe(32)


class Channel(models.Model):
    """Where conversations come from and replies go out: a WhatsApp number
    served by an Evolution API instance, or a Telegram bot."""

    class Kind(models.TextChoices):
        WHATSAPP = "whatsapp", _("WhatsApp")
        TELEGRAM = "telegram", _("Telegram")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(
        _("business address"),
        max_length=100,
        blank=True,
        help_text=_("The business phone number (WhatsApp) or the bot's username (Telegram)."),
    )
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=256,
        default=new_webhook_secret,
        help_text=_(
            "WhatsApp: the instance's API key, which Evolution API sends as “apikey” with every event. "
            "Telegram: the secret_token given to setWebhook."
        ),
    )
    gateway_url = models.URLField(
        _("gateway URL"),
        blank=True,
        help_text=_(
            "WhatsApp: the Evolution API base URL, like https://evolution.example.com. "
            "Telegram: leave blank for api.telegram.org, or the address of your own Bot API server."
        ),
    )
    instance = models.CharField(
        _("instance name"), max_length=100, blank=True, help_text=_("WhatsApp: the Evolution API instance.")
    )
    api_key = models.CharField(
        _("API key"), max_length=256, blank=True, help_text=_("WhatsApp: sent as the “apikey” header to Evolution API.")
    )
    bot_token = models.CharField(_("bot token"), max_length=256, blank=True, help_text=_("Telegram: from @BotFather."))
    group_tickets = models.BooleanField(
        _("group messages open tickets"),
        default=False,
        help_text=_(
            "When on, a message in a group makes the group a contact and opens a ticket, like a person's. "
            "When off, group messages are kept for “Sincronizar grupos”, and join a ticket only when one is open."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name", "id"]
        permissions = [("sync_contacts", _("Can sync contacts and groups from conversations"))]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self):
        # Every writer (admin, a shell) ends up here. A kind out of the
        # choices is clean_fields()' error, with no provider to ask.
        if self.kind in self.Kind.values:
            self.provider.clean()

    @property
    def provider(self) -> "Provider":
        """What this channel's kind does (tickets.providers): read its
        gateway's events, send replies, register the webhook... Built once,
        and again for a changed kind or a copy of the channel."""
        provider = getattr(self, "_provider", None)
        if provider is None or provider.kind != self.kind or provider.channel is not self:
            from .providers import provider_for  # the providers import this module

            provider = self._provider = provider_for(self)
        return provider

    def get_webhook_path(self) -> str:
        return reverse("tickets:webhook", args=[self.pk])

    @property
    def can_send(self) -> bool:
        """Whether replies can go out: the gateway settings are filled in."""
        return self.provider.configured

    def reaches(self, contact: Contact) -> bool:
        """Whether this channel has an address for `contact` (on WhatsApp,
        a LID will do while the number is not known)."""
        return bool(self.provider.chat_id_of(contact))

    def identity_of(self, contact: Contact) -> str:
        """The contact's identity on this channel, as Message.chat_identity
        stores it: its number (or group id) on WhatsApp, its id on Telegram."""
        return self.provider.identity_of(contact)


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Tickets of the contacts `user` may see (Contact.objects.visible_to)."""
        if not user.is_authenticated or not user.has_perm("tickets.view_ticket"):
            return self.none()
        if user.has_perm("contacts.view_all_contacts"):
            return self
        return self.filter(contact__in=Contact.objects.visible_to(user).values("pk"))

    def active(self):
        """Not closed: open (someone is serving it) or pending (waiting for someone)."""
        return self.exclude(status=Ticket.Status.CLOSED)

    def with_last_message(self):
        """Each ticket's newest message id as `last_message_pk` (None without
        messages). A subquery per ticket read: annotate a page, not a table."""
        last = Message.objects.filter(ticket=OuterRef("pk")).order_by("-sent_at", "-id").values("pk")[:1]
        return self.annotate(last_message_pk=Subquery(last))

    def with_unread(self, user):
        """Each ticket's `unread` count for `user`: the contact's messages
        stored after the last one `user` saw (TicketRead), all of them when
        `user` never opened it. Per ticket read, like with_last_message."""
        seen = TicketRead.objects.filter(ticket=OuterRef(OuterRef("pk")), user=user).values("last_message_id")[:1]
        unread = (
            Message.objects.filter(ticket=OuterRef("pk"), from_me=False, pk__gt=Coalesce(Subquery(seen), 0))
            .order_by()
            .values("ticket")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(unread=Coalesce(Subquery(unread), 0))

    def catch_up_last_message(self) -> int:
        """Move `last_message_at` forward to the newest message of each of
        these tickets that has a newer one than it says: for writers that
        put messages in tickets in bulk (the sync, a merge). Returns how
        many tickets moved."""
        newest = Message.objects.filter(ticket=OuterRef("pk")).order_by("-sent_at", "-id").values("sent_at")[:1]
        newer = Message.objects.filter(ticket=OuterRef("pk"), sent_at__gt=OuterRef("last_message_at"))
        return self.filter(Exists(newer)).update(last_message_at=Subquery(newest))


class Ticket(models.Model):
    """An "atendimento": one conversation with a contact on one channel,
    served by an agent. A contact has at most one ticket that is not closed
    per channel (a database constraint); new messages join it."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("ticket status", "Open")
        PENDING = "pending", pgettext_lazy("ticket status", "Pending")
        CLOSED = "closed", pgettext_lazy("ticket status", "Closed")

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="tickets")
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="tickets")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The last activity (a message, a status change).
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # When the conversation last had a message (to within the webhook's
    # ACTIVITY_RESOLUTION); a ticket with none yet counts from its opening.
    # The lists are ordered by it, newest conversation first: a column with
    # its index, because a subquery over every ticket would be read for
    # every ticket before the first page could be cut.
    last_message_at = models.DateTimeField(_("last message at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Closed by a merge of duplicate contacts, which joined its messages to
    # this other ticket of the same contact and channel.
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["-last_message_at", "-id"], name="ticket_last_message_idx"),
            # The queue ("Abertos"): the few active tickets among the many closed.
            models.Index(fields=["-last_message_at", "-id"], condition=~Q(status="closed"), name="ticket_queue_idx"),
            models.Index(fields=["user", "status"], name="ticket_user_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel"],
                condition=~Q(status="closed"),
                name="ticket_one_active_per_contact_channel",
                violation_error_message=_("This contact already has an open ticket on this channel."),
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.contact} · {self.channel.name}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    def close(self) -> None:
        """Close the ticket; the next message from the contact opens another."""
        if self.is_closed:
            return
        self.status = self.Status.CLOSED
        self.closed_at = self.updated_at = timezone.now()
        self.save(update_fields=["status", "closed_at", "updated_at"])

    def reopen(self, *, user=None) -> None:
        """Open a closed ticket again, for `user` if it has no agent. Raises
        ValidationError when the contact has another active ticket on the
        channel meanwhile."""
        if not self.is_closed:
            return
        self.status = self.Status.OPEN if (self.user_id or user) else self.Status.PENDING
        if self.user_id is None and user is not None:
            self.user = user
        self.closed_at = None
        self.updated_at = timezone.now()
        try:
            with transaction.atomic():
                self.save(update_fields=["status", "user", "closed_at", "updated_at"])
        except IntegrityError:
            self.refresh_from_db()
            raise ValidationError(
                _("This contact already has an open ticket on this channel."), code="active_ticket_exists"
            ) from None

    def mark_read(self, user, *, message_id: int | None) -> None:
        """`user` has seen the conversation up to the message `message_id`
        (the newest one shown to them): the contact's messages up to it are
        no longer unread for them. Never moves back, whatever order two
        pages of the same user ask in."""
        if message_id is None:
            return
        now = timezone.now()
        reads = TicketRead.objects.filter(ticket=self, user=user)
        if reads.update(last_message_id=Greatest("last_message_id", message_id), read_at=now):
            return
        try:
            with transaction.atomic():
                TicketRead.objects.create(ticket=self, user=user, last_message_id=message_id, read_at=now)
        except IntegrityError:  # the user's other page got there first
            reads.update(last_message_id=Greatest("last_message_id", message_id), read_at=now)

    def take(self, user) -> None:
        """`user` serves the ticket from now on: it is theirs, and open."""
        self.user = user
        if self.status == self.Status.PENDING:
            self.status = self.Status.OPEN
        self.updated_at = timezone.now()
        self.save(update_fields=["user", "status", "updated_at"])


# Longer than any gateway call may take (see gateways.TIMEOUT).
SEND_GIVE_UP = timedelta(minutes=2)


class Message(models.Model):
    """One message of a conversation, as the channel delivered it (or as
    an agent sent it). Stored once per (channel, external_id): providers
    deliver at least once, so a repeated delivery is recognised by the
    database, not by a look-up first."""

    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        IMAGE = "image", _("image")
        VIDEO = "video", _("video")
        AUDIO = "audio", _("audio")
        DOCUMENT = "document", _("document")
        STICKER = "sticker", _("sticker")
        LOCATION = "location", _("location")
        CONTACT = "contact", _("contact card")
        OTHER = "other", _("other")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("received")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("not sent")

    # Not indexed on its own: the (channel, external_id) constraint's index
    # starts with it. Every index is one more write per message.
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    # The provider's id: WhatsApp's message key id; "<chat id>:<message id>"
    # on Telegram, whose message ids are counted per chat. A reply is stored
    # with a local id until the provider answers with its own.
    external_id = models.CharField(_("external id"), max_length=128)
    chat_id = models.CharField(
        _("chat"), max_length=128, help_text=_("The remote address: a WhatsApp JID or a Telegram chat id.")
    )
    # The chat's identity as the contacts app stores it: a canonical phone
    # number or group id (Contact.number) on WhatsApp, the chat id
    # (Contact.telegram_id) on Telegram; blank when the chat has none we
    # can use (a WhatsApp @lid chat whose number was not sent).
    chat_identity = models.CharField(_("chat identity"), max_length=64, blank=True)
    sender_id = models.CharField(_("sender id"), max_length=128, blank=True)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    is_group = models.BooleanField(_("group message"), default=False)
    group_name = models.CharField(_("group name"), max_length=200, blank=True)
    from_me = models.BooleanField(_("sent by us"), default=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(_("text"), blank=True)
    # What a location or a contact card holds beside its text (see
    # inbound.Inbound.details); None for every other message.
    details = models.JSONField(_("details"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"))
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    # When the retention policy (tickets.retention) removed what the
    # message said: its text, details, earlier versions and file. The
    # message itself stays, as a fact of its ticket.
    content_removed_at = models.DateTimeField(_("content removed at"), null=True, blank=True)
    # The conversation's ticket and contact: for a group message, the group.
    # (The ticket's messages are read through message_ticket_order_idx.)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    delivery = models.CharField(_("delivery"), max_length=16, choices=Delivery.choices, default=Delivery.RECEIVED)
    error = models.CharField(_("error"), max_length=500, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("stored at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["sent_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "sent_at", "id"], name="message_ticket_order_idx"),
            # What "Sincronizar" reads: the conversations nobody linked yet.
            models.Index(
                fields=["chat_identity"], condition=Q(contact__isnull=True), name="message_unlinked_idx"
            ),
            models.Index(
                fields=["contact", "channel"], condition=Q(ticket__isnull=True), name="message_unticketed_idx"
            ),
            # What the retention sweep reads: the messages whose content it
            # has not removed yet, oldest first. Once it runs the index
            # holds only the retention window, not the whole history.
            models.Index(
                fields=["sent_at"], condition=Q(content_removed_at__isnull=True), name="message_retention_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="message_once_per_channel"),
        ]

    def __str__(self):
        return f"{self.sender_name or self.sender_id}: {self.body[:50]}"

    def allows_edit(self, inbound, *, same_sender: Callable[[str, str], bool] = operator.eq) -> bool:
        """Whether an edit (an Inbound with edited set) may replace this
        message's text: it comes from the message's own sender. Ours are
        edited by us only; anyone else's by their sender (sender_id, as
        `same_sender` compares two senders' ids), or, when the edit says
        only which 1:1 chat its editor addressed, by the other person of
        that chat: not this message's chat, which is the address we write
        to."""
        if inbound.editor_addressed:
            return not self.from_me and not self.is_group and inbound.editor_addressed != self.chat_id
        if inbound.edit_from_me:
            return self.from_me
        return not self.from_me and bool(inbound.editor_id) and same_sender(inbound.editor_id, self.sender_id)

    @property
    def can_retry(self) -> bool:
        """A reply that failed, or whose sending never finished (the server
        stopped half-way): it may be sent again."""
        if not self.from_me:
            return False
        stuck = self.delivery == self.Delivery.SENDING and self.updated_at < timezone.now() - SEND_GIVE_UP
        return self.delivery == self.Delivery.FAILED or stuck


class MessageEdit(models.Model):
    """The text a message had until an edit replaced it: the conversation
    shows it under the message, with when it was replaced. Only edits
    write it."""

    message = models.ForeignKey(Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="edits")
    kind = models.CharField(_("kind"), max_length=16, choices=Message.Kind.choices, default=Message.Kind.TEXT)
    body = models.TextField(_("text"), blank=True)
    replaced_at = models.DateTimeField(_("replaced at"))

    class Meta:
        verbose_name = _("earlier version of a message")
        verbose_name_plural = _("earlier versions of messages")
        ordering = ["replaced_at", "id"]

    def __str__(self):
        return self.body[:50]


class TicketRead(models.Model):
    """How far one user has read one ticket: the contact's messages after
    `last_message_id` are unread for them (the list's badge). Written when
    they open the ticket and when its conversation shows them new
    messages; one row per user and ticket."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    # A message id, not a foreign key: messages are stored in id order, and
    # a deleted or moved message must not make the whole ticket unread.
    last_message_id = models.BigIntegerField(_("last message read"), default=0)
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket read marker")
        verbose_name_plural = _("ticket read markers")
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="ticket_read_once_per_user")]

    def __str__(self):
        return f"#{self.ticket_id} · {self.user_id} · {self.last_message_id}"


class OptOutReason(models.Model):
    """Why an agent wrote to a person who asked not to receive messages on
    the channel (contacts.OptOut): asked once per ticket, when the ticket
    is started or the first reply is sent."""

    opt_out = models.ForeignKey(
        "contacts.OptOut", verbose_name=_("opt-out"), on_delete=models.CASCADE, related_name="reasons"
    )
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="opt_out_reasons")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("reason to write despite an opt-out")
        verbose_name_plural = _("reasons to write despite an opt-out")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"#{self.ticket_id} · {self.username}"


#: A media fetch that has not finished by then was lost (a worker that
#: stopped half-way); longer than all of a fetch's retries take to begin.
MEDIA_FETCH_GIVE_UP = timedelta(hours=2)


def media_upload_to(media: "MessageMedia", filename: str) -> str:
    """A random name under messages/: never the sender's file name, which
    is kept apart (MessageMedia.file_name) and only ever shown. The
    extension is the one the file's bytes have (tickets.media.sniff)."""
    extension = filename.rpartition(".")[2][:8] if "." in filename else "bin"
    return f"messages/{timezone.now():%Y/%m}/{secrets.token_urlsafe(24)}.{extension}"


class MessageMediaQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The media of the tickets `user` may see (Ticket.objects.visible_to)."""
        return self.filter(message__ticket__in=Ticket.objects.visible_to(user).values("pk"))


class MessageMedia(models.Model):
    """The file a message carries (a photo, a voice note, a video, a
    document, a sticker): one per message. The webhook records it as
    pending; a background job (tickets.media) fetches it from the gateway
    and stores it under a random name, with its size and its type as found
    in its bytes, not as the sender named or declared it."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("image")
        AUDIO = "audio", _("audio")
        VOICE = "voice", _("voice note")
        VIDEO = "video", _("video")
        DOCUMENT = "document", _("document")
        STICKER = "sticker", _("sticker")

    class Status(models.TextChoices):
        PENDING = "pending", _("downloading")
        STORED = "stored", _("stored")
        TOO_LARGE = "too_large", _("too large")
        GONE = "gone", _("no longer available")
        FAILED = "failed", _("could not be downloaded")

    message = models.OneToOneField(Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=media_upload_to, max_length=200, blank=True)
    # A photo's small copy for the conversation (JPEG, at most
    # THUMBNAIL_SIZE pixels a side); blank when the photo is small already
    # or could not be read.
    thumbnail = models.FileField(_("thumbnail"), upload_to=media_upload_to, max_length=200, blank=True)
    # The size stored; until then, the size the gateway declared (if any).
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    # Found from the bytes once stored (tickets.media.sniff); blank before.
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    # Seconds, for audio and video, when the gateway says it.
    duration = models.PositiveIntegerField(_("duration"), null=True, blank=True)
    # What the channel's provider needs to fetch the file again (Evolution
    # API: the message's key and content; Telegram: the file_id).
    source = models.JSONField(_("source"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = MessageMediaQuerySet.as_manager()

    class Meta:
        verbose_name = _("message media")
        verbose_name_plural = _("message media")
        indexes = [
            # What is left to fetch (or to fetch again).
            models.Index(fields=["updated_at"], condition=Q(status="pending"), name="media_pending_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.file_name or self.message_id}"

    #: The types a browser may show in the page (<img>, <audio>, <video>)
    #: and that are served inline; everything else, and every document,
    #: downloads (Content-Disposition: attachment).
    INLINE_TYPES = frozenset(
        {
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "audio/ogg",
            "audio/mpeg",
            "audio/mp4",
            "audio/aac",
            "audio/x-wav",
            "audio/x-flac",
            "video/mp4",
            "video/webm",
        }
    )

    def get_absolute_url(self):
        return reverse("tickets:media", args=[self.pk])

    @property
    def shown_as(self) -> str:
        """How the conversation shows the file: "image", "audio" or
        "video" in the page, when its bytes are a type browsers show
        safely; "download" for documents and everything else."""
        if self.kind == self.Kind.DOCUMENT or self.content_type not in self.INLINE_TYPES:
            return "download"
        return self.content_type.partition("/")[0]

    @property
    def duration_display(self) -> str:
        """"1:05" for 65 seconds; "" when not known."""
        if self.duration is None:
            return ""
        minutes, seconds = divmod(self.duration, 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def download_name(self) -> str:
        """The name a download is saved under: the sender's, else the kind
        and the extension its bytes have."""
        if self.file_name:
            return self.file_name
        extension = self.file.name.rpartition(".")[2] if "." in self.file.name else "bin"
        return f"{self.kind}-{self.message_id}.{extension}"

    @property
    def is_stored(self) -> bool:
        return self.status == self.Status.STORED and bool(self.file)

    @property
    def can_retry(self) -> bool:
        """A file that could not be downloaded, or whose fetch never
        finished (a worker stopped half-way): the agent may ask for it again."""
        stuck = self.status == self.Status.PENDING and self.updated_at < timezone.now() - MEDIA_FETCH_GIVE_UP
        return self.status == self.Status.FAILED or stuck
