"""Changes that touch several rows or files, shared by views, admin,
commands and background jobs. Keyword-only, atomic."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import batched

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from contacts_portal import database

from .deletion import contacts_deleting
from .history import history_bulk_record
from .models import Contact, CustomField, OptOut, Tag, Wallet


def delete_file_after_commit(file) -> None:
    """Remove a stored file once the change that dropped it is committed; a
    rolled-back change keeps it."""
    storage, name = file.storage, file.name
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def contacts_delete(*, contacts: list[Contact] | QuerySet) -> int:
    """Delete contacts with their extra fields and tag links, and their photo
    files (and what other apps keep of them: contacts.deletion) once
    committed; recorded in the audit trail (each contact's last
    values stay in its history). Returns how many contacts were deleted."""
    # Read again under a lock, in id order like every bulk writer: a contact
    # deleted meanwhile is neither counted nor recorded.
    ids = [c.pk for c in contacts]
    contacts = list(Contact.objects.filter(pk__in=ids).select_for_update().order_by("pk"))
    for contact in contacts:
        if contact.photo:
            delete_file_after_commit(contact.photo)
    contacts_deleting(contact_ids=[c.pk for c in contacts])
    deleted = Contact.objects.filter(pk__in=ids).delete()[1]
    count = deleted.get(Contact._meta.label, 0)
    audit_record(
        action=AuditEvent.Action.DELETE,
        parameters={"contacts": [{"id": c.pk, "name": c.name} for c in contacts]},
        counts={"contacts": count},
    )
    return count


@transaction.atomic
def tags_delete(*, tags: list[Tag] | QuerySet) -> int:
    """Delete tags (their links to contacts go with them); recorded in the
    audit trail with how many contacts lost each. Returns the tags deleted."""
    tags = list(Tag.objects.filter(pk__in=[t.pk for t in tags]).annotate(links=Count("contacts")).order_by("pk"))
    Tag.objects.filter(pk__in=[t.pk for t in tags]).delete()
    audit_record(
        action=AuditEvent.Action.DELETE,
        parameters={"tags": [{"id": t.pk, "name": t.name, "contacts": t.links} for t in tags]},
        counts={"tags": len(tags), "contact_links": sum(t.links for t in tags)},
    )
    return len(tags)


@transaction.atomic
def contacts_reassign_wallet(*, source: Wallet, target: Wallet) -> int:
    """Move every contact of `source` to `target` (before `source` can be
    deleted, say), each change in the contact's history; recorded in the
    audit trail. Returns how many contacts moved."""
    if source.pk == target.pk:
        return 0
    # Locked in id order, like every bulk writer.
    contacts = list(Contact.objects.filter(wallet=source).select_for_update().order_by("pk"))
    now = timezone.now()
    for contact in contacts:
        contact.wallet = target
        contact.updated_at = now
    Contact.objects.bulk_update(contacts, ["wallet", "updated_at"], batch_size=1000)
    history_bulk_record(contacts=contacts)
    moved = len(contacts)
    audit_record(
        action=AuditEvent.Action.WALLET_REASSIGN,
        parameters={"from": {"id": source.pk, "name": source.name}, "to": {"id": target.pk, "name": target.name}},
        counts={"contacts": moved},
    )
    return moved


class OptOutLifted(Exception):
    """The opt-out was lifted by someone else meanwhile."""


@transaction.atomic
def opt_out_lift(*, opt_out: OptOut, user, note: str) -> OptOut:
    """An administrator lifts a person's opt-out on a channel, saying why
    (`note`): messages may go to them again without a reason each time.
    Any other active opt-out of the person on that channel (a merge brings
    them together) is lifted with it. Their history keeps who and when;
    the audit trail records it. Raises OptOutLifted when it was lifted
    already."""
    locked = OptOut.objects.select_for_update().filter(pk=opt_out.pk).first()
    if locked is None or not locked.is_active:
        raise OptOutLifted
    same = OptOut.objects.active().select_for_update().filter(contact_id=locked.contact_id, channel_id=locked.channel_id)
    now = timezone.now()
    for each in same.order_by("pk"):
        each.lifted_at = now
        each.lifted_by = user
        each.lifted_by_name = user.get_username() if user is not None else ""
        each.lift_note = note
        each.save(update_fields=["lifted_at", "lifted_by", "lifted_by_name", "lift_note"])
        if each.pk == locked.pk:
            locked = each
    audit_record(
        action=AuditEvent.Action.OPT_OUT_LIFT,
        parameters={"contact": locked.contact_id, "channel": locked.channel_name, "opt_out": locked.pk},
        counts={"opt_outs": 1},
    )
    return locked


@transaction.atomic
def contacts_refresh_search(*, contacts: QuerySet | Iterable[Contact], batch_size: int = 1000) -> int:
    """Recompute the search columns of contacts from what is stored, their
    extra fields included. Every writer that adds, changes or deletes extra
    fields calls it once they are written: the panel's form, Django admin
    (the contact's inline and the extra fields' own pages), importers.
    Contact.save() alone cannot: it runs before the extra fields are saved.

    Contacts are locked in id order, like every bulk writer, so two writers
    refreshing the same contact write what the later one sees. Only changed
    rows are written. Returns how many were."""
    changed = 0
    for ids in _id_batches(contacts, batch_size):
        rows = list(
            Contact.objects.filter(pk__in=ids)
            .select_for_update()
            .order_by("pk")
            .only("name", "first_name", "last_name", "company", "email", "cpf_cnpj", "name_key", "search_text")
        )
        values = defaultdict(list)
        extras = CustomField.objects.filter(contact__in=ids).order_by("contact_id", "pk")
        for contact_id, value in extras.values_list("contact_id", "value"):
            values[contact_id].append(value)
        stale = []
        for contact in rows:
            before = (contact.name_key, contact.search_text)
            contact.refresh_search_fields(values[contact.pk])
            if (contact.name_key, contact.search_text) != before:
                stale.append(contact)
        Contact.objects.bulk_update(stale, ["name_key", "search_text"])
        changed += len(stale)
    return changed


def _id_batches(contacts: QuerySet | Iterable[Contact], size: int) -> Iterator[list[int]]:
    """The contacts' ids in ascending batches; a queryset is read a batch at
    a time."""
    if not isinstance(contacts, QuerySet):
        yield from (list(ids) for ids in batched(sorted({c.pk for c in contacts}), size))
        return
    ids = contacts.order_by("pk").values_list("pk", flat=True)
    last = None
    while True:
        batch = list((ids if last is None else ids.filter(pk__gt=last))[:size])
        if not batch:
            return
        yield batch
        last = batch[-1]


def refresh_planner_statistics() -> None:
    """After a bulk load of contacts: the planner sees their new numbers now."""
    database.refresh_statistics(Contact, Contact.tags.through, CustomField)
