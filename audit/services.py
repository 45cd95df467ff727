"""Writing the audit trail."""

from collections.abc import Mapping
from typing import Any

from .models import AuditEvent
from .recording import current_actor, current_user


def audit_record(
    *,
    action: str,
    parameters: Mapping[str, Any] | None = None,
    counts: Mapping[str, int] | None = None,
    user=None,
    source: str | None = None,
) -> AuditEvent:
    """Record a bulk or destructive action in the audit trail. The user and
    the source default to those of the current recording (the request, or
    the job's or command's `recording` block)."""
    user = user if user is not None else current_user()
    return AuditEvent.objects.create(
        action=action,
        user=user,
        username=user.get_username() if user is not None else "",
        source=source or current_actor().source,
        parameters=dict(parameters or {}),
        counts=dict(counts or {}),
    )
