"""The search of Remover duplicados: which contacts are one (see
dedup/duplicates.py for what makes two contacts the same). Reads only.

Most stored values are already canonical, and canonical values are unique
(the database says so), so only the rows whose writing is not canonical
are normalised in Python; everything else is answered by the database
with whole-table queries, never a query per contact."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import batched

from django.db.models import CharField, Count, F, Func, Q, StringAgg, Value
from django.db.models.functions import Cast, Length, Lower, Substr
from django.db.models.lookups import Exact, In, Range

from contacts.models import Contact, ContactIdentity
from tickets import merging as tickets_merging

from .duplicates import (
    CANONICAL_DOCUMENT,
    CANONICAL_GROUP_ID,
    CANONICAL_TELEGRAM_ID,
    canonical_document,
    canonical_email,
    canonical_number,
    canonical_telegram_id,
)

# "lid": the WhatsApp gateway said a LID is that number; "manual": chosen by a person.
RULES = ("number", "telegram_id", "cpf_cnpj", "email", "lid", "manual")
BATCH = 5000  # ids per IN (...) list
# Values per look-up on a unique index: with thousands, PostgreSQL's planner
# takes the trigram index instead (benchmarks/README.md, dedup).
LOOKUP_BATCH = 500
STEPS = 5  # of find_duplicates, for its progress


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
    created: dict[int, object] = {}  # contact id -> created_at, for the survivor
    wanted: dict[str, set[str]] = defaultdict(set)  # rule -> canonical values to look up
    progress(0, STEPS)
    _read_odd_writings(base, keys, created, wanted)
    progress(1, STEPS)
    _read_linked_numbers(base, keys, created, wanted)
    _read_aliases(contacts, keys, created, wanted)
    progress(2, STEPS)
    _read_holders(base, keys, created, wanted)
    progress(3, STEPS)
    _read_shared_emails(base, keys, created)
    progress(4, STEPS)
    groups = _connect(keys)
    order_and_count(groups, created)
    progress(STEPS, STEPS)
    return groups


def _odd_writings() -> Q:
    """The rows with a value not in its canonical writing. Numbers and
    e-mails are on nearly every row: they are checked with plain string
    functions, several times cheaper than a regex a row."""
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
    return (
        (~Q(number="") & ~trusted_number)
        | (~Q(telegram_id="") & ~Q(telegram_id__regex=CANONICAL_TELEGRAM_ID))
        | (~Q(cpf_cnpj="") & ~Q(cpf_cnpj__regex=CANONICAL_DOCUMENT))
        | (~Q(email="") & (~Q(email=Lower("email")) | Q(email__contains=" ")))
    )


def _read_odd_writings(base, keys: _Keys, created: dict, wanted: dict) -> None:
    """One pass over the table for every value not in its canonical
    writing, normalised here; its canonical writing is then looked up."""
    rows = base.filter(_odd_writings()).values_list("pk", "is_group", "created_at", "number", "telegram_id", "cpf_cnpj", "email")
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


def _read_linked_numbers(base, keys: _Keys, created: dict, wanted: dict) -> None:
    """Addresses the conversations link to a number: a WhatsApp LID held as
    a contact's number by rows written before LIDs were understood."""
    links = tickets_merging.linked_numbers()
    for chunk in batched(sorted(links), BATCH):
        linked = base.filter(is_group=False, number__in=chunk).exclude(number="")
        for pk, is_group, created_at, number in linked.values_list("pk", "is_group", "created_at", "number"):
            created[pk] = created_at
            keys.add(pk, is_group, "number", links[number])
            wanted["number"].add(links[number])


def _read_aliases(contacts, keys: _Keys, created: dict, wanted: dict) -> None:
    """The addresses earlier merges left to their survivors (those of
    `contacts` only, unless None). A LID is nobody else's by construction
    (one row per LID): no duplicate is found through it."""
    kinds = [ContactIdentity.Kind.NUMBER, ContactIdentity.Kind.TELEGRAM_ID]
    aliases = ContactIdentity.objects.filter(kind__in=kinds, contact__isnull=False).values_list("contact_id", "contact__is_group", "contact__created_at", "kind", "value")
    if contacts is not None:
        aliases = aliases.filter(contact__in=contacts)
    for contact_id, is_group, created_at, kind, value in aliases.iterator(chunk_size=BATCH):
        created[contact_id] = created_at
        keys.add(contact_id, is_group, kind, value)
        wanted[kind].add(value)


def _read_holders(base, keys: _Keys, created: dict, wanted: dict) -> None:
    """The contacts holding the wanted values as written, each found on its
    index (the blank exclusion lets PostgreSQL use the partial ones)."""
    for rule, values in wanted.items():
        for chunk in batched(sorted(values), LOOKUP_BATCH):
            holders = base.filter(**{f"{rule}__in": chunk}).exclude(**{rule: ""})
            for pk, is_group, created_at, value in holders.values_list("pk", "is_group", "created_at", rule):
                created[pk] = created_at
                keys.add(pk, is_group, rule, value)


def _read_shared_emails(base, keys: _Keys, created: dict) -> None:
    """E-mails are not unique: the database groups those written alike."""
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


def _connect(keys: _Keys) -> list[Group]:
    """The contacts joined by the identities held by more than one."""
    shared = ((ids, [rule]) for (_g, rule, _v), ids in keys.holders.items() if len(ids) > 1)
    return [Group(ids, rules) for ids, rules in join_groups(shared)]


def join_groups(sets: Iterable[tuple[Iterable[int], Iterable[str]]]) -> list[tuple[list[int], list[str]]]:
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


def order_and_count(groups: list[Group], created: dict | None = None) -> None:
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
