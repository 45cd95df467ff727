"""Changes that touch several rows or files, shared by views, admin and
commands. Keyword-only, atomic."""

from django.db import connection, transaction

from .models import Contact


def delete_file_after_commit(file) -> None:
    """Remove a stored file once the change that dropped it is committed; a
    rolled-back change keeps it."""
    storage, name = file.storage, file.name
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def contacts_delete(*, contacts: list[Contact]) -> int:
    """Delete contacts with their extra fields and tag links, and their photo
    files once committed. Returns how many contacts were deleted."""
    for contact in contacts:
        if contact.photo:
            delete_file_after_commit(contact.photo)
    deleted = Contact.objects.filter(pk__in=[c.pk for c in contacts]).delete()[1]
    return deleted.get(Contact._meta.label, 0)


def refresh_planner_statistics() -> None:
    """After a bulk load: let the database's planner see the new sizes now,
    not at the next autovacuum (PostgreSQL) or connection (SQLite)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE contacts_contact, contacts_contact_tags, contacts_customfield")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize=0x10002")
