"""Undo a merge of duplicates (within settings.MERGE_UNDO_DAYS): the
merged contacts come back with their ids, fields, tags, extra fields,
identities and opt-outs; the tickets and messages they brought go back to
them, while messages that arrived after the merge stay with the survivor;
the survivor's blanks their values filled are emptied again unless changed
since. Anything in the way (another contact took the number) refuses the
undo whole, saying what, and changes nothing.

It reads what the merge's snapshot kept (record.py); merges recorded
before the snapshot kept message ids and fills cannot be undone.

Beside the desk at work (dedup/tests/test_unmerge_concurrency.py, on
PostgreSQL): two undos of one merge run one after the other on the
survivor's lock, and the second says it is undone already; a number taken
after the check refuses the undo like one taken before; a message for
the merged contact stored while the undo runs stays the survivor's when it
is in before the tickets go back, and is stored again for the contact
that came back when it would land after (tickets_give_back). What is
left: a message read before the undo commits and written after, with
nothing to wait for in between, names the survivor in a ticket that went
back; closing that would take a foreign key from a message's (ticket,
contact) to its ticket's."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from contacts.history import custom_fields_bulk_record, history_bulk_record
from contacts.models import DERIVED_FIELDS, Contact, ContactIdentity, CustomField, MergeRecord, OptOut, Tag, Wallet
from tickets.merging import tickets_give_back
from tickets.models import Message, Ticket
from tickets.services import active_ticket

#: The snapshot keys an undo needs (merges before them cannot be undone).
NEEDED = ("message_ids", "filled", "tag_ids", "custom_field_ids", "identity_ids", "opt_out_ids", "closed_tickets")
UNIQUE_FIELDS = ("number", "telegram_id", "cpf_cnpj")
BLANK = {"birth_date": None, "wallet_id": None}


class UnmergeRefused(Exception):
    """The merge cannot be undone; the message says why."""


@dataclass
class UnmergeResult:
    contacts: int = 0
    tickets: int = 0
    messages: int = 0


def undo_deadline(record: MergeRecord):
    return record.created_at + timedelta(days=settings.MERGE_UNDO_DAYS)


def merge_undo(*, record: MergeRecord) -> UnmergeResult:
    """Undo `record`'s merge; raises UnmergeRefused (nothing changed)."""
    try:
        return _undo(record)
    except IntegrityError:
        # Another contact took a number or id after the check and before
        # the merged contact came back with it: everything was undone;
        # say who has it now.
        survivor = Contact.objects.filter(pk=record.survivor_id).first()
        if survivor is not None:
            _refuse_conflicts(survivor, list(record.contacts.order_by("pk")))
        raise


@transaction.atomic
def _undo(record: MergeRecord) -> UnmergeResult:
    merged = list(record.contacts.order_by("pk"))
    if timezone.now() > undo_deadline(record):
        raise UnmergeRefused(_("This merge is more than %(days)s days old and can no longer be undone.") % {"days": settings.MERGE_UNDO_DAYS})
    if not merged or any(key not in m.snapshot for m in merged for key in NEEDED):
        raise UnmergeRefused(_("This merge was made before merges kept what undoing them needs."))
    # FOR NO KEY UPDATE: one undo (or merge, or edit) of the survivor at a
    # time, while a message for the survivor is stored meanwhile without
    # waiting for the undo (tickets_give_back says why it must not).
    survivor = Contact.objects.select_for_update(no_key=True).filter(pk=record.survivor_id).first()
    if survivor is None:
        raise UnmergeRefused(_("The contact this merge kept no longer exists."))
    if record.undone_at is not None or Contact.objects.filter(pk__in=[m.contact_id for m in merged]).exists():
        raise UnmergeRefused(_("This merge was undone already."))
    _refuse_conflicts(survivor, merged)

    result = UnmergeResult(contacts=len(merged))
    # First: the survivor gives up the numbers and ids it took from them.
    _empty_fills(survivor, merged)
    wallets = set(Wallet.objects.values_list("pk", flat=True).filter(pk__in=[m.snapshot.get("wallet_id") for m in merged]))
    restored = []
    for m in merged:
        s = m.snapshot
        contact = Contact(
            pk=m.contact_id,
            name=s["name"],
            email=s.get("email", ""),
            number=s.get("number", ""),
            cpf_cnpj=s.get("cpf_cnpj", ""),
            telegram_id=s.get("telegram_id", ""),
            birth_date=parse_date(s["birth_date"]) if s.get("birth_date") else None,
            first_name=s.get("first_name", ""),
            last_name=s.get("last_name", ""),
            company=s.get("company", ""),
            photo=s.get("photo") or "",
            is_group=s.get("is_group", False),
            wallet_id=s.get("wallet_id") if s.get("wallet_id") in wallets else None,
        )
        contact.refresh_search_fields([value for _name, value in s.get("custom_fields", [])])
        # With its own id, and no signals: its history is written below.
        Contact.objects.bulk_create([contact])
        created = parse_datetime(s["created_at"]) if s.get("created_at") else None
        if created:
            Contact.objects.filter(pk=contact.pk).update(created_at=created)
            contact.created_at = created
        restored.append(contact)
        _give_back(survivor, contact, m, result)

    # The survivor's search columns without its extra fields that went
    # back. Not through contacts_refresh_search, whose FOR UPDATE would
    # wait for a message being stored for the survivor, which waits for
    # this undo (tickets_give_back): the survivor is locked already.
    survivor.refresh_search_fields()
    Contact.objects.filter(pk=survivor.pk).update(**{name: getattr(survivor, name) for name in DERIVED_FIELDS})
    MergeRecord.objects.filter(pk=record.pk).update(undone_at=timezone.now())
    reasons = {contact.pk: f"unmerge:{record.pk}" for contact in [*restored, survivor]}
    history_bulk_record(contacts=restored, created=True, reasons=reasons)
    history_bulk_record(contacts=[survivor], reasons=reasons)
    audit_record(
        action=AuditEvent.Action.UNMERGE,
        parameters={"merge": record.pk, "survivor": survivor.pk, "contacts": [c.pk for c in restored]},
        counts={"contacts": result.contacts, "tickets": result.tickets, "messages": result.messages},
    )
    return result


def _refuse_conflicts(survivor: Contact, merged) -> None:
    """Each merged contact's number, Telegram id and CPF/CNPJ must be free
    again once the survivor's fills are emptied."""
    problems = []
    for m in merged:
        for name in UNIQUE_FIELDS:
            value = m.snapshot.get(name)
            if not value:
                continue
            holder = Contact.objects.filter(**{name: value}).exclude(pk=survivor.pk).first()
            survivor_keeps = getattr(survivor, name) == value and m.snapshot["filled"].get(name) != value
            if holder is not None or survivor_keeps:
                holder = holder or survivor
                problems.append(
                    _("%(field)s %(value)s of “%(name)s” now belongs to “%(holder)s” (#%(id)s).")
                    % {"field": Contact._meta.get_field(name).verbose_name, "value": value, "name": m.name, "holder": holder.name, "id": holder.pk}
                )
    if problems:
        raise UnmergeRefused(" ".join([_("The merge cannot be undone, nothing was changed:"), *problems]))


def _give_back(survivor: Contact, contact: Contact, m, result: UnmergeResult) -> None:
    s = m.snapshot
    tags = set(Tag.objects.filter(pk__in=s["tag_ids"]).values_list("pk", flat=True))
    Contact.tags.through.objects.bulk_create([Contact.tags.through(contact_id=contact.pk, tag_id=t) for t in s["tag_ids"] if t in tags])
    # Extra fields: those that moved go back under their own name, those the
    # merge dropped are made again.
    fields = []
    existing = CustomField.objects.in_bulk(s["custom_field_ids"])
    for pk, (name, value) in zip(s["custom_field_ids"], s.get("custom_fields", []), strict=False):
        extra = existing.get(pk)
        if extra is not None and extra.contact_id == survivor.pk:
            extra.contact_id, extra.name = contact.pk, name
            extra.save(update_fields=["contact", "name"])
        else:
            extra = CustomField.objects.create(contact=contact, name=name, value=value)
        fields.append(extra)
    custom_fields_bulk_record(fields=fields)
    ContactIdentity.objects.filter(merged_id=m.pk).delete()
    ContactIdentity.objects.filter(pk__in=s["identity_ids"], contact=survivor).update(contact=contact)
    # A LID revealed as the survivor's number is what merged them (a merge
    # on reveal): back with its contact, it forgets that number, or its next
    # message would reach the survivor again. A later reveal of the same
    # pair by the gateway merges them again, as any reveal does.
    survivor_numbers = {survivor.number, *ContactIdentity.objects.filter(contact=survivor, kind=ContactIdentity.Kind.NUMBER).values_list("value", flat=True)}
    ContactIdentity.objects.filter(
        pk__in=s["identity_ids"], kind=ContactIdentity.Kind.LID, number__in=survivor_numbers - {"", s.get("number") or ""}
    ).update(number="")
    OptOut.objects.filter(pk__in=s["opt_out_ids"], contact=survivor).update(contact=contact)
    # Tickets and messages: theirs go back; a ticket closed into another
    # by the merge is opened again with its own messages.
    theirs = set(Ticket.objects.filter(pk__in=s["tickets"], contact=survivor).values_list("pk", flat=True))
    result.tickets += tickets_give_back(ticket_ids=sorted(theirs), contact_id=contact.pk)
    message_ids = set(s["message_ids"])
    for closed, kept in ((int(c), k) for c, k in s["closed_tickets"].items()):
        if closed in theirs:  # theirs closed into the survivor's
            Message.objects.filter(pk__in=message_ids, ticket_id=kept).update(ticket_id=closed)
            _reopen(closed)
        elif kept in theirs:  # the survivor's closed into theirs
            Message.objects.filter(ticket_id=kept).exclude(pk__in=message_ids).update(ticket_id=closed)
            _reopen(closed)
    result.messages += Message.objects.filter(pk__in=message_ids, contact=survivor).update(contact=contact)
    # Messages the survivor received after the merge in a ticket that goes
    # back stay the survivor's, in its own ticket on that channel.
    later = Message.objects.filter(ticket_id__in=theirs).exclude(pk__in=message_ids).filter(contact=survivor)
    for channel_id in set(later.values_list("channel_id", flat=True)):
        ticket, _opened = active_ticket(contact=survivor, channel=Ticket.objects.filter(pk__in=theirs, channel_id=channel_id).first().channel)
        later.filter(channel_id=channel_id).update(ticket=ticket)
    Ticket.objects.filter(pk__in=theirs).catch_up_last_message()


def _reopen(ticket_id: int) -> None:
    ticket = Ticket.objects.filter(pk=ticket_id, status=Ticket.Status.CLOSED).first()
    if ticket is None:
        return
    if Ticket.objects.active().filter(contact_id=ticket.contact_id, channel_id=ticket.channel_id).exists():
        return  # the contact has an active ticket there: this one stays closed
    Ticket.objects.filter(pk=ticket_id).update(
        status=Ticket.Status.OPEN if ticket.user_id else Ticket.Status.PENDING, closed_at=None, merged_into=None, updated_at=timezone.now()
    )


def _empty_fills(survivor: Contact, merged) -> None:
    """The survivor's blanks the merged contacts filled, emptied again
    unless the value changed since."""
    changed = {}
    for m in merged:
        for name, value in m.snapshot["filled"].items():
            current = getattr(survivor, name)
            current = current.name if name == "photo" else current
            current = current.isoformat() if hasattr(current, "isoformat") else current
            if current == value:
                setattr(survivor, name, BLANK.get(name, ""))
                changed[name] = BLANK.get(name, "")
    survivor.refresh_search_fields()
    survivor.updated_at = timezone.now()
    derived = {name: getattr(survivor, name) for name in DERIVED_FIELDS}
    Contact.objects.filter(pk=survivor.pk).update(**changed, **derived, updated_at=survivor.updated_at)
