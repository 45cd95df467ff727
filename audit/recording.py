"""Who is changing things, and through what.

Every write to a model with history (django-simple-history, see
models.historical_records) is recorded together with the user and the
*source*: the panel's form, Django admin, an import, a sync, a merge, an
inbound message or a command. A request sets both through
RecordingMiddleware; commands and background jobs say it themselves:

    with recording(source=Source.IMPORT, user=job.user):
        ...

The audit trail (services.audit_record) reads the same context.
"""

import uuid
from contextlib import contextmanager
from functools import cache
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    PANEL = "panel", _("panel")
    ADMIN = "admin", _("admin")
    IMPORT = "import", _("import")
    SYNC = "sync", _("sync")
    MERGE = "merge", _("merge")
    MESSAGE = "message", _("inbound message")
    COMMAND = "command", _("command")
    BULK = "bulk", _("bulk action")
    SYSTEM = "system", _("system")


@dataclass(frozen=True)
class Actor:
    user: object | None
    source: str
    # One per request, command or job step: the history shows the records of
    # one batch (a save of fields, tags and extra fields) as one change.
    batch: uuid.UUID | None = field(default=None)


# Outside any request or `recording` block (a shell, a migration) changes are
# attributed to nobody, through "system".
_current: ContextVar[Actor] = ContextVar("audit_actor", default=Actor(None, Source.SYSTEM))


def current_actor() -> Actor:
    return _current.get()


def current_user():
    """The recording's user, or None for nobody (or an anonymous request).
    The request's user is lazy: it is looked at only when something is
    recorded."""
    user = _current.get().user
    return user if user is not None and user.is_authenticated else None


@contextmanager
def recording(*, source: str, user=None):
    """Attribute the changes made inside the block to `user` through `source`."""
    token = _current.set(Actor(user, source, uuid.uuid4()))
    try:
        yield
    finally:
        _current.reset(token)


def history_user(instance=None, request=None, **kwargs):
    """simple-history's `get_user`: the user of the current recording."""
    return current_user()


@cache
def _admin_path() -> str:
    """Where the admin lives, without the script prefix (request.path_info
    has none): reversed once, not for every request."""
    from django.urls import get_script_prefix, reverse

    return "/" + reverse("admin:index").removeprefix(get_script_prefix())


class RecordingMiddleware:
    """Changes made by a request are the request user's, through the admin
    under /admin/ and through the panel everywhere else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        source = Source.ADMIN if request.path_info.startswith(_admin_path()) else Source.PANEL
        with recording(source=source, user=getattr(request, "user", None)):
            return self.get_response(request)
