"""Conversations as they were stored before a new sender became a contact
at once: unlinked, waiting for "Sincronizar", which is their backfill."""

from tickets.models import Message


def stored_before(channel, payload):
    """A message stored, unlinked, before new senders became contacts at
    once: what "Sincronizar" is the backfill for."""
    for inbound in channel.provider.parse(payload).messages:
        Message.objects.create(
            channel=channel,
            external_id=inbound.external_id,
            chat_id=inbound.chat_id,
            chat_identity=inbound.chat_identity,
            sender_id=inbound.sender_id,
            sender_name=inbound.sender_name,
            is_group=inbound.is_group,
            group_name=inbound.group_name,
            from_me=inbound.from_me,
            kind=inbound.kind,
            body=inbound.body,
            sent_at=inbound.sent_at,
        )
