"""Changes to conversations shared by the webhook, the panel, the commands
and the background jobs: storing what a channel delivers, opening tickets,
sending replies. Keyword-only and atomic, like contacts.services."""

import logging
import uuid
from datetime import timedelta
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit.history import history_bulk_write, history_model_of
from audit.recording import current_actor, current_user
from contacts.models import Contact, ContactIdentity
from contacts.normalizers import format_phone
from contacts_portal import database

from . import identities, media, optout
from .gateways import GatewayError
from .inbound import Inbound, safe_body
from .models import Channel, Message, MessageEdit, MessageMedia, Ticket

logger = logging.getLogger(__name__)


def active_ticket(*, contact: Contact, channel: Channel, user=None) -> tuple[Ticket, bool]:
    """The contact's ticket on `channel` that is not closed, opened now when
    there is none: (ticket, opened). A new ticket is `user`'s, else the
    agent responsible for the contact's wallet; with nobody it is pending.

    Two writers may open one at the same moment: the database keeps one
    active ticket per contact and channel, and the second writer takes the
    first one's."""
    ticket = Ticket.objects.active().filter(contact=contact, channel=channel).first()
    if ticket is not None:
        return ticket, False
    agent_id = user.pk if user is not None else (contact.wallet.user_id if contact.wallet_id else None)
    ticket_id, opened = _open_ticket(contact_id=contact.pk, channel=channel, agent_id=agent_id, now=timezone.now())
    return Ticket.objects.select_related("contact", "channel", "user").get(pk=ticket_id), opened


def insert_once(message: Message) -> bool:
    """Insert `message` unless its (channel, external_id) is stored already:
    True when it was inserted (and `message.pk` set). One statement,
    INSERT … ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike; a
    concurrent insert of the same message waits for the first and then
    does nothing."""
    return database.insert_one(message, conflict='("channel_id", "external_id")') is not None


def _insert_with_file(message: Message, file: MessageMedia | None) -> bool:
    """insert_once, and the row of the file the message carries with it,
    in one transaction (the caller's, when there is one): a crash between
    the two must not leave a message without its file's record."""
    if file is None:
        return insert_once(message)
    with transaction.atomic(savepoint=False):
        if not insert_once(message):
            return False
        file.message_id = message.pk
        database.insert_one(file)
    return True


def _file_stored(file: MessageMedia, file_id: int, message: Message) -> None:
    """`file`'s row was written by the message's statement, as `file_id`."""
    file.pk, file.message_id = file_id, message.pk
    file._state.adding, file._state.db = False, connection.alias


@cache
def _file_sql() -> tuple[list, str]:
    """The row of the file a message carries, inserted in the message's
    statement (a WITH whose "m" is the message's INSERT … RETURNING id)."""
    return database.insert_select_sql(MessageMedia, exprs=(("message_id", "m.id"),), source="m", returning="id")


# A ticket's last activity is moved forward at most this often by a busy
# conversation: one UPDATE less per message, and lists ordered by activity
# are still right to within seconds.
ACTIVITY_RESOLUTION = timedelta(seconds=10)


@cache
def _conversation_sql(field: str, with_lid: bool = False) -> str:
    quote = connection.ops.quote_name
    contact, wallet, ticket, identity = (
        quote(model._meta.db_table) for model in (Contact, Contact.wallet.field.related_model, Ticket, ContactIdentity)
    )
    # The contact with the address, else the one a merge of duplicates left
    # it to (an identity of the same kind): one statement either way. The
    # "NOT (... = '')" is the unique index's condition as Django wrote it:
    # SQLite uses a partial index only for a query that repeats it word for
    # word, and scanned every contact without it.
    which = (
        "c.id = %s"
        if field == "id"
        else f"c.id = COALESCE((SELECT id FROM {contact} WHERE {quote(field)} = %s AND NOT ({quote(field)} = '')), "
        f"(SELECT contact_id FROM {identity} WHERE kind = %s AND value = %s))"
    )
    # "NOT (status = 'closed')" is the active-ticket index's own condition.
    conversation = (
        f"LEFT JOIN {wallet} w ON w.id = c.wallet_id "
        f"LEFT JOIN {ticket} t ON t.contact_id = c.id AND t.channel_id = %s AND NOT (t.status = 'closed') "
    )
    if not with_lid:
        return f"SELECT c.id, w.user_id, t.id, t.last_message_at < %s FROM {contact} c {conversation}WHERE {which}"
    # The LID's row beside the number's conversation: a row whether either
    # is there or not (see identities.lid_known).
    return (
        f"SELECT c.id, w.user_id, t.id, t.last_message_at < %s, k.id, k.contact_id, k.number "
        f"FROM (SELECT 1 AS one) q LEFT JOIN {identity} k ON k.kind = %s AND k.value = %s "
        f"LEFT JOIN {contact} c ON {which} {conversation}"
    )


def _conversation(*, channel: Channel, identity: str, now) -> tuple | None:
    """The chat's contact and ticket (see _conversation_by); a chat from an
    address that a merge of duplicates left to another contact reaches
    that contact."""
    return _conversation_by(channel=channel, identity=identity, now=now)


def _conversation_by(*, channel: Channel, identity, now, field: str | None = None) -> tuple | None:
    """In one statement: (contact id, its wallet's agent id, the contact's
    active ticket id on `channel`, whether that ticket's last message is
    older than ACTIVITY_RESOLUTION); None when the chat is nobody's
    contact. Written out in SQL: the ORM takes several times longer to
    compose this query than the database takes to answer it, and every
    message asks it."""
    if not identity:
        return None
    field = field or channel.provider.contact_field
    cutoff = connection.ops.adapt_datetimefield_value(now - ACTIVITY_RESOLUTION)
    params = [cutoff, channel.pk, identity] if field == "id" else [cutoff, channel.pk, identity, field, identity]
    with database.hot_cursor() as cursor:
        cursor.execute(_conversation_sql(field), params)
        return cursor.fetchone()


def _conversation_and_lid(*, channel: Channel, identity: str, lid: str, now) -> tuple[tuple | None, tuple | None]:
    """The number's conversation (see _conversation_by) and what the LID
    is known as (identities.lid_known), in one statement: a message
    addressed by LID and number, most of WhatsApp's traffic, asks both."""
    field = channel.provider.contact_field
    cutoff = connection.ops.adapt_datetimefield_value(now - ACTIVITY_RESOLUTION)
    params = [cutoff, ContactIdentity.Kind.LID, lid, identity, field, identity, channel.pk]
    with database.hot_cursor() as cursor:
        cursor.execute(_conversation_sql(field, with_lid=True), params)
        row = cursor.fetchone()
    found = row[:4] if row[0] is not None else None
    known = row[5:] if row[4] is not None else None
    return found, known


def _open_ticket(*, contact_id: int, channel: Channel, agent_id: int | None, now) -> tuple[int, bool]:
    """Open a ticket for the contact, or take the one another writer opened
    a moment ago (the database keeps one active ticket per contact and
    channel): (its id, whether it was opened here). One statement when it
    opens one: no savepoint, so it can share its caller's transaction."""
    ticket = Ticket(
        contact_id=contact_id,
        channel=channel,
        user_id=agent_id,
        status=Ticket.Status.OPEN if agent_id else Ticket.Status.PENDING,
        created_at=now,
        updated_at=now,
        last_message_at=now,
    )
    # The target is the one-active-ticket constraint (a partial unique
    # index): both databases infer it from its columns and condition.
    if database.insert_one(ticket, conflict='("contact_id", "channel_id") WHERE NOT ("status" = \'closed\')') is not None:
        return ticket.pk, True
    return Ticket.objects.active().filter(contact_id=contact_id, channel=channel).values_list("pk", flat=True).get(), False


def message_receive(*, channel: Channel, inbound: Inbound) -> Message | None:
    """Store one delivered message, once (see _receive). A contact merged
    into another while its message was being stored makes the database
    refuse the message (it would point at a contact that is gone); it is
    stored again, for the survivor. A person's "SAIR" (optout) is
    recorded as their opt-out on the channel. The file a message carries
    is recorded with it, in its statement or transaction, and fetched
    later (tickets.media)."""
    file = media.media_row(inbound.media) if inbound.media is not None and not inbound.edited else None
    message = database.retrying(
        lambda: _receive(channel=channel, inbound=inbound, file=file),
        on=(IntegrityError, Ticket.DoesNotExist),
        # Inside a caller's transaction the refused statement aborted it.
        when=lambda error: not connection.in_atomic_block,
    )
    if message is not None and file is not None:
        media.media_recorded(file)
    if message is not None and not inbound.from_me and not inbound.is_group and optout.asks_to_opt_out(inbound.body):
        optout.opt_out_record(message=message)
    return message


def _receive(*, channel: Channel, inbound: Inbound, file: MessageMedia | None = None) -> Message | None:
    """Store one delivered message, once. From a known contact (the chat's
    contact: the person, or the group) it joins the contact's active ticket
    on the channel, or opens one; our own messages (sent from the phone)
    join an active ticket but do not open one. A person nobody knows yet
    becomes a contact with a ticket at once (_first_message); so does a
    group, when the channel says group messages open tickets, else it
    waits for "Sincronizar grupos".

    An edit (Telegram's edited_message, Evolution's messages.edited)
    replaces the text of the stored message (see _already_stored), or is
    stored as new when the original never arrived (unless it cannot say
    whose it is: Inbound.edit_only). Returns the stored message, None when it was
    stored already.

    Every message takes this path, so it is short. Where one statement may
    hold several writes (PostgreSQL), a message to a conversation going on
    is one statement (_join_conversation) and so is a new sender's
    (_first_message_at_once). Otherwise, and for what those leave (a
    ticket to open, a LID to settle), one statement finds the contact and
    its ticket (one more for a LID), one INSERT stores the message (atomic
    by itself). Only a message that opens a ticket or carries a file
    (`file`: its row, see media.media_row) writes more than one row, and
    those writes share a transaction or a statement."""
    now = timezone.now()
    if inbound.edit_only:
        return _already_stored(channel=channel, inbound=inbound, now=now)
    read = None
    if inbound.chat_identity and database.writes_in_with():
        read, joined = _join_conversation(channel=channel, inbound=inbound, now=now, file=file)
        if joined is not None:
            return joined or None
    conversation, identity, known = _find(channel=channel, inbound=inbound, now=now, read=read)
    if read is not None and read[1] is None and known is not None and conversation is not None:
        # A contact's LID seen for the first time, claimed by _find: the
        # message now joins the conversation as any other, in one
        # statement (with the ticket it opens).
        _read, joined = _join_conversation(channel=channel, inbound=inbound, now=now, file=file)
        if joined is not None:
            return joined or None
    if conversation is None:
        if _opens_conversation(channel=channel, inbound=inbound, identity=identity):
            return _first_message(channel=channel, inbound=inbound, identity=identity, now=now, lid_seen=known is not None, file=file)
        conversation = (None, None, None, None)
    contact_id, agent_id, ticket_id, stale = conversation
    message = _message(channel=channel, inbound=inbound, identity=identity, now=now, contact_id=contact_id, ticket_id=ticket_id)
    if contact_id is not None and ticket_id is None and _opens_ticket(channel=channel, inbound=inbound):
        # The ticket first, so the message goes in once, with it; a repeated
        # delivery undoes the ticket it opened.
        with transaction.atomic():
            message.ticket_id, _opened = _open_ticket(contact_id=contact_id, channel=channel, agent_id=agent_id, now=now)
            if _insert_with_file(message, file):
                return message
            transaction.set_rollback(True)
        return _already_stored(channel=channel, inbound=inbound, now=now)
    if not _insert_with_file(message, file):
        return _already_stored(channel=channel, inbound=inbound, now=now)
    if ticket_id is not None and stale:
        Ticket.objects.filter(pk=ticket_id, last_message_at__lt=now).update(last_message_at=now, updated_at=now)
    return message


def _next_id(model) -> str:
    """The SQL for the id `model`'s next row will have (its sequence's
    nextval), so one statement can point at a row it writes later."""
    return f"nextval(pg_get_serial_sequence('{model._meta.db_table}', '{model._meta.pk.column}'))"


@cache
def _join_sql(field: str, with_lid: bool, with_file: bool = False) -> tuple[list, list, str]:
    """See _join_conversation: the conversation's statement
    (_conversation_sql) and the LID's row as a WITH, the id of the ticket
    the message opens (when the contact has none and it opens one), the
    message's INSERT … SELECT from them, that ticket's row, its file's
    row (with_file) and the ticket's activity UPDATE when the INSERT
    wrote a row. Returns (the message's fields its parameters are for,
    the ticket's, the statement)."""
    quote = connection.ops.quote_name
    identity = quote(ContactIdentity._meta.db_table)
    contact = quote(Contact._meta.db_table)
    # The contact is locked (FOR KEY SHARE, as the message's foreign key
    # would lock it when the statement ends) before its ticket is: in the
    # order a merge of duplicates locks them, or the two would deadlock.
    # A contact merged away while this waited is gone from "locked".
    conversation = (
        f"conv (contact_id, agent_id, ticket_id, stale) AS ({_conversation_sql(field)}), "
        f"locked AS (SELECT id FROM {contact} WHERE id = (SELECT contact_id FROM conv) FOR KEY SHARE)"
    )
    lid = f", lid (id, contact_id, number) AS (SELECT id, contact_id, number FROM {identity} WHERE kind = %s AND value = %s)"
    # A contact without an active ticket whose message opens one (the
    # parameter, _opens_ticket): the id the ticket will have.
    opening = f", opening (ticket_id) AS (SELECT CASE WHEN conv.ticket_id IS NULL AND %s THEN {_next_id(Ticket)} END FROM conv)"
    # The LID must name the number's contact, and the number (else _find
    # settles it first, outside this statement).
    agrees = " AND EXISTS (SELECT 1 FROM lid WHERE lid.contact_id = conv.contact_id AND lid.number = %s)"
    fields, insert = database.insert_select_sql(
        Message,
        exprs=(("contact_id", "conv.contact_id"), ("ticket_id", "COALESCE(conv.ticket_id, opening.ticket_id)")),
        source=f"conv, opening WHERE EXISTS (SELECT 1 FROM locked){agrees if with_lid else ''}",
        conflict='("channel_id", "external_id")',
        returning=", ".join(quote(column) for column in ("id", "ticket_id", "channel_id", "created_at")),
    )
    # The ticket goes in only when the message did (a repeated delivery
    # opens none), after it in the statement: the foreign key is checked
    # when the statement ends. Its agent is the wallet's, as _open_ticket
    # chooses. No ON CONFLICT: a ticket another writer opened meanwhile
    # makes the statement fail whole, and message_receive tries again.
    status = "CASE WHEN conv.agent_id IS NULL THEN '{}' ELSE '{}' END".format(Ticket.Status.PENDING, Ticket.Status.OPEN)
    ticket_fields, ticket_insert = database.insert_select_sql(
        Ticket,
        exprs=(
            ("id", "m.ticket_id"),
            ("contact_id", "conv.contact_id"),
            ("channel_id", "m.channel_id"),
            ("user_id", "conv.agent_id"),
            ("status", status),
            ("created_at", "m.created_at"),
            ("updated_at", "m.created_at"),
            ("last_message_at", "m.created_at"),
            ("closed_at", "NULL"),
            ("merged_into_id", "NULL"),
        ),
        source="m, conv, opening WHERE m.ticket_id = opening.ticket_id",
    )
    ticket = quote(Ticket._meta.db_table)
    file = f"md AS ({_file_sql()[1]}), " if with_file else ""
    sql = (
        f"WITH {conversation}{lid if with_lid else ''}{opening}, m AS ({insert}), opened AS ({ticket_insert}), {file}"
        f"activity AS (UPDATE {ticket} SET last_message_at = %s, updated_at = %s FROM conv "
        f"WHERE {ticket}.id = conv.ticket_id AND conv.stale AND {ticket}.last_message_at < %s AND EXISTS (SELECT 1 FROM m)) "
        f"SELECT conv.*, {'lid.*, ' if with_lid else ''}EXISTS (SELECT 1 FROM locked), (SELECT id FROM m), (SELECT ticket_id FROM m)"
        f"{', (SELECT id FROM md)' if with_file else ''} "
        f"FROM (SELECT 1) AS one LEFT JOIN conv ON true{' LEFT JOIN lid ON true' if with_lid else ''}"
    )
    return fields, ticket_fields, sql


def _join_conversation(
    *, channel: Channel, inbound: Inbound, now, file: MessageMedia | None = None
) -> tuple[tuple | None, Message | bool | None]:
    """A message to a contact's conversation (its active ticket; a ticket
    it opens; or its chat, for a message that opens no ticket) in one
    statement (writes_in_with): the conversation's look-up, the message's
    INSERT, the ticket it opens, the ticket's activity, and the row of
    the file it carries (`file`). Most messages are this; a round trip
    and a commit less each than a statement apiece, and a known contact's
    first message is not a transaction of four. Returns what the
    statement read (the conversation and the LID's row, as
    _conversation_and_lid; None when the contact was merged away
    meanwhile) and the stored message; False when it was stored already;
    None when the message needs more than this (a LID to settle, a new
    contact): _receive goes on from what was read."""
    identity, lid = inbound.chat_identity, inbound.chat_lid
    field = channel.provider.contact_field
    fields, ticket_fields, sql = _join_sql(field, bool(lid), file is not None)
    message = _message(channel=channel, inbound=inbound, identity=identity, now=now, contact_id=None, ticket_id=None)
    opens = _opens_ticket(channel=channel, inbound=inbound)
    cutoff = connection.ops.adapt_datetimefield_value(now - ACTIVITY_RESOLUTION)
    stamp = connection.ops.adapt_datetimefield_value(now)
    params = [cutoff, channel.pk, identity, field, identity]
    if lid:
        params += [ContactIdentity.Kind.LID, lid]
    params += [opens, *database.row_values(message, fields), *([identity] if lid else [])]
    if ticket_fields:
        params += database.row_values(Ticket(channel=channel, created_at=now, updated_at=now, last_message_at=now), ticket_fields)
    if file is not None:
        params += database.row_values(file, _file_sql()[0])
    params += [stamp, stamp, stamp]
    with database.hot_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if file is not None:
        *row, file_id = row
    *row, ticket_id = row
    found = tuple(row[:4]) if row[0] is not None else None
    known = tuple(row[5:7]) if lid and row[4] is not None else None
    locked, stored_id = row[-2:]
    if found is not None and not locked:  # merged away meanwhile: what was read is out of date
        return None, None
    if found is None or (lid and known != (found[0], identity)):
        return (found, known), None
    if stored_id is None:  # stored already: an edit may apply
        return (found, known), _already_stored(channel=channel, inbound=inbound, now=now) or False
    message.pk, message.contact_id, message.ticket_id = stored_id, found[0], ticket_id
    message._state.adding, message._state.db = False, connection.alias
    if file is not None:
        _file_stored(file, file_id, message)
    return (found, known), message


def _find(*, channel: Channel, inbound: Inbound, now, read: tuple | None = None) -> tuple[tuple | None, str, tuple | None]:
    """The chat's conversation (see _conversation_by), its identity, and
    what its LID is known as (identities.lid_known; None without a LID or
    when it was never seen; the contact's, once claimed here). A private WhatsApp chat may come with a LID
    beside its number, or with a LID alone: a LID whose number was
    revealed before is known by it, and a number and LID that name
    different contacts (or none yet) are put together first
    (identities.pair_reveal). `read`: the conversation and the LID's row
    as _join_conversation read them."""
    identity, lid = inbound.chat_identity, inbound.chat_lid
    if read is not None:
        found, known = read
    elif lid and identity:
        found, known = _conversation_and_lid(channel=channel, identity=identity, lid=lid, now=now)
    else:
        known = identities.lid_known(lid) if lid else None
        if known is not None and not identity:
            identity = known[1]
        found = _conversation(channel=channel, identity=identity, now=now) if identity else None
    if lid and identity and known != ((found[0] if found else None), identity) and (known or found):
        seen = ContactIdentity.Seen.MESSAGE
        # A contact's LID seen for the first time is one statement; any
        # other disagreement is settled by pair_reveal.
        if known is not None or not identities.lid_claim(contact_id=found[0], lid=lid, phone=identity, seen=seen, place=channel.name):
            identities.pair_reveal(lid=lid, phone=identity, seen=seen, place=channel.name)
            found = _conversation(channel=channel, identity=identity, now=now)
        else:
            known = (found[0], identity)  # claimed: the contact's now
    if found is None and known is not None and known[0] is not None:
        found = _conversation_by(channel=channel, identity=known[0], now=now, field="id")
    return found, identity, known

def _opens_ticket(*, channel: Channel, inbound: Inbound) -> bool:
    """Whether a message from a contact with no active ticket opens one: a
    person's does, ours (sent from the phone) does not, a group's when the
    channel says so."""
    return not inbound.from_me and (not inbound.is_group or channel.group_tickets)


def _opens_conversation(*, channel: Channel, inbound: Inbound, identity: str) -> bool:
    """Whether a message from nobody's chat makes its sender a contact: when
    it would open a ticket and the chat has an address (a LID will do)."""
    addressed = bool(identity) or (bool(inbound.chat_lid) and not inbound.is_group)
    return addressed and _opens_ticket(channel=channel, inbound=inbound)


def _message(*, channel: Channel, inbound: Inbound, identity: str, now, contact_id, ticket_id) -> Message:
    return Message(
        channel=channel,
        external_id=inbound.external_id,
        chat_id=inbound.chat_id,
        chat_identity=identity,
        sender_id=inbound.sender_id,
        sender_name=inbound.sender_name,
        is_group=inbound.is_group,
        group_name=inbound.group_name,
        from_me=inbound.from_me,
        kind=inbound.kind,
        body=inbound.body,
        details=inbound.details,
        sent_at=inbound.sent_at,
        edited_at=now if inbound.edited else None,
        contact_id=contact_id,
        ticket_id=ticket_id,
        delivery=Message.Delivery.SENT if inbound.from_me else Message.Delivery.RECEIVED,
        created_at=now,
        updated_at=now,
    )


def _first_message(
    *, channel: Channel, inbound: Inbound, identity: str, now, lid_seen: bool = False, file: MessageMedia | None = None
) -> Message | None:
    """A message from somebody who is nobody's contact yet: the message, the
    contact (the profile name, else the number) with its history and its
    LID, and a ticket, all in one transaction; the chat's earlier messages
    stored unlinked join them. A repeated delivery stores nothing. Two
    first messages at once: the database lets one create the contact
    (its number, Telegram id and LID are unique); the other's transaction
    is undone, and message_receive stores it again for that contact.
    `lid_seen`: the chat's LID is remembered already (without a contact),
    and is claimed rather than added. `file`: the row of the file the
    message carries, written with it."""
    contact = Contact(name=_first_name(channel=channel, inbound=inbound, identity=identity), is_group=inbound.is_group)
    setattr(contact, channel.provider.contact_field, identity)
    contact.refresh_search_fields()
    message = _message(channel=channel, inbound=inbound, identity=identity, now=now, contact_id=None, ticket_id=None)
    if database.writes_in_with() and not lid_seen:
        return _first_message_at_once(channel=channel, inbound=inbound, message=message, contact=contact, now=now, file=file)
    with transaction.atomic():
        if not _insert_with_file(message, file):
            return _already_stored(channel=channel, inbound=inbound, now=now)
        # Written as a bulk writer does (no signals): its history by hand,
        # two statements instead of four.
        database.insert_one(contact)
        history_bulk_write(model=Contact, objects=[contact], history_type="+")
        if inbound.chat_lid:
            identities.lid_attach(
                contact_id=contact.pk, lid=inbound.chat_lid, phone=identity, seen=ContactIdentity.Seen.MESSAGE, place=channel.name
            )
        # Nobody can have opened a ticket for a contact this new: pending.
        ticket_id, _opened = _open_ticket(contact_id=contact.pk, channel=channel, agent_id=None, now=now)
        message.contact_id, message.ticket_id = contact.pk, ticket_id
        _link_earlier(channel=channel, identity=identity, chat_id=inbound.chat_id, contact_id=contact.pk, ticket_id=ticket_id)
    return message


@cache
def _first_message_sql(*, with_lid: bool, by_chat: bool, with_file: bool = False) -> tuple[list, list, list, str]:
    """See _first_message_at_once: (the message's, the contact's and the
    ticket's fields its parameters are for, in the statement's order; the
    statement)."""
    quote = connection.ops.quote_name

    message_fields, message_insert = database.insert_select_sql(
        Message,
        exprs=(("contact_id", "ids.contact_id"), ("ticket_id", "ids.ticket_id")),
        source="ids",
        conflict='("channel_id", "external_id")',
        returning="id, contact_id, ticket_id, channel_id, created_at",
    )
    history = history_model_of(Contact)
    tracked = [quote(field.column) for field in history.tracked_fields]
    contact_fields, contact_insert = database.insert_select_sql(
        Contact, exprs=(("id", "m.contact_id"),), source="m", returning=", ".join(tracked)
    )
    # What every new sender's ticket and history record have in common is
    # written in the statement, the times are the message's: psycopg
    # parses a statement of more than 50 parameters again for each call
    # (0.4 ms) instead of keeping it parsed.
    ticket_fields, ticket_insert = database.insert_select_sql(
        Ticket,
        exprs=(
            ("id", "m.ticket_id"),
            ("contact_id", "m.contact_id"),
            ("channel_id", "m.channel_id"),
            ("user_id", "NULL"),
            # Nobody can have opened a ticket for a contact this new: pending.
            ("status", f"'{Ticket.Status.PENDING}'"),
            ("created_at", "m.created_at"),
            ("updated_at", "m.created_at"),
            ("last_message_at", "m.created_at"),
            ("closed_at", "NULL"),
            ("merged_into_id", "NULL"),
        ),
        source="m",
    )
    table = quote(Message._meta.db_table)
    identity = quote(ContactIdentity._meta.db_table)
    parts = [
        f"ids AS (SELECT {_next_id(Contact)} AS contact_id, {_next_id(Ticket)} AS ticket_id)",
        f"m AS ({message_insert})",
        f"c AS ({contact_insert})",
        f"h AS (INSERT INTO {quote(history._meta.db_table)} ({', '.join(tracked)}, history_date, history_type, "
        "history_user_id, history_change_reason, history_source, history_batch) "
        f"SELECT {', '.join('c.' + column for column in tracked)}, m.created_at, '+', %s, NULL, %s, %s FROM c, m)",
        f"t AS ({ticket_insert})",
    ]
    if with_lid:
        # A plain INSERT: the LID was never seen when the chat was looked
        # up; a writer that took it meanwhile makes this statement fail
        # whole, and message_receive tries again.
        parts.append(
            f"k AS (INSERT INTO {identity} (contact_id, kind, value, number, seen, place, seen_at) "
            "SELECT m.contact_id, %s, %s, %s, %s, %s, %s FROM m)"
        )
    if with_file:
        parts.append(f"md AS ({_file_sql()[1]})")
    # "contact_id IS NULL" first: the unlinked-messages index's condition.
    chat = f" AND {table}.chat_id = %s" if by_chat else ""
    parts.append(
        f"earlier AS (UPDATE {table} SET contact_id = m.contact_id, ticket_id = m.ticket_id FROM m "
        f"WHERE {table}.contact_id IS NULL AND {table}.chat_identity = %s AND {table}.channel_id = %s{chat})"
    )
    file = ", (SELECT id FROM md)" if with_file else ""
    return message_fields, contact_fields, ticket_fields, f"WITH {', '.join(parts)} SELECT id, contact_id, ticket_id{file} FROM m"


def _first_message_at_once(
    *, channel: Channel, inbound: Inbound, message: Message, contact: Contact, now, file: MessageMedia | None = None
) -> Message | None:
    """_first_message in one statement (writes_in_with): the message goes in
    first, with the ids its contact and ticket will have; the contact, its
    history record, its LID, its ticket, its file's row and the chat's
    earlier messages' link are written only when it did (a repeated delivery writes
    nothing). Nine round trips and a transaction's two were one. Two
    first messages at once: the contact's unique number, Telegram id or
    LID makes the second statement fail whole, as the transaction did."""
    identity, lid = message.chat_identity, inbound.chat_lid
    message_fields, contact_fields, ticket_fields, sql = _first_message_sql(
        with_lid=bool(lid), by_chat=not identity, with_file=file is not None
    )
    actor, user = current_actor(), current_user()
    stamp = connection.ops.adapt_datetimefield_value(now)
    params = [
        *database.row_values(message, message_fields),
        *database.row_values(contact, contact_fields),
        user.pk if user else None, actor.source, actor.batch,
    ]
    if ticket_fields:  # a column added to tickets since
        params += database.row_values(Ticket(channel=channel, created_at=now, updated_at=now, last_message_at=now), ticket_fields)
    if lid:
        params += [ContactIdentity.Kind.LID, lid, identity, ContactIdentity.Seen.MESSAGE, channel.name[:100], stamp]
    if file is not None:
        params += database.row_values(file, _file_sql()[0])
    params += [identity, channel.pk, *([] if identity else [inbound.chat_id])]
    with database.hot_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return _already_stored(channel=channel, inbound=inbound, now=now)
    message.pk, message.contact_id, message.ticket_id = row[:3]
    message._state.adding, message._state.db = False, connection.alias
    if file is not None:
        _file_stored(file, row[3], message)
    return message


@cache
def _link_earlier_sql(by_chat: bool) -> str:
    quote = connection.ops.quote_name
    chat = f" AND {quote('chat_id')} = %s" if by_chat else ""
    # "contact_id IS NULL" first: the unlinked-messages index's condition.
    return (
        f"UPDATE {quote(Message._meta.db_table)} SET {quote('contact_id')} = %s, {quote('ticket_id')} = %s "
        f"WHERE {quote('contact_id')} IS NULL AND {quote('chat_identity')} = %s AND {quote('channel_id')} = %s{chat}"
    )


def _link_earlier(*, channel: Channel, identity: str, chat_id: str, contact_id: int, ticket_id: int) -> None:
    """A new contact's chat's messages stored before it existed (before
    new senders became contacts, or while the channel left groups alone)
    join its ticket. Written out: every first message asks it, and the
    ORM's update costs more to compose than to run."""
    params = [contact_id, ticket_id, identity, channel.pk] + ([] if identity else [chat_id])
    with connection.cursor() as cursor:
        cursor.execute(_link_earlier_sql(not identity), params)


def _first_name(*, channel: Channel, inbound: Inbound, identity: str) -> str:
    """A new contact's name: the group's title, the person's profile name,
    else the number (or the chat id); a LID alone names nobody."""
    name = inbound.group_name if inbound.is_group else inbound.sender_name
    if name:
        return name
    if channel.provider.contact_field == "number" and identity and not inbound.is_group:
        return format_phone(identity)
    return identity or gettext("WhatsApp contact")


def _already_stored(*, channel: Channel, inbound: Inbound, now) -> None:
    """A repeated delivery changes nothing. An edit from the message's own
    sender (Message.allows_edit) replaces its text and keeps the text it
    replaces (MessageEdit); an edit from anyone else, or one that changes
    nothing (a repeated delivery of it), is dropped. Only edits pay for
    the look-up and the lock."""
    if not inbound.edited:
        return
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(channel=channel, external_id=inbound.external_id).first()
        # An edit of a message whose content the retention policy removed
        # would bring the content back.
        if message is None or message.content_removed_at is not None or not message.allows_edit(inbound, same_sender=identities.same_person):
            return
        if (message.kind, message.body) == (inbound.kind, inbound.body):
            return
        MessageEdit.objects.create(message=message, kind=message.kind, body=message.body, replaced_at=now)
        Message.objects.filter(pk=message.pk).update(body=inbound.body, kind=inbound.kind, edited_at=now, updated_at=now)


@transaction.atomic
def ticket_start(*, contact: Contact, channel: Channel, user, reason: str = "") -> tuple[Ticket, bool]:
    """"Iniciar atendimento": the contact's active ticket on `channel`, or a
    new one assigned to `user`. (ticket, created). A person who opted out
    on the channel is written to only with a `reason`, which is kept
    (raises ValidationError without one), once per ticket: going back to
    an active ticket that has its reason asks for none."""
    opt_out = optout.reason_needed_to_start(contact=contact, channel=channel)
    if opt_out is not None and not reason.strip():
        raise optout.refusal(opt_out)
    ticket, created = active_ticket(contact=contact, channel=channel, user=user)
    if opt_out is not None:
        optout.reason_record(opt_out=opt_out, ticket=ticket, user=user, reason=reason.strip())
    return ticket, created


def _recipient(ticket: Ticket) -> str:
    """Where a reply goes: the chat the contact last wrote from on this
    channel (the address WhatsApp itself uses), else the address the
    channel's provider gives the contact (its number or a group's JID on
    WhatsApp, its id on Telegram)."""
    last = (
        Message.objects.filter(contact=ticket.contact, channel=ticket.channel, from_me=False)
        .order_by("-sent_at", "-id")
        .values_list("chat_id", flat=True)
        .first()
    )
    if last:
        return last
    return ticket.channel.provider.chat_id_of(ticket.contact)


def reply_create(*, ticket: Ticket, text: str, user, reason: str = "", attachment: media.Attachment | None = None) -> Message:
    """Store an agent's reply, not yet sent (reply_send sends it): a text,
    or a file (checked by media.attachment_of) with `text` as its caption,
    stored as the message's media. Replying to a ticket nobody serves
    makes it the replier's. The first reply in a ticket to a person who
    opted out on its channel needs a `reason`, which is kept (raises
    ValidationError without one, and stores nothing)."""
    now = timezone.now()
    attached = None
    try:
        with transaction.atomic():
            message = _reply_store(ticket=ticket, text=text, user=user, reason=reason, attachment=attachment, now=now)
            if attachment is not None:
                attached = media.media_attach(message=message, attachment=attachment)
                message.media = attached
    except BaseException:
        if attached is not None:  # its row was undone with the message
            media.media_discard(attached)
        raise
    return message


def _reply_store(*, ticket: Ticket, text: str, user, reason: str, attachment: media.Attachment | None, now) -> Message:
    """The reply's message, its opt-out reason, the ticket's activity."""
    opt_out = optout.reason_needed(ticket=ticket)
    if opt_out is not None:
        if not reason.strip():
            raise optout.refusal(opt_out)
        optout.reason_record(opt_out=opt_out, ticket=ticket, user=user, reason=reason.strip())
    message = Message.objects.create(
        channel=ticket.channel,
        # The provider's id replaces this one once it is sent.
        external_id=f"local:{uuid.uuid4()}",
        chat_id=_recipient(ticket),
        chat_identity=ticket.channel.identity_of(ticket.contact),
        sender_id=ticket.channel.address,
        sender_name=user.get_full_name() or user.get_username(),
        is_group=ticket.contact.is_group,
        group_name=ticket.contact.name if ticket.contact.is_group else "",
        from_me=True,
        kind=media.MESSAGE_KINDS[attachment.kind] if attachment is not None else Message.Kind.TEXT,
        body=safe_body(text),
        # Whole seconds, like the providers' timestamps: an answer that
        # arrives within the same second still shows after the reply.
        sent_at=now.replace(microsecond=0),
        ticket=ticket,
        contact=ticket.contact,
        delivery=Message.Delivery.SENDING,
        sent_by=user,
        created_at=now,
        updated_at=now,
    )
    if ticket.user_id is None:
        ticket.take(user)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now, last_message_at=now)
    return message


def reply_send(*, message: Message) -> bool:
    """Send a stored reply through its channel (outside any transaction: the
    gateway may take seconds). On success the message gets the provider's
    id, so the gateway's echo of it is recognised as the same message; on
    failure it says why, and can be sent again. True when sent."""
    try:
        external_id = message.channel.provider.send(message)
    except (GatewayError, OSError) as error:
        if isinstance(error, OSError):  # the stored file of a reply could not be read
            logger.exception("Reading the file of message %s failed", message.pk)
            error = GatewayError(gettext("Its file could not be read from the storage (%(reason)s).") % {"reason": type(error).__name__})
        Message.objects.filter(pk=message.pk).update(
            delivery=Message.Delivery.FAILED, error=str(error)[:500], updated_at=timezone.now()
        )
        message.delivery, message.error = Message.Delivery.FAILED, str(error)[:500]
        return False
    with transaction.atomic():
        # The echo may have arrived first and been stored as a message of
        # its own (with the file it carries): this one, with its author,
        # is the one kept.
        echo = Message.objects.filter(channel=message.channel, external_id=external_id).exclude(pk=message.pk)
        media.media_delete(media=MessageMedia.objects.filter(message__in=echo.values("pk")))
        echo.delete()
        Message.objects.filter(pk=message.pk).update(
            external_id=external_id, delivery=Message.Delivery.SENT, error="", updated_at=timezone.now()
        )
    message.external_id, message.delivery, message.error = external_id, Message.Delivery.SENT, ""
    return True


def reply_retry(*, message: Message) -> bool:
    """Send a reply that failed again."""
    Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.SENDING, updated_at=timezone.now())
    return reply_send(message=message)

