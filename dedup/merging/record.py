"""Record: what a merge keeps of it. A MergeRecord per group (who, when,
through what, which rules), a MergedContact per contact merged away with a
snapshot of everything it had, and one event in the audit trail per run."""

from audit.models import AuditEvent
from audit.recording import current_actor, current_user
from audit.services import audit_record
from contacts.models import Contact, CustomField, MergedContact, MergeRecord

from .plan import FILLED_FIELDS, Batch, value_of

SNAPSHOT_FIELDS = ["name", *FILLED_FIELDS, "is_group", "created_at"]


def record_merges(batch: Batch) -> None:
    """The batch's merge records, each with a snapshot of every contact it
    merges, taken before anything of theirs changes."""
    actor, user = current_actor(), current_user()
    records = MergeRecord.objects.bulk_create(
        [
            MergeRecord(
                user=user,
                username=user.get_username() if user else "",
                source=actor.source,
                survivor=merge.survivor,
                survivor_name=merge.survivor.name,
                rules=merge.rules,
            )
            for merge in batch.merges
        ]
    )
    record_of = {survivor.pk: record for survivor, record in zip(batch.survivors, records, strict=True)}
    tags_of, tag_names, fields_of, moved = batch.tags_of, batch.tag_names, batch.fields_of, batch.conversations
    snapshots = MergedContact.objects.bulk_create(
        [
            MergedContact(
                record=record_of[merge.survivor.pk],
                contact_id=other.pk,
                name=other.name,
                snapshot=_snapshot(other, [tag_names[t] for t in tags_of[other.pk]], fields_of[other.pk], moved[other.pk]),
            )
            for merge in batch.merges
            for other in merge.others
        ]
    )
    batch.record_of = record_of
    batch.snapshot_of = {row.contact_id: row for row in snapshots}


def record_run(*, parameters: dict, counts: dict) -> None:
    """The run's event in the audit trail."""
    audit_record(action=AuditEvent.Action.REMOVE_DUPLICATES, parameters=parameters, counts=counts)


def _snapshot(contact: Contact, tags: list[str], extras: list[CustomField], moved: dict) -> dict:
    data = {"id": contact.pk}
    for name in SNAPSHOT_FIELDS:
        value = value_of(contact, name)
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    data["wallet"] = contact.wallet.name if contact.wallet_id else ""
    data["tags"] = tags
    data["custom_fields"] = [[extra.name, extra.value] for extra in extras]
    return data | moved
