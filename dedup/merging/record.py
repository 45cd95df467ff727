"""Record: what a merge keeps of it. A MergeRecord per group (who, when,
through what, which rules), a MergedContact per contact merged away with a
snapshot of everything it had, and one event in the audit trail per run."""

from audit.models import AuditEvent
from audit.recording import current_actor, current_user
from audit.services import audit_record
from contacts.models import Contact, ContactIdentity, CustomField, MergedContact, MergeRecord, OptOut

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
    others = list(batch.moves)
    belongings = {pk: {"identity_ids": [], "opt_out_ids": []} for pk in others}
    for model, key in ((ContactIdentity, "identity_ids"), (OptOut, "opt_out_ids")):
        for pk, contact_id in model.objects.filter(contact_id__in=others).order_by("pk").values_list("pk", "contact_id"):
            belongings[contact_id][key].append(pk)
    snapshots = MergedContact.objects.bulk_create(
        [
            MergedContact(
                record=record_of[merge.survivor.pk],
                contact_id=other.pk,
                name=other.name,
                snapshot=_snapshot(other, [tag_names[t] for t in tags_of[other.pk]], fields_of[other.pk], moved[other.pk])
                | {
                    "tag_ids": tags_of[other.pk],
                    "custom_field_ids": [extra.pk for extra in fields_of[other.pk]],
                    # The survivor's blanks this contact's values filled.
                    "filled": {name: _plain(value_of(other, name)) for name, donor in merge.fills.items() if donor is other},
                    **belongings[other.pk],
                },
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


def _plain(value):
    """A value as JSON keeps it: dates as ISO text."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def _snapshot(contact: Contact, tags: list[str], extras: list[CustomField], moved: dict) -> dict:
    """Everything the contact had, and what an undo of the merge needs to
    put it back (merges before these keys were kept lack them): its wallet,
    tag, extra field, identity and opt-out ids, the messages it brought,
    the tickets closed into others, the survivor's blanks it filled."""
    data = {"id": contact.pk}
    for name in SNAPSHOT_FIELDS:
        data[name] = _plain(value_of(contact, name))
    data["wallet"] = contact.wallet.name if contact.wallet_id else ""
    data["tags"] = tags
    data["custom_fields"] = [[extra.name, extra.value] for extra in extras]
    return data | moved
