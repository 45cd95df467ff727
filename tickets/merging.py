"""The tickets' part of a merge of duplicate contacts, called by the
duplicate removal (dedup), which sits above both contacts and tickets.

A merged contact's tickets and messages move to the survivor; none is
left behind, deleted or emptied. A contact has at most one active ticket
per channel, so when the survivor and a merged contact both have one on
the same channel, one stays active with every message and the other is
closed, its `merged_into` saying where its messages went.
"""

from collections import defaultdict
from itertools import batched

from django.db.models import Count
from django.utils import timezone

from contacts_portal.database import remap, update_rows

from .providers.evolution import LID_SERVER
from .models import Message, Ticket


BATCH = 5000  # ids per IN (...) list


def count_conversations(*, contact_ids: list[int]) -> dict[int, dict]:
    """What a merge of these contacts would move: {id: {"tickets": n, "messages": n}}."""
    counts: dict[int, dict] = defaultdict(lambda: {"tickets": 0, "messages": 0})
    for part in batched(contact_ids, BATCH):
        for model, name in ((Ticket, "tickets"), (Message, "messages")):
            rows = model.objects.filter(contact_id__in=part).values("contact_id").annotate(n=Count("pk")).order_by()
            for row in rows.values_list("contact_id", "n"):
                counts[row[0]][name] = row[1]
    return dict(counts)


def linked_numbers() -> dict[str, str]:
    """WhatsApp LIDs ("<digits>@lid" chats) and the phone numbers their
    messages came with: the same person."""
    chats = (
        Message.objects.filter(chat_id__endswith=f"@{LID_SERVER}", is_group=False)
        .exclude(chat_identity="")
        .values_list("chat_id", "chat_identity")
        .order_by()
        .distinct()
    )
    return {chat_id.partition("@")[0].split(":")[0]: identity for chat_id, identity in chats.iterator(chunk_size=BATCH)}


def move_conversations(*, moves: dict[int, int]) -> dict[int, dict]:
    """Move the merged contacts' tickets and messages to their survivors;
    returns, per merged contact, the tickets moved and the messages count."""
    now = timezone.now()
    involved = [*moves, *set(moves.values())]
    # Locked in id order, like the contacts.
    tickets = list(
        Ticket.objects.filter(contact_id__in=involved)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", "contact_id", "channel_id", "status", "updated_at")
    )
    moved_tickets = defaultdict(list)
    active = defaultdict(list)  # (survivor, channel) -> [(is the survivor's, updated_at, ticket id)]
    for pk, contact_id, channel_id, status, updated_at in tickets:
        owner = moves.get(contact_id, contact_id)
        if contact_id in moves:
            moved_tickets[contact_id].append(pk)
        if status != Ticket.Status.CLOSED:
            active[(owner, channel_id)].append((contact_id == owner, updated_at, pk))
    # One active ticket per contact and channel: the survivor's, else the
    # one with the latest activity; the others close into it.
    closing = {}
    for candidates in active.values():
        if len(candidates) > 1:
            candidates.sort(reverse=True)
            kept = candidates[0][2]
            for _own, _updated, pk in candidates[1:]:
                closing[pk] = kept
    if closing:
        update_rows(
            Ticket,
            [Ticket(pk=pk, status=Ticket.Status.CLOSED, closed_at=now, merged_into_id=kept) for pk, kept in closing.items()],
            ["status", "closed_at", "merged_into"],
        )
        remap(Message, "ticket", closing)
    remap(Ticket, "contact", moves)
    message_counts = dict(
        Message.objects.filter(contact_id__in=list(moves)).values("contact_id").annotate(n=Count("pk")).order_by().values_list("contact_id", "n")
    )
    remap(Message, "contact", moves)
    if closing:
        kept = Ticket.objects.filter(pk__in=set(closing.values()))
        kept.update(updated_at=now)
        kept.catch_up_last_message()  # the closed ones' messages may be newer
    return {pk: {"tickets": moved_tickets.get(pk, []), "messages": message_counts.get(pk, 0)} for pk in moves}

