"""The merge of Remover duplicados: each group of contacts into its oldest
contact, losing nothing. Groups go in batches, each batch one transaction,
so a group is never half-merged. A batch goes through four phases,
interleaved where one needs what another wrote (_merge_batch keeps the
order):

- plan (plan.py): the groups as they stand, their contacts locked in id
  order and read again, contacts merged away meanwhile followed to their
  survivor; who survives and what fills the survivor's blanks;
- move (move.py): tickets and messages through the tickets app, then, once
  recorded, tags and extra fields united, aliases and earlier merges
  following their contact;
- record (record.py): a MergeRecord per group with a snapshot of every
  contact merged, written right after the conversations move because the
  history and the aliases written next name it; the audit event once per
  run;
- write (write.py): the merged contacts' history and deletion, the
  survivors' new values and history.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import batched

from django.db import OperationalError

from contacts.models import Contact
from contacts_portal import database

from ..finding import Group, order_and_count
from .move import move_belongings, move_conversations, unite_tags_and_fields
from .plan import FIELD_OF, ContactsMoved, fills_of, plan, value_of
from .record import record_merges, record_run
from .write import delete_merged, write_departures, write_survivors

MERGE_BATCH = 1000  # groups per transaction
ATTEMPTS = 5


@dataclass
class MergePreview:
    """What merging some contacts would do, for a person to confirm."""

    survivor: Contact
    others: list[Contact]
    tickets: int
    messages: int
    filled: list[tuple[str, str]]  # (field label, value) the survivor's blanks take


def merge_preview(*, contacts: list[Contact]) -> MergePreview:
    """The oldest of `contacts` is kept; the others' tickets and messages
    move to it and its blanks are filled from them, oldest first."""
    contacts = sorted(contacts, key=lambda c: (c.created_at, c.pk))
    group = Group([c.pk for c in contacts], ["manual"])
    order_and_count([group])
    survivor, others = contacts[0], contacts[1:]
    filled = []
    for name, donor in fills_of(survivor, others).items():
        value = str(donor.wallet) if name == "wallet_id" else ("✓" if name == "photo" else value_of(donor, name))
        filled.append((str(FIELD_OF[name].verbose_name), str(value)))
    return MergePreview(survivor, others, group.tickets, group.messages, filled)


@dataclass
class MergeResult:
    groups: int = 0
    contacts: int = 0
    tickets: int = 0
    messages: int = 0
    survivors: list[int] = field(default_factory=list)

    def counts(self) -> dict:
        return {"groups": self.groups, "contacts": self.contacts, "tickets": self.tickets, "messages": self.messages}

    def add(self, other: "MergeResult") -> None:
        self.groups += other.groups
        self.contacts += other.contacts
        self.tickets += other.tickets
        self.messages += other.messages
        self.survivors += other.survivors


def contacts_merge(
    *,
    groups: Iterable[Iterable[int]],
    rules: Iterable[Iterable[str]] | None = None,
    audit: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = MERGE_BATCH,
) -> MergeResult:
    """Merge each group of contact ids into its oldest contact. Groups may
    name contacts merged away since they were found (they are followed to
    their survivor) or deleted (left out); a group left with one contact is
    nothing to do, so merging twice is a no-op the second time. Each batch
    of groups is one transaction. Records one event in the audit trail
    (`audit`: its parameters) unless nothing was merged. The caller sets
    the recording (who, through what)."""
    groups = [list(dict.fromkeys(group)) for group in groups]
    rules = [list(r) for r in rules] if rules is not None else [[] for _ in groups]
    progress = progress or (lambda done, total: None)
    result = MergeResult()
    total = len(groups)
    done = 0
    try:
        for chunk in batched(zip(groups, rules, strict=True), batch_size):
            result.add(_merge_batch_retrying(list(chunk)))
            done += len(chunk)
            progress(done, total)
    finally:
        if result.groups:
            record_run(parameters=audit or {}, counts=result.counts())
    return result


def merge_revealed(contact_ids: list[int]) -> MergeResult:
    """Merge contacts the WhatsApp gateway revealed to be one person (a LID
    and its number), as "Remover duplicados" does."""
    return contacts_merge(groups=[contact_ids], rules=[["lid"]], audit={"from": "whatsapp", "lid": True})


def _merge_batch_retrying(chunk) -> MergeResult:
    # A deadlock or serialization failure (SQLite: "database is locked"), or
    # contacts merged by someone else meanwhile: the batch's transaction was
    # rolled back whole; after a moment it looks at the contacts again.
    return database.retrying(
        lambda: _merge_batch(chunk),
        on=(OperationalError, ContactsMoved),
        when=lambda error: isinstance(error, ContactsMoved) or database.is_transient(error),
        attempts=ATTEMPTS,
        atomic=True,
        pause=0.05,
    )


def _merge_batch(chunk) -> MergeResult:
    """One batch of groups, phase by phase; the order is load-bearing."""
    batch = plan(chunk)
    if batch is None:
        return MergeResult()
    move_conversations(batch)
    # The records before anything else changes: the snapshots are taken
    # before the union renames the others' extra fields, and the history
    # and aliases written next name the records.
    record_merges(batch)
    unite_tags_and_fields(batch)
    write_departures(batch)  # reads the others' tag links, which move next
    move_belongings(batch)
    delete_merged(batch)
    write_survivors(batch)
    moved = batch.conversations
    return MergeResult(
        groups=len(batch.merges),
        contacts=len(batch.others),
        tickets=sum(len(moved[pk].get("tickets", [])) for pk in batch.moves),
        messages=sum(moved[pk].get("messages", 0) for pk in batch.moves),
        survivors=[s.pk for s in batch.survivors],
    )
