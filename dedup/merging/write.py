"""Write: the merged contacts' last state goes to their history and the
rows go; the survivors take their new values (blanks filled, identities
written canonically, the others' addresses as aliases), in one statement,
and their history records the merge."""

from itertools import batched

from django.db import connection
from django.utils import timezone

from contacts_portal.database import update_rows
from contacts.history import custom_fields_bulk_record, history_bulk_record
from contacts.models import DERIVED_FIELDS, Contact, ContactIdentity

from ..duplicates import CANONICAL, canonical_number, canonical_telegram_id
from ..finding import BATCH
from .plan import FIELD_OF, FILLED_FIELDS, Batch, value_of


def write_departures(batch: Batch) -> None:
    """The history of the contacts merged away, read with their tag links,
    so before those move."""
    record_of, moves = batch.record_of, batch.moves
    history_bulk_record(
        contacts=batch.others,
        history_type="-",
        reasons={other.pk: f"merge:{record_of[moves[other.pk]].pk}" for other in batch.others},
    )


def delete_merged(batch: Batch) -> None:
    """The rows merged away, without the ORM's per-row cascade (which would
    also write a history record a contact: write_departures wrote them in
    bulk); their links have moved or gone already."""
    Contact.objects.filter(pk__in=list(batch.moves))._raw_delete(connection.alias)


def write_survivors(batch: Batch) -> None:
    """The survivors: their blanks filled from the others, oldest first;
    their addresses in their canonical writing; the others' addresses
    their own."""
    for merge in batch.merges:
        for name, donor in merge.fills.items():
            setattr(merge.survivor, name, value_of(donor, name))
    _canonicalise(batch.survivors)
    now = timezone.now()
    aliases = []
    for merge in batch.merges:
        survivor = merge.survivor
        taken = set()
        for other in merge.others:
            for kind, value in _addresses(other):
                if value and value != getattr(survivor, kind) and (kind, value) not in taken:
                    taken.add((kind, value))
                    aliases.append(ContactIdentity(contact=survivor, kind=kind, value=value, merged=batch.snapshot_of[other.pk]))
        survivor.refresh_search_fields(batch.extra_values[survivor.pk])
        survivor.updated_at = now
    for kind in ContactIdentity.Kind.values:
        values = [alias.value for alias in aliases if alias.kind == kind]
        for part in batched(values, BATCH):
            ContactIdentity.objects.filter(kind=kind, value__in=part).delete()
    ContactIdentity.objects.bulk_create(aliases)
    survivors, record_of = batch.survivors, batch.record_of
    update_rows(Contact, survivors, [*(FIELD_OF[name].name for name in FILLED_FIELDS), *DERIVED_FIELDS, "updated_at"])
    history_bulk_record(contacts=survivors, reasons={s.pk: f"merge:{record_of[s.pk].pk}" for s in survivors})
    custom_fields_bulk_record(fields=batch.moved_fields + batch.changed_fields)


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
