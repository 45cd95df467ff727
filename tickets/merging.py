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

from django.db import connection
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
    returns, per merged contact, the tickets moved, the messages count and
    ids, and the tickets the merge closed into others."""
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
    # Which messages each merged contact brought: an undo of the merge
    # takes these back, and leaves those that arrive later to the survivor.
    message_ids = defaultdict(list)
    for pk, contact_id in Message.objects.filter(contact_id__in=list(moves)).order_by("pk").values_list("pk", "contact_id"):
        message_ids[contact_id].append(pk)
    remap(Message, "contact", moves)
    if closing:
        kept = Ticket.objects.filter(pk__in=set(closing.values()))
        kept.update(updated_at=now)
        kept.catch_up_last_message()  # the closed ones' messages may be newer
    closed_of = {pk: contact_id for pk, contact_id, *_rest in tickets}
    return {
        pk: {
            "tickets": moved_tickets.get(pk, []),
            "messages": len(message_ids.get(pk, [])),
            "message_ids": message_ids.get(pk, []),
            # Its tickets closed into another one, and the other one's
            # tickets closed into its: {closed ticket id: kept ticket id}.
            "closed_tickets": {
                str(closed): kept for closed, kept in closing.items() if pk in (closed_of.get(closed), closed_of.get(kept))
            },
        }
        for pk in moves
    }


def tickets_give_back(*, ticket_ids: list[int], contact_id: int) -> int:
    """Give these tickets to `contact_id` (a contact an undone merge brings
    back), as rows deleted and written again with their own ids and
    values, not updated. A message being stored at the same moment for
    the ticket's former contact (its conversation read before this
    transaction commits, its row written after) then fails its foreign
    key check to the ticket, on the database's own lock, and
    services.message_receive stores it again for whoever has the address
    by then; an UPDATE would let it in, naming the former contact in a
    ticket that is no longer theirs. Whatever refers to the tickets
    (messages, read markers, reasons) is checked at commit, when they
    exist again: Django's foreign keys are deferred. Part of the caller's
    transaction. Returns how many tickets moved."""
    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).order_by("pk"))
    if not tickets:
        return 0
    for ticket in tickets:
        ticket.contact_id = contact_id
    table = connection.ops.quote_name(Ticket._meta.db_table)
    with connection.cursor() as cursor:
        for part in batched([ticket.pk for ticket in tickets], BATCH):
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(part))})", list(part))
    Ticket.objects.bulk_create(tickets, batch_size=BATCH)
    return len(tickets)
