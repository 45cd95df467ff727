"""What the concurrency tests share: they run on PostgreSQL, where row locks
are real, each writer in a thread of its own with its own connection."""

import threading

import pytest
from django.db import connection

#: The marks of a module whose tests need PostgreSQL's row locks.
POSTGRES_LOCKS = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite has one writer at a time"),
]


def run_threads(*targets) -> list:
    """Run each target in its own thread (and connection); the errors they raised."""
    errors = []

    def wrap(target):
        try:
            target()
        except Exception as error:  # noqa: BLE001 (returned to the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
