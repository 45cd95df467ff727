"""What apps above contacts keep of a contact that a database cascade does
not remove: files in storage (a ticket's media), registered from their
AppConfig.ready(), like contacts.tabs, so that contacts removes them
without importing those apps. Every writer that deletes contacts (the
panel's delete, the bulk delete) calls contacts_deleting() first, inside
its transaction; a cleanup removes files only once that commits."""

from collections.abc import Callable

from django.db.models import QuerySet

_cleanups: dict[str, Callable] = {}


def register(key: str, cleanup: Callable) -> None:
    """`cleanup(contact_ids=...)` is called with the ids (a list or a
    query set of ids) of contacts about to be deleted."""
    _cleanups[key] = cleanup


def contacts_deleting(*, contact_ids: list[int] | QuerySet) -> None:
    for cleanup in _cleanups.values():
        cleanup(contact_ids=contact_ids)
