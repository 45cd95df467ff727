"""Plan: a batch's groups as they stand now, their contacts locked and
read again, who survives each group and what fills the survivor's blanks.
Nothing is written here; the Batch it returns carries the plan, and what
the later phases did, from phase to phase."""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import batched

from django.db.models.fields import Field

from contacts.models import Contact, CustomField, MergedContact, MergeRecord, Tag

from ..finding import BATCH, RULES, join_groups

#: The fields a survivor's blank takes from the others, oldest first.
FILLED_FIELDS = [
    "number",
    "email",
    "cpf_cnpj",
    "birth_date",
    "first_name",
    "last_name",
    "company",
    "telegram_id",
    "photo",
    "wallet_id",
]
FIELD_OF: dict[str, Field] = {field.attname: field for field in Contact._meta.concrete_fields}


class ContactsMoved(Exception):
    """Contacts of a batch were merged or deleted between its look and its lock."""


@dataclass
class Merge:
    """One group's merge: its survivor, the others oldest first, the rules
    that joined them, and each of the survivor's blank fields with the
    contact whose value fills it."""

    survivor: Contact
    others: list[Contact]
    rules: list[str]
    fills: dict[str, Contact]


@dataclass
class Batch:
    """A batch of merges, one transaction: the plan, what its contacts
    hold, and what each phase leaves for the next."""

    merges: list[Merge]
    survivors: list[Contact]
    others: list[Contact]
    moves: dict[int, int]  # merged contact id -> its survivor's id
    tags_of: dict[int, list[int]]  # contact id -> tag ids, in link order
    tag_names: dict[int, str]
    fields_of: dict[int, list[CustomField]]  # contact id -> extra fields
    # Left by the phases for the next ones, each keyed by contact id: what
    # the tickets app moved (tickets, messages), the survivors' records,
    # the merged contacts' snapshots.
    conversations: dict[int, dict] = field(default_factory=dict)
    record_of: dict[int, MergeRecord] = field(default_factory=dict)
    snapshot_of: dict[int, MergedContact] = field(default_factory=dict)
    # The union of tags and extra fields: links to add, fields to move,
    # change and drop, and each survivor's extra values for its search text.
    new_links: list = field(default_factory=list)
    moved_fields: list[CustomField] = field(default_factory=list)
    changed_fields: list[CustomField] = field(default_factory=list)
    dropped_fields: list[CustomField] = field(default_factory=list)
    extra_values: dict[int, list[str]] = field(default_factory=dict)


def plan(chunk) -> Batch | None:
    """The merges of `chunk` (groups of ids, each with its rules), their
    contacts locked; None when nothing is left to merge."""
    groups = _groups_now(chunk)
    if not groups:
        return None
    ids = sorted({pk for members, _rules in groups for pk in members})
    # Locked in id order, like every bulk writer, and read again under the
    # lock (the wallet is read along, not locked).
    locked = Contact.objects.filter(pk__in=ids).select_related("wallet").select_for_update(of=("self",)).order_by("pk")
    rows = {c.pk: c for c in locked}
    if len(rows) < len(ids):
        # Merged or deleted by someone else between the look above and the
        # lock: start the batch again, which looks again.
        raise ContactsMoved
    merges = []
    for members, rules in groups:
        contacts = sorted((rows[pk] for pk in members), key=lambda c: (c.created_at, c.pk))
        # People never merge with groups: the survivor's kind decides.
        survivor = contacts[0]
        others = [c for c in contacts[1:] if c.is_group == survivor.is_group]
        if others:
            known = [rule for rule in rules if rule in RULES] or ["manual"]
            merges.append(Merge(survivor, others, known, fills_of(survivor, others)))
    if not merges:
        return None
    return _with_belongings(merges)


def _with_belongings(merges: list[Merge]) -> Batch:
    """The batch of `merges`, with their contacts' tags and extra fields."""
    survivors = [merge.survivor for merge in merges]
    others = [other for merge in merges for other in merge.others]
    moves = {other.pk: merge.survivor.pk for merge in merges for other in merge.others}
    all_ids = [c.pk for c in (*survivors, *others)]
    tags_of = defaultdict(list)
    links = Contact.tags.through.objects.filter(contact_id__in=all_ids).order_by("pk")
    for contact_id, tag_id in links.values_list("contact_id", "tag_id"):
        tags_of[contact_id].append(tag_id)
    tag_names = dict(Tag.objects.filter(pk__in={t for tags in tags_of.values() for t in tags}).values_list("pk", "name"))
    fields_of = defaultdict(list)
    for extra in CustomField.objects.filter(contact_id__in=all_ids).order_by("contact_id", "pk"):
        fields_of[extra.contact_id].append(extra)
    return Batch(merges, survivors, others, moves, tags_of, tag_names, fields_of)


def _groups_now(chunk) -> list[tuple[list[int], list[str]]]:
    """The chunk's groups as they stand: ids merged away replaced by their
    survivor, deleted ones left out, groups that now share a contact
    joined, groups of fewer than two left out."""
    ids = {pk for group, _rules in chunk for pk in group}
    alive = set()
    for part in batched(sorted(ids), BATCH):
        alive.update(Contact.objects.filter(pk__in=part).values_list("pk", flat=True))
    gone = _survivor_of(ids - alive)
    now = ([pk for pk in (pk if pk in alive else gone.get(pk) for pk in group) if pk is not None] for group, _r in chunk)
    return join_groups(zip(now, (rules for _g, rules in chunk), strict=True))


def _survivor_of(ids: set[int]) -> dict[int, int | None]:
    """Each id that is no longer a contact -> the contact it was merged
    into, or None when it was deleted. (A merge record follows its survivor
    into later merges, so one step is usually enough.)"""
    final: dict[int, int | None] = {}
    current = {pk: pk for pk in ids}  # id -> the id it is known as now
    for _step in range(10):
        if not current:
            break
        step = dict(
            MergedContact.objects.filter(contact_id__in=set(current.values()))
            .order_by("contact_id", "pk")
            .values_list("contact_id", "record__survivor_id")
        )
        alive = set(Contact.objects.filter(pk__in={t for t in step.values() if t}).values_list("pk", flat=True))
        following = {}
        for pk, known_as in current.items():
            target = step.get(known_as)
            if target is None or target in alive:
                final[pk] = target
            else:
                following[pk] = target
        current = following
    return final | dict.fromkeys(current)


def fills_of(survivor: Contact, others: list[Contact]) -> dict[str, Contact]:
    """The survivor's blank fields, each with the contact whose value fills
    it: the first of `others` (oldest first) that has one."""
    fills = {}
    for name in FILLED_FIELDS:
        if not value_of(survivor, name):
            donor = next((other for other in others if value_of(other, name)), None)
            if donor is not None:
                fills[name] = donor
    return fills


def value_of(contact: Contact, name: str):
    value = getattr(contact, name)
    return value.name if name == "photo" else value
