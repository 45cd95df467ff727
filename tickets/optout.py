"""Opt-out: a person who writes "SAIR", "PARAR", "STOP" or "DESCADASTRAR"
alone (any case or accent, punctuation and spaces around it) asks not to
receive messages on that channel. The message is kept as evidence
(contacts.OptOut); agents see it on the ticket; writing to the person on
that channel afterwards asks for a reason, once per ticket (OptOutReason),
until an administrator lifts the opt-out (contacts.services.opt_out_lift).
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from contacts.models import Contact, OptOut
from contacts.normalizers import fold
from contacts_portal import database

from .models import Channel, Message, OptOutReason, Ticket

KEYWORDS = frozenset({"sair", "parar", "stop", "descadastrar"})
# Longer than any keyword with some punctuation around it: a longer text
# is a sentence, not the word alone (and is not folded for nothing).
_MAX_LENGTH = 60
# What may surround the word: anything but letters and digits.
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def asks_to_opt_out(text: str) -> bool:
    """Whether `text` is one of the opt-out words alone: "SAIR", "Parar.",
    " stop! ", "DESCADASTRAR 🙏"; not "quero sair" nor "parar de receber"."""
    if not text or len(text) > _MAX_LENGTH:
        return False
    return _EDGES.sub("", fold(text)) in KEYWORDS


def opt_out_record(*, message: Message) -> OptOut | None:
    """Record the opt-out a received message asks for: a person's text on
    a 1:1 chat with a contact. A person already opted out on the channel
    keeps the first evidence. Returns the new opt-out, else None.

    Two "SAIR" delivered at once record one opt-out: the check and the
    insert go one writer at a time per contact and channel. A lock, not a
    unique constraint: a merge of two people who both opted out keeps
    both opt-outs (contacts.OptOut)."""
    if message.from_me or message.is_group or message.contact_id is None or message.kind != Message.Kind.TEXT:
        return None
    if not asks_to_opt_out(message.body):
        return None
    with transaction.atomic():
        database.lock_until_commit(f"opt-out:{message.contact_id}:{message.channel_id}")
        if OptOut.objects.active().filter(contact_id=message.contact_id, channel_id=message.channel_id).exists():
            return None
        return OptOut.objects.create(
            contact_id=message.contact_id,
            channel_id=message.channel_id,
            channel_name=message.channel.name,
            evidence=message.body,
            message_id=message.pk,
            asked_at=message.sent_at,
        )


def active_opt_out(*, contact: Contact | int, channel: Channel | int) -> OptOut | None:
    """The person's opt-out on the channel that is not lifted, if any."""
    contact_id = contact if isinstance(contact, int) else contact.pk
    channel_id = channel if isinstance(channel, int) else channel.pk
    return OptOut.objects.active().filter(contact_id=contact_id, channel_id=channel_id).first()


def reason_needed(*, ticket: Ticket) -> OptOut | None:
    """The opt-out a reply in `ticket` must give a reason for: the
    person's active opt-out on the ticket's channel, unless a reason for it
    was given in this ticket already."""
    opt_out = active_opt_out(contact=ticket.contact_id, channel=ticket.channel_id)
    if opt_out is None or OptOutReason.objects.filter(opt_out=opt_out, ticket=ticket).exists():
        return None
    return opt_out


def reason_needed_to_start(*, contact: Contact | int, channel: Channel | int) -> OptOut | None:
    """The opt-out that starting a conversation with `contact` on
    `channel` must give a reason for: the person's active opt-out there,
    unless their active ticket on the channel (where "Iniciar atendimento"
    leads) has its reason already."""
    opt_out = active_opt_out(contact=contact, channel=channel)
    if opt_out is None:
        return None
    current = Ticket.objects.active().filter(contact=contact, channel=channel).first()
    if current is not None and OptOutReason.objects.filter(opt_out=opt_out, ticket=current).exists():
        return None
    return opt_out


def refusal(opt_out: OptOut) -> ValidationError:
    """What an agent is told when writing without a reason."""
    return ValidationError(
        _(
            "This person asked not to receive messages on %(channel)s (wrote “%(text)s” on %(date)s). "
            "Say why you are writing to them."
        ),
        code="opted_out",
        params={
            "channel": opt_out.channel_name,
            "text": opt_out.evidence,
            "date": formats.date_format(opt_out.asked_at, "SHORT_DATE_FORMAT"),
        },
    )


def reason_record(*, opt_out: OptOut, ticket: Ticket, user, reason: str) -> OptOutReason:
    """Keep why `user` writes to a person who opted out (with the audit
    trail's entry). Part of its caller's transaction."""
    recorded = OptOutReason.objects.create(
        opt_out=opt_out, ticket=ticket, user=user, username=user.get_username() if user else "", reason=reason
    )
    audit_record(
        action=AuditEvent.Action.OPT_OUT_OVERRIDE,
        parameters={"contact": opt_out.contact_id, "channel": opt_out.channel_name, "ticket": ticket.pk, "opt_out": opt_out.pk},
        counts={"tickets": 1},
    )
    return recorded
