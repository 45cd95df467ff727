"""Move: what the merged contacts had goes to their survivor. Tickets and
messages through the tickets app; tags and extra fields united; earlier
merges into them, and the addresses they inherited, follow them. Each
kind of row moves in one statement (`UPDATE … FROM unnest` through the
bulk helpers), whatever the batch's size."""

from collections import defaultdict

from contacts_portal.database import remap, update_rows
from contacts.models import Contact, ContactIdentity, CustomField, MergeRecord, OptOut
from tickets import merging as tickets_merging

from .plan import Batch


def move_conversations(batch: Batch) -> None:
    """Tickets and messages, kept in each merged contact's snapshot."""
    batch.conversations = defaultdict(dict, tickets_merging.move_conversations(moves=batch.moves))


def unite_tags_and_fields(batch: Batch) -> None:
    """Decide the union of tags and of extra fields; a conflicting value is
    kept under the same name with a number. This renames and re-owns the
    others' extra fields, so it comes after their snapshots are taken."""
    Through = Contact.tags.through
    tags_of, fields_of = batch.tags_of, batch.fields_of
    new_links, moved_fields, changed_fields, dropped_fields = [], [], [], []
    for merge in batch.merges:
        survivor, others = merge.survivor, merge.others
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
        batch.extra_values[survivor.pk] = [extra.value for extra in own.values()]
    batch.new_links, batch.moved_fields = new_links, moved_fields
    batch.changed_fields, batch.dropped_fields = changed_fields, dropped_fields


def move_belongings(batch: Batch) -> None:
    """Write the union of tags and extra fields; earlier merges into the
    others, and their earlier addresses, follow them to their survivor."""
    Through = Contact.tags.through
    Through.objects.filter(contact_id__in=list(batch.moves)).delete()
    CustomField.objects.filter(pk__in=[extra.pk for extra in batch.dropped_fields]).delete()
    update_rows(CustomField, batch.moved_fields, ["contact", "name"])
    update_rows(CustomField, batch.changed_fields, ["value"])
    Through.objects.bulk_create(batch.new_links)
    remap(MergeRecord, "survivor", batch.moves)
    remap(ContactIdentity, "contact", batch.moves)
    # A person's wish not to receive messages survives the merge.
    remap(OptOut, "contact", batch.moves)


def _free_name(name: str, taken: set[str]) -> str:
    """"Cidade" -> "Cidade (2)", or the next number not taken."""
    for number in range(2, 1000):
        suffix = f" ({number})"
        candidate = name[: 100 - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
    raise ValueError(name)
