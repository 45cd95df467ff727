"""Remover duplicados: find the contacts that are one person (or one
group) and merge each set into its oldest contact, losing nothing.

Finding (find_duplicates). Two contacts are duplicates when they share an
identity, recomputed from what is stored rather than trusted:
- the canonical number (9th digit included: "551187654321", written
  before numbers were normalised, is "5511987654321"), a WhatsApp LID the
  conversations link to a number, or an address a contact merged away left
  to its survivor (ContactAlias);
- the canonical Telegram id, or one left by a merge;
- the CPF/CNPJ, with or without its punctuation;
- the e-mail, case aside.
Groups are transitive (A~B by number, B~C by e-mail: one group); people
never meet groups. The survivor is the oldest contact (created_at, then id).

Most stored values are already canonical, and canonical values are unique
(the database says so), so only the rows whose writing is not canonical
are normalised in Python; everything else is answered by the database
with whole-table queries, never a query per contact.

Merging (contacts_merge). Per group, in one transaction: the others'
tickets and messages move to the survivor (the tickets app does that part,
through the `contacts_merging` signal: contacts knows nothing of tickets);
the survivor's blanks are filled from the others, oldest first; tags are
united; extra fields are united (a conflicting value is kept under the same
name with a suffix); the others' addresses stay reachable (ContactAlias);
a MergeRecord keeps a snapshot of every merged contact. Groups are merged
in batches, each batch one transaction, so a group is never half-merged.

Concurrency: every merge locks its contacts in id order (like every bulk
writer here) and re-reads them under the lock; a contact merged away
meanwhile is followed to its survivor, so two merges over overlapping
groups end as if they ran one after the other. A deadlock or serialization
failure that the database reports anyway is retried.
"""

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import batched

from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import CharField, Count, F, Func, Q, StringAgg, Value
from django.db.models.functions import Cast, Length, Lower, Substr
from django.db.models.lookups import Exact, In, Range
from django.utils import timezone

from audit.models import AuditEvent
from audit.recording import current_actor, current_user
from audit.services import audit_record
from contacts import normalizers, rules
from contacts.history import custom_fields_bulk_record, history_bulk_record
from contacts.models import Contact, ContactAlias, CustomField, MergedContact, MergeRecord, Tag
from contacts_portal.database import remap, update_rows
from tickets import merging as tickets_merging

RULES = ("number", "telegram_id", "cpf_cnpj", "email", "manual")  # "manual": chosen by a person
BATCH = 5000  # ids per IN (...) list
# Values per look-up on a unique index: with thousands, PostgreSQL's planner
# takes the trigram index instead, and one look-up took 20 s at a million.
LOOKUP_BATCH = 500
MERGE_BATCH = 1000  # groups per transaction
ATTEMPTS = 5

# Stored writings that are their own canonical form, checked by the
# database: a number of 12 to 15 digits with its country code (what
# normalize_phone() writes), except a Brazilian mobile of 8 digits, which
# gains its 9th; a Telegram id without leading zeros; a masked CPF or CNPJ.
# Every other non-blank value is normalised again in Python.
CANONICAL_NUMBER = r"^[1-9][0-9]{11,14}$"
OLD_BRAZILIAN_MOBILE = r"^55[1-9][0-9][6-9][0-9]{7}$"
CANONICAL_GROUP_ID = r"^[0-9]+(-[0-9]+)?$"
CANONICAL_TELEGRAM_ID = r"^-?[1-9][0-9]{0,18}$"
_CANONICAL_NUMBER, _OLD_BRAZILIAN_MOBILE = re.compile(CANONICAL_NUMBER), re.compile(OLD_BRAZILIAN_MOBILE)
CANONICAL_DOCUMENT = r"^([0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}|[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2})$"


def canonical_number(raw: str, *, is_group: bool = False) -> str:
    """A stored number in its canonical writing. Stored numbers carry their
    country code ("5511987654321"); older rows may not ("11987654321"), may
    lack the 9th digit or be punctuated. A value no reading accepts is
    compared by its digits."""
    raw = normalizers.clean_code(raw or "").strip()
    if not raw or is_group:
        return raw
    if _CANONICAL_NUMBER.match(raw) and not _OLD_BRAZILIAN_MOBILE.match(raw):
        return raw  # what rules.number() writes: the database trusts it too
    try:
        # As the forms read a number: 10 or 11 digits are a Brazilian number
        # without its country code first, longer ones carry theirs.
        return rules.number(raw)
    except ValidationError:
        return normalizers.only_digits(raw)


def canonical_telegram_id(raw: str) -> str:
    try:
        return rules.telegram_id(raw)
    except ValidationError:
        return normalizers.clean_code(raw or "").strip()


def canonical_document(raw: str) -> str:
    try:
        return rules.cpf_cnpj(raw)
    except ValidationError:
        return "".join(ch for ch in normalizers.clean_code(raw or "").upper() if ch.isalnum())


def canonical_email(raw: str) -> str:
    return rules.email(raw)


CANONICAL = {
    "telegram_id": canonical_telegram_id,
    "cpf_cnpj": canonical_document,
    "email": canonical_email,
}


@dataclass
class Group:
    """Contacts found to be one: the survivor first, then the others
    oldest first; the rules that joined them; what a merge moves."""

    contact_ids: list[int]
    rules: list[str]
    tickets: int = 0
    messages: int = 0

    @property
    def survivor_id(self) -> int:
        return self.contact_ids[0]


class _Keys:
    """Which contacts hold each identity: (is_group, rule, value) -> ids."""

    def __init__(self):
        self.holders: dict[tuple, set[int]] = defaultdict(set)

    def add(self, contact_id: int, is_group: bool, rule: str, value: str) -> None:
        if value:
            self.holders[(is_group, rule, value)].add(contact_id)


def find_duplicates(*, contacts=None, progress: Callable[[int, int], None] | None = None) -> list[Group]:
    """Every group of duplicates among `contacts` (a queryset; all contacts
    when None), the survivor first. Reads only; nothing is written.

    A few whole-table statements, whatever the size: one pass finds the
    rows whose writing is not canonical (normalised here), the database
    groups the e-mails, and every other value is looked up on its unique
    index."""
    progress = progress or (lambda done, total: None)
    base = Contact.objects.all() if contacts is None else contacts
    keys = _Keys()
    created: dict[int, object] = {}
    steps = 5
    progress(0, steps)

    # One pass over the table for every value not in its canonical writing.
    # Numbers and e-mails are on nearly every row: they are checked with
    # plain string functions, several times cheaper than a regex a row.
    length = Length("number")
    digits_only = Exact(Func(F("number"), Value("0123456789"), function="LTRIM"), Value(""))
    old_mobile = Q(Exact(length, 12)) & Q(number__startswith="55") & Q(In(Substr("number", 5, 1), list("6789")))
    trusted_number = (
        Q(is_group=False)
        & Q(digits_only)
        & Q(Range(length, (12, 15)))
        & ~Q(number__startswith="0")
        & ~old_mobile
    ) | (Q(is_group=True) & Q(number__regex=CANONICAL_GROUP_ID))
    odd = (
        (~Q(number="") & ~trusted_number)
        | (~Q(telegram_id="") & ~Q(telegram_id__regex=CANONICAL_TELEGRAM_ID))
        | (~Q(cpf_cnpj="") & ~Q(cpf_cnpj__regex=CANONICAL_DOCUMENT))
        | (~Q(email="") & (~Q(email=Lower("email")) | Q(email__contains=" ")))
    )
    wanted: dict[str, set[str]] = defaultdict(set)
    rows = base.filter(odd).values_list("pk", "is_group", "created_at", "number", "telegram_id", "cpf_cnpj", "email")
    for pk, is_group, created_at, number, telegram_id, cpf_cnpj, email in rows.iterator(chunk_size=BATCH):
        created[pk] = created_at
        for rule, value in (
            ("number", canonical_number(number, is_group=is_group)),
            ("telegram_id", canonical_telegram_id(telegram_id)),
            ("cpf_cnpj", canonical_document(cpf_cnpj)),
            ("email", canonical_email(email)),
        ):
            if value:
                keys.add(pk, is_group, rule, value)
                wanted[rule].add(value)
    progress(1, steps)

    # Addresses the conversations link to a number (a WhatsApp LID held as
    # a contact's number by rows written before LIDs were understood), and
    # those left to survivors by earlier merges.
    links = tickets_merging.linked_numbers()
    for chunk in batched(sorted(links), BATCH):
        linked = base.filter(is_group=False, number__in=chunk).exclude(number="")
        for pk, is_group, created_at, number in linked.values_list("pk", "is_group", "created_at", "number"):
            created[pk] = created_at
            keys.add(pk, is_group, "number", links[number])
            wanted["number"].add(links[number])
    aliases = ContactAlias.objects.values_list("contact_id", "contact__is_group", "contact__created_at", "kind", "value")
    if contacts is not None:
        aliases = aliases.filter(contact__in=base)
    for contact_id, is_group, created_at, kind, value in aliases.iterator(chunk_size=BATCH):
        created[contact_id] = created_at
        keys.add(contact_id, is_group, kind, value)
        wanted[kind].add(value)
    progress(2, steps)

    # The contacts holding those values as written, each found on its
    # index (the blank exclusion lets PostgreSQL use the partial ones).
    for rule, values in wanted.items():
        for chunk in batched(sorted(values), LOOKUP_BATCH):
            holders = base.filter(**{f"{rule}__in": chunk}).exclude(**{rule: ""})
            for pk, is_group, created_at, value in holders.values_list("pk", "is_group", "created_at", rule):
                created[pk] = created_at
                keys.add(pk, is_group, rule, value)
    progress(3, steps)

    # E-mails are not unique: the database groups those written alike.
    shared = (
        base.exclude(email="")
        .values("email", "is_group")
        .annotate(n=Count("pk"), ids=StringAgg(Cast("pk", CharField()), Value(",")))
        .filter(n__gt=1)
        .values_list("email", "is_group", "ids")
    )
    missing = set()
    for email, is_group, ids in shared.iterator(chunk_size=BATCH):
        for pk in map(int, ids.split(",")):
            keys.add(pk, is_group, "email", canonical_email(email))
            if pk not in created:
                missing.add(pk)
    for chunk in batched(sorted(missing), BATCH):
        created.update(Contact.objects.filter(pk__in=chunk).values_list("pk", "created_at"))
    progress(4, steps)

    groups = _connect(keys)
    _order_and_count(groups, created)
    progress(steps, steps)
    return groups


def _connect(keys: _Keys) -> list[Group]:
    """The contacts joined by the identities held by more than one."""
    shared = ((ids, [rule]) for (_g, rule, _v), ids in keys.holders.items() if len(ids) > 1)
    return [Group(ids, rules) for ids, rules in _join(shared)]


def _join(sets: Iterable[tuple[Iterable[int], Iterable[str]]]) -> list[tuple[list[int], list[str]]]:
    """Union-find: sets of ids, each with the rules that made it, joined
    where they share an id (transitively); each joined set of two or more
    ids, in id order, with all its rules."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    rules_of = defaultdict(set)
    for ids, rules in sets:
        ids = list(ids)
        if not ids:
            continue
        for other in ids[1:]:
            a, b = find(ids[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        rules_of[find(ids[0])].update(rules)
    members = defaultdict(list)
    for x in parent:
        members[find(x)].append(x)
    rules_by_root = defaultdict(set)
    for first, rules in rules_of.items():
        rules_by_root[find(first)].update(rules)
    return [
        (sorted(ids), sorted(rules_by_root[root], key=RULES.index)) for root, ids in members.items() if len(ids) > 1
    ]


def _order_and_count(groups: list[Group], created: dict | None = None) -> None:
    """Oldest first in each group, groups by survivor; and what each merge
    would move, asked of the apps that keep things per contact."""
    ids = [pk for group in groups for pk in group.contact_ids]
    created = dict(created or {})
    for chunk in batched([pk for pk in ids if pk not in created], BATCH):
        created.update(Contact.objects.filter(pk__in=chunk).values_list("pk", "created_at"))
    for group in groups:
        group.contact_ids.sort(key=lambda pk: (created[pk], pk))
    # Only what the others have moves.
    others = [pk for group in groups for pk in group.contact_ids[1:]]
    counts = tickets_merging.count_conversations(contact_ids=others)
    for group in groups:
        others = group.contact_ids[1:]
        group.tickets = sum(counts[pk]["tickets"] for pk in others if pk in counts)
        group.messages = sum(counts[pk]["messages"] for pk in others if pk in counts)
    groups.sort(key=lambda group: group.survivor_id)


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
    _order_and_count([group])
    survivor, others = contacts[0], contacts[1:]
    filled = []
    for name, donor in _fills(survivor, others).items():
        value = str(donor.wallet) if name == "wallet_id" else ("✓" if name == "photo" else _value(donor, name))
        filled.append((str(_FIELD_OF[name].verbose_name), str(value)))
    return MergePreview(survivor, others, group.tickets, group.messages, filled)


# Merging ------------------------------------------------------------------

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
SNAPSHOT_FIELDS = ["name", *FILLED_FIELDS, "is_group", "created_at"]
_FIELD_OF = {field.attname: field for field in Contact._meta.concrete_fields}


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
            audit_record(action=AuditEvent.Action.REMOVE_DUPLICATES, parameters=audit or {}, counts=result.counts())
    return result


def _merge_batch_retrying(chunk) -> MergeResult:
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return _merge_batch(chunk)
        except (OperationalError, _ContactsMoved) as error:
            # PostgreSQL's deadlock and serialization failures (SQLite's
            # "database is locked" too), or contacts merged by someone else
            # meanwhile: the transaction was rolled back whole; try again
            # after a moment, which looks at the contacts again.
            if attempt == ATTEMPTS - 1 or not (isinstance(error, _ContactsMoved) or _is_transient(error)):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


class _ContactsMoved(Exception):
    """Contacts of a batch were merged or deleted between its look and its lock."""


def _is_transient(error: DatabaseError) -> bool:
    code = getattr(getattr(error, "__cause__", None), "sqlstate", None)
    return code in ("40001", "40P01", "55P03") or "locked" in str(error)


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
    return _join(zip(now, (rules for _g, rules in chunk), strict=True))


def _merge_batch(chunk) -> MergeResult:
    result = MergeResult()
    groups = _groups_now(chunk)
    if not groups:
        return result
    ids = sorted({pk for members, _rules in groups for pk in members})
    # Locked in id order, like every bulk writer, and read again under the
    # lock (the wallet is read along, not locked).
    locked = Contact.objects.filter(pk__in=ids).select_related("wallet").select_for_update(of=("self",)).order_by("pk")
    rows = {c.pk: c for c in locked}
    if len(rows) < len(ids):
        # Merged or deleted by someone else between the look above and the
        # lock: start the batch again, which looks again.
        raise _ContactsMoved
    plans = []
    for members, rules in groups:
        contacts = sorted((rows[pk] for pk in members), key=lambda c: (c.created_at, c.pk))
        # People never merge with groups: the survivor's kind decides.
        survivor = contacts[0]
        others = [c for c in contacts[1:] if c.is_group == survivor.is_group]
        if others:
            plans.append((survivor, others, [rule for rule in rules if rule in RULES] or ["manual"]))
    if not plans:
        return result
    survivors = [survivor for survivor, _o, _r in plans]
    others_all = [other for _s, others, _r in plans for other in others]
    moves = {other.pk: survivor.pk for survivor, others, _r in plans for other in others}
    all_ids = [c.pk for c in (*survivors, *others_all)]

    Through = Contact.tags.through
    tags_of = defaultdict(list)
    for contact_id, tag_id in Through.objects.filter(contact_id__in=all_ids).order_by("pk").values_list("contact_id", "tag_id"):
        tags_of[contact_id].append(tag_id)
    tag_names = dict(Tag.objects.filter(pk__in={t for tags in tags_of.values() for t in tags}).values_list("pk", "name"))
    fields_of = defaultdict(list)
    for extra in CustomField.objects.filter(contact_id__in=all_ids).order_by("contact_id", "pk"):
        fields_of[extra.contact_id].append(extra)

    # Tickets and messages, kept in each merged contact's snapshot.
    moved = defaultdict(dict, tickets_merging.move_conversations(moves=moves))

    # The record of the merge, with a snapshot of each contact merged.
    actor, user, now = current_actor(), current_user(), timezone.now()
    records = MergeRecord.objects.bulk_create(
        [
            MergeRecord(
                user=user,
                username=user.get_username() if user else "",
                source=actor.source,
                survivor=survivor,
                survivor_name=survivor.name,
                rules=rules,
            )
            for survivor, _o, rules in plans
        ]
    )
    record_of = {survivor.pk: record for survivor, record in zip(survivors, records, strict=True)}
    snapshots = MergedContact.objects.bulk_create(
        [
            MergedContact(
                record=record_of[survivor.pk],
                contact_id=other.pk,
                name=other.name,
                snapshot=_snapshot(other, [tag_names[t] for t in tags_of[other.pk]], fields_of[other.pk], moved[other.pk]),
            )
            for survivor, others, _r in plans
            for other in others
        ]
    )
    snapshot_of = {row.contact_id: row for row in snapshots}

    # Tags united; extra fields united.
    new_links, moved_fields, changed_fields, dropped_fields = [], [], [], []
    for survivor, others, _r in plans:
        have = set(tags_of[survivor.pk])
        for other in others:
            for tag_id in tags_of[other.pk]:
                if tag_id not in have:
                    have.add(tag_id)
                    new_links.append(Through(contact_id=survivor.pk, tag_id=tag_id))
        own = {extra.name.lower(): extra for extra in fields_of[survivor.pk]}
        # A suffixed name never takes the name of a field still to come.
        reserved = set(own) | {extra.name.lower() for other in others for extra in fields_of[other.pk]}
        for other in others:
            for extra in fields_of[other.pk]:
                mine = own.get(extra.name.lower())
                if mine is None:
                    extra.contact_id = survivor.pk
                    own[extra.name.lower()] = extra
                    moved_fields.append(extra)
                elif mine.value == extra.value or not extra.value:
                    dropped_fields.append(extra)
                elif not mine.value:
                    mine.value = extra.value
                    changed_fields.append(mine)
                    dropped_fields.append(extra)
                else:  # a conflict: both values kept
                    extra.name = _free_name(extra.name, reserved)
                    reserved.add(extra.name.lower())
                    extra.contact_id = survivor.pk
                    own[extra.name.lower()] = extra
                    moved_fields.append(extra)
        survivor._merged_extra_values = [extra.value for extra in own.values()]

    # The others go. Their links first; the rows without the ORM's
    # per-row cascade (which would also write a history record a contact:
    # they are written in bulk below).
    history_bulk_record(
        contacts=others_all,
        history_type="-",
        reasons={other.pk: f"merge:{record_of[moves[other.pk]].pk}" for other in others_all},
    )
    Through.objects.filter(contact_id__in=list(moves)).delete()
    CustomField.objects.filter(pk__in=[extra.pk for extra in dropped_fields]).delete()
    update_rows(CustomField, moved_fields, ["contact", "name"])
    update_rows(CustomField, changed_fields, ["value"])
    Through.objects.bulk_create(new_links)
    # Earlier merges into them, and their earlier addresses, follow them.
    remap(MergeRecord, "survivor", moves)
    remap(ContactAlias, "contact", moves)
    Contact.objects.filter(pk__in=list(moves))._raw_delete(connection.alias)

    # The survivor: its blanks filled from the others, oldest first; its
    # addresses in their canonical writing; the others' addresses its own.
    for survivor, others, _r in plans:
        for name, donor in _fills(survivor, others).items():
            setattr(survivor, name, _value(donor, name))
    _canonicalise(survivors)
    aliases = []
    for survivor, others, _r in plans:
        taken = set()
        for other in others:
            for kind, value in _addresses(other):
                if value and value != getattr(survivor, kind) and (kind, value) not in taken:
                    taken.add((kind, value))
                    aliases.append(ContactAlias(contact=survivor, kind=kind, value=value, merged=snapshot_of[other.pk]))
        survivor.refresh_search_fields(survivor._merged_extra_values)
        survivor.updated_at = now
    for kind in ContactAlias.Kind.values:
        values = [alias.value for alias in aliases if alias.kind == kind]
        for part in batched(values, BATCH):
            ContactAlias.objects.filter(kind=kind, value__in=part).delete()
    ContactAlias.objects.bulk_create(aliases)
    update_rows(Contact, survivors, [*(_FIELD_OF[name].name for name in FILLED_FIELDS), "name_key", "search_text", "updated_at"])
    history_bulk_record(contacts=survivors, reasons={s.pk: f"merge:{record_of[s.pk].pk}" for s in survivors})
    custom_fields_bulk_record(fields=moved_fields + changed_fields)

    result.groups = len(plans)
    result.contacts = len(others_all)
    result.tickets = sum(len(moved[pk].get("tickets", [])) for pk in moves)
    result.messages = sum(moved[pk].get("messages", 0) for pk in moves)
    result.survivors = [s.pk for s in survivors]
    return result


def _fills(survivor: Contact, others: list[Contact]) -> dict[str, Contact]:
    """The survivor's blank fields, each with the contact whose value fills
    it: the first of `others` (oldest first) that has one."""
    fills = {}
    for name in FILLED_FIELDS:
        if not _value(survivor, name):
            donor = next((other for other in others if _value(other, name)), None)
            if donor is not None:
                fills[name] = donor
    return fills


def _value(contact: Contact, name: str):
    value = getattr(contact, name)
    return value.name if name == "photo" else value


def _free_name(name: str, taken: set[str]) -> str:
    """"Cidade" -> "Cidade (2)", or the next number not taken."""
    for number in range(2, 1000):
        suffix = f" ({number})"
        candidate = name[: 100 - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
    raise ValueError(name)


def _addresses(contact: Contact) -> list[tuple[str, str]]:
    """Where messages from `contact` come from, canonically."""
    return [
        ("number", canonical_number(contact.number, is_group=contact.is_group)),
        ("telegram_id", canonical_telegram_id(contact.telegram_id)),
    ]


def _canonicalise(contacts: list[Contact]) -> None:
    """Write the survivors' identities canonically (the same values:
    "551187654321" is "5511987654321"), unless another contact holds that
    writing already."""
    normalise = {"number": None, **CANONICAL}
    for name, function in normalise.items():
        wanted = {}
        for contact in contacts:
            value = getattr(contact, name)
            canonical = canonical_number(value, is_group=contact.is_group) if function is None else function(value)
            if canonical != value:
                wanted[contact] = canonical
        if not wanted:
            continue
        held = set()
        if name != "email":
            for part in batched(set(wanted.values()), BATCH):
                held.update(Contact.objects.filter(**{f"{name}__in": part}).values_list(name, flat=True))
        for contact, canonical in wanted.items():
            if canonical not in held:
                held.add(canonical)
                setattr(contact, name, canonical)


def _snapshot(contact: Contact, tags: list[str], extras: list[CustomField], moved: dict) -> dict:
    data = {"id": contact.pk}
    for name in SNAPSHOT_FIELDS:
        value = _value(contact, name)
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    data["wallet"] = contact.wallet.name if contact.wallet_id else ""
    data["tags"] = tags
    data["custom_fields"] = [[extra.name, extra.value] for extra in extras]
    return data | moved
