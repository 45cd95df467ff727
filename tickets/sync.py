""""Sincronizar" and "Sincronizar grupos": every private chat (or group)
that has talked with our users becomes a contact, and its messages join
tickets.

The chats come from two places: the stored message history of every
channel (what the webhooks delivered, unlinked until now), and, for a
WhatsApp channel whose gateway is configured, Evolution API's own chat and
contact lists (or its group list), which reach back before the webhook
existed. A gateway that is down or answers nonsense is named in the
report's notes; the rest of the sync goes on.

Both are idempotent: an existing contact is never changed (not even its
name, which someone may have edited by hand), so a second run creates
nothing. Contacts are created in batches, each batch with its history in
one transaction; messages and tickets are linked afterwards in a few
set-wide statements. A run that stops half-way leaves whole batches, and
the next run finishes the job.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, models, transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.recording import Source, recording
from audit.services import audit_record
from contacts.history import history_bulk_record
from contacts.models import Contact, ContactIdentity
from contacts.normalizers import format_phone
from contacts.services import refresh_planner_statistics
from contacts_portal import database

from .gateways import GatewayError
from .identities import lid_attach, lid_known, pairs_reveal
from .models import Channel, Message, Ticket
from .providers import chat_listing_kinds, contact_fields
from .providers.evolution import LID_SERVER, lid_of

BATCH_SIZE = 1000

Progress = Callable[[str, int, int], None]


class Step(models.TextChoices):
    """What a sync is doing, in order; shown on its job's page."""

    HISTORY = "history", gettext_lazy("Reading the message history")
    GATEWAY = "gateway", gettext_lazy("Asking the WhatsApp gateways for their chats")
    CONTACTS = "contacts", gettext_lazy("Creating contacts")
    LINKING = "linking", gettext_lazy("Putting the messages in tickets")


@dataclass
class SyncReport:
    created: int = 0
    messages_linked: int = 0
    tickets_opened: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "contacts_created": self.created,
            "messages_linked": self.messages_linked,
            "tickets_opened": self.tickets_opened,
            "chats_skipped": self.skipped,
        }


@dataclass
class Candidate:
    """A chat that may become a contact: where its identity goes
    (Contact.number or Contact.telegram_id), and the best name known."""

    field: str
    identity: str
    name: str = ""


def _no_progress(step: str, done: int, total: int) -> None:
    pass


def sync_contacts(*, user=None, progress: Progress | None = None, audit_source: str = Source.SYNC) -> SyncReport:
    """"Sincronizar": a contact for every private chat, its messages in tickets."""
    return _sync(groups=False, user=user, progress=progress or _no_progress, audit_source=audit_source)


def sync_groups(*, user=None, progress: Progress | None = None, audit_source: str = Source.SYNC) -> SyncReport:
    """"Sincronizar grupos": a contact (is_group) for every group chat, its
    messages in tickets."""
    return _sync(groups=True, user=user, progress=progress or _no_progress, audit_source=audit_source)


def _sync(*, groups: bool, user, progress: Progress, audit_source: str) -> SyncReport:
    report = SyncReport()
    with recording(source=Source.SYNC, user=user):
        progress(Step.HISTORY, 0, 0)
        lids: dict[str, str] = {}  # WhatsApp chats known by a LID alone, and their names
        candidates = _from_history(groups=groups, report=report, lids=lids)
        for channel in Channel.objects.filter(kind__in=chat_listing_kinds()).order_by("pk"):
            if not channel.provider.configured:
                continue
            progress(Step.GATEWAY, 0, 0)
            try:
                found = _from_gateway(channel, groups=groups, report=report, lids=lids)
            except GatewayError as error:
                report.notes.append(
                    _("%(channel)s: %(error)s Its gateway's chats were left out; the message history was synced.")
                    % {"channel": channel.name, "error": error}
                )
                continue
            for key, candidate in found.items():
                known = candidates.setdefault(key, candidate)
                known.name = known.name or candidate.name
        _lid_chats(lids, candidates=candidates, report=report)
        new = _not_contacts_yet(candidates)
        progress(Step.CONTACTS, 0, len(new))
        for start in range(0, len(new), BATCH_SIZE):
            report.created += _create_contacts(new[start : start + BATCH_SIZE], groups=groups)
            progress(Step.CONTACTS, min(start + BATCH_SIZE, len(new)), len(new))
        progress(Step.LINKING, 0, 0)
        if report.created > BATCH_SIZE:
            refresh_planner_statistics()
        report.messages_linked += _link_messages_retrying(groups=groups)
        report.tickets_opened = _open_tickets(groups=groups)
        _join_tickets(groups=groups)
        # Messages newer than a ticket's last one joined it.
        Ticket.objects.active().catch_up_last_message()
        audit_record(
            action=AuditEvent.Action.SYNC_GROUPS if groups else AuditEvent.Action.SYNC,
            parameters={"notes": report.notes},
            counts=report.counts,
            user=user,
            source=audit_source,
        )
    return report


def _fallback_name(candidate: Candidate, groups: bool) -> str:
    """The number when a person has no profile name; a group's id."""
    if candidate.field == "number" and not groups:
        return format_phone(candidate.identity)
    return candidate.identity


def _from_history(*, groups: bool, report: SyncReport, lids: dict[str, str]) -> dict[tuple[str, str], Candidate]:
    """The chats of the stored messages nobody linked yet, each with the
    latest name its people (not we) gave: the profile name, Telegram's first
    and last name, the group's title. WhatsApp chats known by a LID alone
    go to `lids`."""
    candidates: dict[tuple[str, str], Candidate] = {}
    rows = (
        Message.objects.filter(contact__isnull=True, is_group=groups)
        .order_by("pk")
        .values_list("channel", "chat_id", "channel__kind", "chat_identity", "from_me", "sender_name", "group_name")
    )
    skipped = set()
    key_fields = contact_fields()
    for channel, chat_id, kind, identity, from_me, sender_name, group_name in rows.iterator(chunk_size=5000):
        name = group_name if groups else ("" if from_me else sender_name)
        if not identity:
            if lid := (not groups and kind == Channel.Kind.WHATSAPP and lid_of(chat_id)):
                lids[lid] = name or lids.get(lid, "")
            else:
                skipped.add((channel, chat_id))
            continue
        key_field = key_fields[kind]
        candidate = candidates.setdefault((key_field, identity), Candidate(key_field, identity))
        if name:
            candidate.name = name
    report.skipped += len(skipped)
    return candidates


def _from_gateway(
    channel: Channel, *, groups: bool, report: SyncReport, lids: dict[str, str]
) -> dict[tuple[str, str], Candidate]:
    """The chats the channel's gateway knows (Provider.list_chats): for
    Evolution API, its private chats named by its contact list, or its
    groups named by their subject. The LID and number pairs it tells are
    remembered first (tickets.identities)."""
    found: dict[tuple[str, str], Candidate] = {}
    key_field = channel.provider.contact_field
    pairs = []
    for chat in channel.provider.list_chats(groups=groups):
        if chat.lid and chat.identity:
            pairs.append((chat.lid, chat.identity))
        if chat.pair_only:
            continue
        if not chat.identity:
            if chat.lid:
                lids[chat.lid] = lids.get(chat.lid) or chat.name
            else:
                report.skipped += 1  # a number the panel would not accept
            continue
        found[(key_field, chat.identity)] = Candidate(key_field, chat.identity, chat.name)
    pairs_reveal(pairs=pairs, seen=ContactIdentity.Seen.SYNC, place=channel.name)
    return found


def _lid_chats(lids: dict[str, str], *, candidates: dict, report: SyncReport) -> None:
    """Chats known by a LID alone: a LID whose number was revealed is a
    chat of that number; one that is a contact's links its messages to
    it; any other becomes a contact with the LID and no number yet."""
    for lid, name in sorted(lids.items()):
        unlinked = Message.objects.filter(contact__isnull=True, chat_identity="", chat_id=f"{lid}@{LID_SERVER}")
        known = lid_known(lid)
        if known is not None and known[1]:
            unlinked.update(chat_identity=known[1])
            candidate = candidates.setdefault(("number", known[1]), Candidate("number", known[1]))
            candidate.name = candidate.name or name
            continue
        contact_id = known[0] if known is not None else None
        if contact_id is None:
            contact_id = _create_lid_contact(lid, name)
            report.created += contact_id is not None
        if contact_id is not None:
            report.messages_linked += unlinked.update(contact_id=contact_id)


def _create_lid_contact(lid: str, name: str) -> int | None:
    """A contact for a LID alone, with its history; None when somebody made
    one meanwhile (its messages are linked by the next sync)."""
    try:
        with transaction.atomic():
            contact = Contact(name=name or _("WhatsApp contact"))
            contact.save(force_insert=True)
            lid_attach(contact_id=contact.pk, lid=lid, seen=ContactIdentity.Seen.SYNC)
    except IntegrityError:
        return None
    return contact.pk


def _not_contacts_yet(candidates: dict[tuple[str, str], Candidate]) -> list[Candidate]:
    keys = sorted(candidates)
    existing: set[tuple[str, str]] = set()
    for key_field in sorted(set(contact_fields().values())):
        identities = [identity for f, identity in keys if f == key_field]
        for start in range(0, len(identities), BATCH_SIZE):
            batch = identities[start : start + BATCH_SIZE]
            existing.update(
                (key_field, value) for value in Contact.objects.filter(**{f"{key_field}__in": batch}).values_list(key_field, flat=True)
            )
            # An address a merge of duplicates left to its survivor is a contact already.
            existing.update(
                (key_field, value)
                for value in ContactIdentity.objects.filter(kind=key_field, value__in=batch).values_list("value", flat=True)
            )
    return [candidates[key] for key in keys if key not in existing]


def _create_contacts(batch: list[Candidate], *, groups: bool) -> int:
    """Create one batch of contacts with their history, all or none. One
    added meanwhile by someone else is left out."""
    tries = 0

    def create() -> int:
        nonlocal batch, tries
        tries += 1
        if tries > 1:  # lost a race: leave out who became a contact meanwhile
            batch = _not_contacts_yet({(c.field, c.identity): c for c in batch})
        contacts = []
        for candidate in batch:
            contact = Contact(
                name=candidate.name or _fallback_name(candidate, groups),
                is_group=groups,
                **{candidate.field: candidate.identity},
            )
            contact.refresh_search_fields()
            contacts.append(contact)
        created = Contact.objects.bulk_create(contacts)
        history_bulk_record(contacts=created, created=True)
        return len(created)

    try:
        return database.retrying(create, on=IntegrityError, atomic=True)
    except IntegrityError:
        return 0


def _link_messages_retrying(*, groups: bool) -> int:
    """_link_messages(); a contact merged into another while its messages
    were being linked makes the database refuse the whole statement (a
    message would point at a contact that is gone): link again, which
    finds the survivor."""
    return database.retrying(lambda: _link_messages(groups=groups), on=IntegrityError, atomic=True)


def _link_messages(*, groups: bool) -> int:
    """Give every unlinked message whose chat is now a contact its contact."""
    linked = 0
    for kind, key_field in contact_fields().items():
        # The blank exclusion lets PostgreSQL use the partial unique index
        # (only non-blank values are indexed); without it, a scan per message.
        contact = Contact.objects.filter(**{key_field: OuterRef("chat_identity")}).exclude(**{key_field: ""})
        linked += (
            Message.objects.filter(contact__isnull=True, is_group=groups, channel__kind=kind)
            .exclude(chat_identity="")
            .filter(Exists(contact))
            .update(contact=Subquery(contact.values("pk")[:1]))
        )
        # Chats from an address a merge of duplicates left to its survivor.
        alias = ContactIdentity.objects.filter(kind=key_field, value=OuterRef("chat_identity"), contact__is_group=groups)
        linked += (
            Message.objects.filter(contact__isnull=True, is_group=groups, channel__kind=kind)
            .exclude(chat_identity="")
            .filter(Exists(alias))
            .update(contact=Subquery(alias.values("contact_id")[:1]))
        )
    return linked


def _open_tickets(*, groups: bool) -> int:
    """An open ticket (pending when nobody serves the contact's wallet) for
    every contact and channel with messages from the contact in no ticket."""
    waiting = Ticket.objects.active().filter(contact=OuterRef("contact"), channel=OuterRef("channel"))
    # Each pair once, with its newest message: where the ticket goes in the lists.
    pairs = (
        Message.objects.filter(ticket__isnull=True, contact__isnull=False, from_me=False, is_group=groups)
        .filter(~Exists(waiting))
        .values_list("contact", "channel", "contact__wallet__user")
        .annotate(last=Max("sent_at"))
        .order_by("contact", "channel")
    )
    opened = 0
    batch = []
    for row in pairs.iterator(chunk_size=5000):
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            opened += _create_tickets(batch)
            batch = []
    return opened + _create_tickets(batch)


def _create_tickets(rows: list[tuple[int, int, int | None, datetime]]) -> int:
    now = timezone.now()
    tickets = [
        Ticket(
            contact_id=contact,
            channel_id=channel,
            user_id=agent,
            status=Ticket.Status.OPEN if agent else Ticket.Status.PENDING,
            created_at=now,
            updated_at=now,
            last_message_at=last,
        )
        for contact, channel, agent, last in rows
    ]
    try:
        with transaction.atomic():
            return len(Ticket.objects.bulk_create(tickets))
    except IntegrityError:
        # Somebody opened one of them meanwhile: one at a time, then.
        opened = 0
        for ticket in tickets:
            try:
                with transaction.atomic():
                    ticket.save(force_insert=True)
                opened += 1
            except IntegrityError:
                pass
        return opened


def _join_tickets(*, groups: bool) -> int:
    """Messages linked to a contact but in no ticket join the contact's
    active ticket on their channel, when there is one."""
    active = Ticket.objects.active().filter(contact=OuterRef("contact"), channel=OuterRef("channel"))
    return (
        Message.objects.filter(ticket__isnull=True, contact__isnull=False, is_group=groups)
        .filter(Exists(active))
        .update(ticket=Subquery(active.values("pk")[:1]))
    )
