"""Running work again after it lost a race to another writer."""

import pytest
from django.db import IntegrityError, OperationalError, transaction

from contacts_portal.database import is_transient, retrying


class Flaky:
    """Raises `error` the first `failures` times, then answers."""

    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_work_that_lost_a_race_runs_again_until_it_succeeds():
    work = Flaky(2, IntegrityError("taken"))
    assert retrying(work, on=IntegrityError, attempts=3) == "done"
    assert work.calls == 3


def test_the_last_attempts_error_goes_up():
    work = Flaky(5, IntegrityError("taken"))
    with pytest.raises(IntegrityError):
        retrying(work, on=IntegrityError, attempts=3)
    assert work.calls == 3


def test_other_errors_are_not_retried():
    work = Flaky(1, ValueError("bug"))
    with pytest.raises(ValueError):
        retrying(work, on=IntegrityError)
    assert work.calls == 1


def test_only_the_errors_the_condition_names_are_retried():
    work = Flaky(1, OperationalError("disk I/O error"))
    with pytest.raises(OperationalError):
        retrying(work, on=OperationalError, when=is_transient)
    assert work.calls == 1
    assert retrying(Flaky(1, OperationalError("database is locked")), on=OperationalError, when=is_transient) == "done"


@pytest.mark.django_db
def test_atomic_work_runs_again_inside_the_callers_transaction():
    with transaction.atomic():
        assert retrying(Flaky(1, IntegrityError("taken")), on=IntegrityError, atomic=True) == "done"
