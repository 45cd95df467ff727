"""What a failed job tells its user: what happened, in their words, and
what to do. Failures the work foresees say so themselves (JobError); the
others are told apart here by what they are, and whatever is not known
gets one plain message. The exception itself, with its traceback, stays in
the server's log and in Job.error_detail, which administrators read in
Django admin: a class name helps them, not the person who sent a file."""

import errno

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def failure_message(error: BaseException) -> str:
    """The message for an unforeseen failure, in the active language."""
    if isinstance(error, FileNotFoundError):
        days = settings.JOB_FILE_RETENTION_DAYS
        return ngettext(
            "The file this job works on is no longer on the server (files are kept %(days)s day). Send the file again.",
            "The file this job works on is no longer on the server (files are kept %(days)s days). Send the file again.",
            days,
        ) % {"days": days}
    if isinstance(error, MemoryError):
        return _("The file is too big for the server to work on at once. Split it into smaller files and send each one.")
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return _("The server ran out of disk space while writing the file. Tell the administrator, then run it again.")
    if isinstance(error, IntegrityError):
        return _("Someone changed the same contacts at the same moment. Run it again: it will see their changes.")
    if isinstance(error, OperationalError | DatabaseError):
        return _("The database did not answer. Run it again in a few minutes; if it fails again, tell the administrator.")
    return unknown_failure_message()


def unknown_failure_message() -> str:
    return _("Something unexpected went wrong on the server. Run it again; if it fails again, tell the administrator, who can see the details.")
