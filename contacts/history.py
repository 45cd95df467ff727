"""The history of each contact: its fields, tags and extra fields, as
django-simple-history keeps them, read back as a timeline in words.

simple-history writes a record per save (and one more per tag change); a
form or an admin save that touches fields, tags and extra fields at once
makes several records. The timeline shows them as one entry: consecutive
records of the same batch (one request, command or job step, see
audit/recording.py) belong together, and an entry lists the difference
between the state before its first record and after its last.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit.history import history_bulk_write, history_rows
from audit.recording import Source
from contacts_portal import database

from . import normalizers, rules
from .ids import ids_of
from .models import Contact, CustomField, MergeRecord, OptOut, Tag, Wallet

#: The contact fields the timeline speaks of, in the order of the form:
#: the fields people edit (tags have entries of their own), and whether
#: the contact is a group.
TRACKED_FIELDS = [*(name for name in rules.CONTACT_FIELDS if name != "tags"), "is_group"]


def tags_history_model():
    return apps.get_model("contacts", "HistoricalContact_tags")


def history_bulk_record(
    *,
    contacts: list,
    created: bool = False,
    tag_links: list[tuple[int, int, int]] | None = None,
    history_type: str | None = None,
    reasons: dict[int, str] | None = None,
) -> None:
    """Record the current state of many contacts at once, after a bulk
    insert or update, with their tags, attributed to the current recording
    (see audit.history).
    `tag_links` (id, contact id, tag id) are the contacts' tag rows when
    the caller has just written them all; else they are read.
    `history_type` "-" records deletions; `reasons` (contact id -> text)
    fill simple-history's change reason (a merge names its record there)."""
    if not contacts:
        return
    if tag_links is None:
        tag_links = []
        ids = [contact.pk for contact in contacts]
        for start in range(0, len(ids), 5000):
            tag_links += Contact.tags.through.objects.filter(contact_id__in=ids[start : start + 5000]).values_list("id", "contact_id", "tag_id")
    for model, columns, rows in history_bulk_rows(
        contacts=contacts, history_type=history_type or ("+" if created else "~"), tag_links=tag_links, reasons=reasons
    ):
        database.insert(model, columns, rows)


def history_bulk_rows(
    *, contacts: list, history_type: str, tag_links: list[tuple], reasons: dict[int, str] | None = None
) -> list[tuple[type, list[str], Iterable[tuple]]]:
    """The records history_bulk_record writes, not written: (model,
    columns, rows) for the contacts' records, then for their tags' (the
    contacts' tag rows are `tag_links`: id, contact id, tag)."""
    history_model, columns, rows, history_ids = history_rows(
        model=Contact, objects=contacts, history_type=history_type, reasons=reasons, with_ids=True
    )
    record_of = dict(zip((contact.pk for contact in contacts), history_ids, strict=True))
    tag_rows = ((record_of[contact_id], pk, contact_id, tag) for pk, contact_id, tag in tag_links)
    return [(history_model, columns, rows), (tags_history_model(), ["history_id", "id", "contact_id", "tag_id"], tag_rows)]


def custom_fields_bulk_record(*, fields: list[CustomField], created: bool = False) -> None:
    """The same for extra fields written in bulk."""
    history_bulk_write(model=CustomField, objects=fields, history_type="+" if created else "~")


@dataclass
class Change:
    label: str
    old: str = ""
    new: str = ""
    kind: str = "changed"  # changed, added, removed


@dataclass
class Entry:
    """One line of the timeline: who did what, through what, when."""

    date: datetime
    user: object | None
    source: str
    verb: str  # created, changed, deleted, merged; recorded: changed, from an unknown state
    changes: list[Change] = field(default_factory=list)
    # A merge of duplicates into this contact: its record, with a snapshot
    # of each contact merged.
    merge: object | None = None
    # An opt-out asked for or lifted (verbs "opted_out", "opt_out_lifted"):
    # its record as of then.
    opt_out: object | None = None

    @property
    def actor(self) -> str:
        if self.user is not None:
            return self.user.get_full_name() or self.user.get_username()
        return capfirst(Source(self.source).label) if self.source in Source.values else _("System")

    @property
    def through(self) -> str:
        """The source when the actor does not already say it."""
        if self.user is None or self.source not in Source.values:
            return ""
        return str(Source(self.source).label)

    @property
    def sentence(self) -> str:
        if self.verb == "created":
            return _("%(actor)s created the contact") % {"actor": self.actor}
        if self.verb == "deleted":
            return _("%(actor)s deleted the contact") % {"actor": self.actor}
        if self.verb == "merged":
            names = ", ".join(f"“{merged.name}”" for merged in self.merge.contacts.all()) if self.merge else ""
            return _("%(actor)s merged %(names)s into this contact") % {"actor": self.actor, "names": names}
        if self.verb == "opted_out":
            return _("Asked not to receive messages on %(channel)s, writing “%(text)s”") % {
                "channel": self.opt_out.channel_name,
                "text": self.opt_out.evidence,
            }
        if self.verb == "opt_out_lifted":
            return _("%(actor)s lifted the opt-out on %(channel)s: “%(note)s”") % {
                "actor": self.actor,
                "channel": self.opt_out.channel_name,
                "note": self.opt_out.lift_note,
            }
        if self.verb == "recorded":
            return _("%(actor)s changed the contact (its earlier values were not recorded)") % {"actor": self.actor}
        if len(self.changes) == 1:
            return f"{self.actor} {describe(self.changes[0])}"
        return _("%(actor)s changed:") % {"actor": self.actor}

    @property
    def details(self) -> list[str]:
        """The changes, when the sentence does not say them already."""
        if self.verb in ("changed", "recorded") and len(self.changes) == 1:
            return []
        return [capfirst(describe(change)) for change in self.changes]


def describe(change: Change) -> str:
    """"changed Company from “X” to “Y”", as the part after the actor."""
    values = {"field": change.label, "old": change.old, "new": change.new}
    if change.kind == "added":
        return _("added %(field)s “%(new)s”") % values if change.new else _("added %(field)s") % values
    if change.kind == "removed":
        return _("removed %(field)s “%(old)s”") % values if change.old else _("removed %(field)s") % values
    if not change.old:
        return _("filled in %(field)s with “%(new)s”") % values
    if not change.new:
        return _("cleared %(field)s (was “%(old)s”)") % values
    return _("changed %(field)s from “%(old)s” to “%(new)s”") % values


class _Names:
    """Names of wallets and tags by id, read once per timeline; a deleted
    one is named as such."""

    def __init__(self, wallet_ids: Iterable[int], tag_ids: Iterable[int]):
        self.wallets = dict(Wallet.objects.filter(pk__in=set(wallet_ids)).values_list("pk", "name"))
        self.tags = dict(Tag.objects.filter(pk__in=set(tag_ids)).values_list("pk", "name"))

    def wallet(self, pk) -> str:
        if pk is None:
            return ""
        return self.wallets.get(pk) or _("(deleted wallet)")

    def tag(self, pk) -> str:
        return self.tags.get(pk) or _("(deleted tag)")


def _display(name: str, value, names: _Names) -> str:
    if value in (None, ""):
        return ""
    if name == "wallet":
        return names.wallet(value)
    if name == "number":
        return normalizers.format_phone(value)
    if name == "birth_date":
        return formats.date_format(value, "d/m/Y")
    if name == "photo":
        # Never the storage path: it says nothing to a person.
        return _("photo")
    if name == "is_group":
        return _("yes") if value else _("no")
    return str(value)


def _contact_changes(before: dict | None, after: dict, names: _Names) -> list[Change]:
    changes = []
    for name in TRACKED_FIELDS:
        old = _display(name, before.get(name), names) if before else ""
        new = _display(name, after.get(name), names)
        if before is not None and before.get(name) == after.get(name):
            continue
        if before is None and not after.get(name):
            continue  # a new contact's blanks (and "not a group") say nothing
        label = capfirst(Contact._meta.get_field(name).verbose_name)
        if name == "photo":
            kind = "added" if not before or not before.get(name) else ("removed" if not new else "changed")
            changes.append(Change(label, kind=kind))
            continue
        changes.append(Change(label, old, new))
    old_tags = before["tags"] if before else set()
    tag_label = _("the tag")
    for tag_id in sorted(after["tags"] - old_tags, key=names.tag):
        changes.append(Change(tag_label, new=names.tag(tag_id), kind="added"))
    for tag_id in sorted(old_tags - after["tags"], key=names.tag):
        changes.append(Change(tag_label, old=names.tag(tag_id), kind="removed"))
    return changes


def _field_changes(before: dict | None, after: dict | None) -> list[Change]:
    """An extra field ("Adicionar Informação") added, renamed, changed or removed."""
    if before is None and after is None:
        return []
    if before is None:
        return [Change(after["name"], new=after["value"], kind="added")]
    if after is None:
        return [Change(before["name"], old=before["value"], kind="removed")]
    changes = []
    if before["name"] != after["name"]:
        changes.append(Change(_("the name of the field “%(name)s”") % {"name": before["name"]}, before["name"], after["name"]))
    if before["value"] != after["value"]:
        changes.append(Change(after["name"], before["value"], after["value"]))
    return changes


def contact_timeline(contact_id: int) -> list[Entry]:
    """The history of one contact, newest first, one Entry per change."""
    records = _Records(contact_id)
    entries: list[Entry] = []
    state = _State()
    group: list = []
    before = state
    for kind, record in records.events():
        if group and _starts_group(kind, record, group[-1][1]):
            entries.append(_entry(group, before, state, records))
            group = []
        if not group:
            before = state.copy()
        group.append((kind, record))
        state.apply(kind, record, records.tags_of)
    if group:
        entries.append(_entry(group, before, state, records))
    # Newest first; the sort keeps that order among entries of one moment.
    entries = [entry for entry in reversed(entries) if entry is not None] + _opt_out_entries(contact_id)[::-1]
    return sorted(entries, key=lambda entry: entry.date, reverse=True)


def _opt_out_entries(contact_id: int) -> list[Entry]:
    """The person's opt-outs, as asked for and as lifted, from their history."""
    entries = []
    lifted = set()
    records = OptOut.history.model.objects.filter(contact_id=contact_id).select_related("history_user").order_by("history_date", "history_id")
    for record in records:
        if record.history_type == "+":
            entries.append(Entry(record.history_date, record.history_user, record.history_source, "opted_out", opt_out=record))
        elif record.history_type == "~" and record.lifted_at is not None and record.id not in lifted:
            lifted.add(record.id)
            entries.append(Entry(record.history_date, record.history_user, record.history_source, "opt_out_lifted", opt_out=record))
    return entries


class _Records:
    """A contact's history records and extra fields' records, with what
    naming them takes: the tags of each record, the merges they name, the
    names of wallets and tags."""

    def __init__(self, contact_id: int):
        self.contact = list(
            Contact.history.model.objects.filter(id=contact_id)
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        self.tags_of = defaultdict(set)
        for history_id, tag_id in tags_history_model().objects.filter(
            history__in=[r.history_id for r in self.contact]
        ).values_list("history_id", "tag_id"):
            self.tags_of[history_id].add(tag_id)
        self.fields = list(
            CustomField.history.model.objects.filter(contact_id=contact_id)
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        merge_ids = [r.history_change_reason.removeprefix("merge:") for r in self.contact if (r.history_change_reason or "").startswith("merge:")]
        self.merges = {
            f"merge:{record.pk}": record
            for record in MergeRecord.objects.filter(pk__in=ids_of(merge_ids)).prefetch_related("contacts")
        }
        self.names = _Names(
            (r.wallet_id for r in self.contact if r.wallet_id),
            (tag_id for tags in self.tags_of.values() for tag_id in tags),
        )

    def events(self) -> list[tuple[str, object]]:
        """Every record, ("contact" or "field", record), in time order."""
        return sorted(
            [("contact", r) for r in self.contact] + [("field", f) for f in self.fields],
            key=lambda event: (event[1].history_date, event[0] == "field", event[1].history_id),
        )


@dataclass
class _State:
    """The contact and its extra fields as of a record: the contact's
    tracked fields and tags (None once deleted), each extra field's name
    and value by id (None once removed)."""

    contact: dict | None = None
    fields: dict[int, dict | None] = field(default_factory=dict)

    def copy(self) -> "_State":
        # The contact's dict is replaced by each record, never changed.
        return _State(self.contact, dict(self.fields))

    def apply(self, kind: str, record, tags_of: dict[int, set[int]]) -> None:
        if kind == "contact":
            if record.history_type == "-":
                self.contact = None
            else:
                self.contact = {name: getattr(record, _attname(name)) for name in TRACKED_FIELDS}
                self.contact["tags"] = tags_of[record.history_id]
        else:
            self.fields[record.id] = (
                None if record.history_type == "-" else {"name": record.name, "value": record.value}
            )


def _starts_group(kind: str, record, last) -> bool:
    """Whether `record` begins a new entry after the record `last`: records
    of one batch are one entry, unless the contact was created again."""
    return (
        record.history_batch is None
        or record.history_batch != last.history_batch
        or (kind == "contact" and record.history_type == "+")
    )


def _entry(group: list, before: _State, after: _State, records: _Records) -> Entry | None:
    """The entry of a group of records, from the states before its first
    record and after its last; None when it changed nothing shown."""
    first = group[0][1]
    types = {record.history_type for kind, record in group if kind == "contact"}
    changes: list[Change] = []
    if "-" in types and after.contact is None:
        verb = "deleted"
    elif "+" in types and before.contact is None:
        verb = "created"
        changes = _contact_changes(None, after.contact, records.names) if after.contact else []
    elif types and before.contact is None:
        # The first record of a contact written before history was kept
        # (or by a bulk load that kept none): nothing to compare with.
        verb = "recorded"
    else:
        verb = "changed"
        if after.contact is not None and before.contact is not None:
            changes = _contact_changes(before.contact, after.contact, records.names)
    merge = next((records.merges.get(r.history_change_reason) for kind, r in group if kind == "contact" and r.history_change_reason), None)
    if merge is not None and verb in ("changed", "recorded") and after.contact is not None:
        verb = "merged"
    if verb != "deleted":
        for field_id in dict.fromkeys(record.id for kind, record in group if kind == "field"):
            changes += _field_changes(before.fields.get(field_id), after.fields.get(field_id))
    if verb != "changed" or changes:
        return Entry(first.history_date, first.history_user, first.history_source, verb, changes, merge)
    return None


def _attname(name: str) -> str:
    return "wallet_id" if name == "wallet" else name
